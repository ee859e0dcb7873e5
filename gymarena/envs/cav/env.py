"""One test as a Gymnasium env: the agent drives the AV, BVs follow the NDD (``mode="nde"``),
NADE's importance sampling (``mode="nade"``) or NADE over the adaptive mode's surrogates
at equal coefficients (``mode="adaptive"``; refitting them takes many tests: ``gymarena cav test``).

Observation: the AV's local state (avs.OBSERVATION: speed, lane, which side lanes exist,
and the gap and speed of the leader and follower in each lane). Action: a Box of
(acceleration in [-4, 2] m/s^2, lane change in [-1, 1]: below -0.5 right, above 0.5 left).
Reward: -1 on a crash, 0 otherwise. An episode is one test: it ends on a crash or when the
AV has driven the segment (terminated), or at the time limit (truncated). Its metrics:
``crash`` (and ``safe``, its negation: the success), the importance ``weight`` (1 under NDE), ``controlled`` decisions, distance
driven. Batches of tests for crash-rate estimation run vectorised (``gymarena cav test``);
this env is for agents trained or evaluated one test at a time, and for drawing a test.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from gymarena.envs.cav.adaptive import MODES, make_controller
from gymarena.envs.cav.avs import ACCELERATION_LIMITS, OBSERVATION_SIZE
from gymarena.envs.cav.ndd import DEFAULT_NDD, load_ndd
from gymarena.envs.cav.render import draw_frame
from gymarena.envs.cav.sim import Road, av_observations, initial_batch, step
from gymarena.success import METRICS_KEY


def lane_change_of(value: float) -> int:
    return 1 if value > 0.5 else (-1 if value < -0.5 else 0)


class CavEnv(gymnasium.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, mode: str = "nde", ndd: str | None = None, epsilon: float = 0.1, lanes: int = 2,
                 distance: float = 400.0, render_mode: str | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode, self.epsilon, self.render_mode = mode, epsilon, render_mode
        self.ndd = load_ndd(ndd or DEFAULT_NDD)
        self.road = Road(lanes=lanes, distance=distance)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (OBSERVATION_SIZE,), np.float64)
        self.action_space = gymnasium.spaces.Box(np.array([ACCELERATION_LIMITS[0], -1.0]),
                                                 np.array([ACCELERATION_LIMITS[1], 1.0]), dtype=np.float64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.batch = initial_batch(self.road, 1, self.np_random)
        # (adaptive: one test cannot adapt, so equal betas; `gymarena cav test` refits them)
        self.controller = make_controller(self.mode, self.ndd, self.epsilon)
        if hasattr(self.controller, "start"):
            self.controller.start(self.batch)
        return av_observations(self.batch)[0], {}

    def step(self, action: Any):
        action = np.asarray(action, dtype=float).reshape(-1)
        policy = lambda observations: (np.array([action[0]]), np.array([lane_change_of(action[1])]))  # noqa: E731
        step(self.batch, policy, self.controller)
        crashed = bool(self.batch.crashed[0])
        done = not self.batch.active[0]
        truncated = done and not crashed and self.batch.x[0, 0] < self.road.distance
        info: dict[str, Any] = {"weight": self._weight()}
        if done:
            info[METRICS_KEY] = {"crash": crashed, "safe": not crashed, "weight": self._weight(),
                                 "controlled": int(getattr(self.controller, "controlled", [0])[0]),
                                 "distance": round(float(self.batch.x[0, 0]), 3)}
        return av_observations(self.batch)[0], -1.0 if crashed else 0.0, done and not truncated, truncated, info

    def _weight(self) -> float:
        return float(getattr(self.controller, "weights", np.ones(1))[0])

    def render(self):
        return draw_frame(self.batch.x[0], self.batch.lane[0], self.road, bool(self.batch.crashed[0]))
