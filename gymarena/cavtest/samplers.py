"""The BV sampler of each testing mode, batch by batch: one interface for the modes that
learn between batches (adaptive, AdaTE) and those that do not (NDE, NADE).

A learning sampler's controller for batch i depends on batches 0..i-1, so continuing or
replaying a run plays the earlier batches again (batch i is drawn from (seed, i): the same
batches) to restore what it had learned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymarena.envs.cav.adaptive import SURROGATES, BetaFitter, make_controller
from gymarena.envs.cav.ndd import NDD
from gymarena.envs.cav.sim import Batch, Road

MODES = {"nde": "cav/Highway2Lane-NDE-v0", "nade": "cav/Highway2Lane-NADE-v0", "adaptive": "cav/Highway2Lane-Adaptive-v0",
         "adate": "cav/Highway2Lane-AdaTE-v0"}
LEARNING_MODES = ("adaptive", "adate")  # their importance functions are refitted between batches (need the QP solver)


@dataclass
class Sampler:
    """Hands out each batch's BV controller and learns from the finished batch."""

    mode: str
    ndd: NDD
    epsilon: float
    road: Road = field(default_factory=Road)
    state: Any = None

    def __post_init__(self) -> None:
        if self.mode == "adaptive":
            self.state = BetaFitter(len(SURROGATES))
        elif self.mode == "adate":
            from gymarena.envs.cav.adate import AdaTELearner

            self.state = AdaTELearner(self.ndd, epsilon=self.epsilon)

    @property
    def learns(self) -> bool:
        return self.mode in LEARNING_MODES

    def controller(self) -> Any:
        """The next batch's controller, fixed for the whole batch (so its weights are exact)."""
        if self.mode == "adate":
            return self.state.controller()
        return make_controller(self.mode, self.ndd, self.epsilon, self.state.betas if self.mode == "adaptive" else None)

    def observe(self, controller: Any, batch: Batch) -> None:
        if self.mode == "adaptive":
            self.state.observe(controller, batch, self.road)
        elif self.mode == "adate":
            self.state.observe(controller, batch)


def used_betas(controller: Any) -> np.ndarray | None:
    """The coefficients a learning mode's batch ran with, stored with each test: the
    adaptive mode's surrogate betas; AdaTE's constant term, then its surrogate betas."""
    if hasattr(controller, "coefficients"):
        return controller.coefficients
    return getattr(controller, "betas", None) if len(getattr(controller, "surrogates", ())) > 1 else None
