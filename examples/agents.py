"""Example agents for `gymarena eval --agent examples/agents.py:ATTR`.

Copy this file to start your own: an agent needs `reset(seed)` and `act(observation)`,
and is made by a factory `make_agent(task, observation_space, action_space)` or by a
class whose constructor takes those three arguments (or none).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


class StickyRandom:
    """Random actions that repeat the previous one with probability `stickiness`.

    Seeded by `reset`, so the same seeds give the same episodes.
    """

    def __init__(self, action_space: spaces.Space, stickiness: float = 0.5):
        self.action_space = action_space
        self.stickiness = stickiness

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.action_space.seed(int(self.rng.integers(2**31)))
        self.previous = None

    def act(self, observation):
        if self.previous is None or self.rng.random() >= self.stickiness:
            self.previous = self.action_space.sample()
        return self.previous


def make_agent(task, observation_space, action_space):
    """The factory gymarena calls once per task (per worker process)."""
    return StickyRandom(action_space)
