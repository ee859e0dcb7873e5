"""One AdaTE test as a Gymnasium env (``cav/Highway2Lane-AdaTE-v0``): the agent drives the AV
among BVs steered by AdaTE's controller before it has learned anything (equal surrogate
coefficients, no learned Q_AV, so no gap to explore). One test cannot adapt: learning happens
between batches of tests, in ``gymarena cav test --mode adate``."""

from __future__ import annotations

from gymarena.envs.cav.adate import AdaTEBVs
from gymarena.envs.cav.env import CavEnv


class AdaTEEnv(CavEnv):
    def __init__(self, ndd: str | None = None, epsilon: float = 0.1, lanes: int = 2, distance: float = 400.0,
                 render_mode: str | None = None):
        super().__init__("nade", ndd, epsilon, lanes, distance, render_mode)
        self.mode = "adate"

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observation, info = super().reset(seed=seed, options=options)
        self.controller = AdaTEBVs(self.ndd, self.epsilon)
        self.controller.start(self.batch)
        return observation, info
