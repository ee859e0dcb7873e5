"""An environment whose native side 'crashes': it aborts the process in one chosen episode."""

from __future__ import annotations

import os

import gymnasium
import numpy as np


class AbortsInOneEpisode(gymnasium.Env):
    """Ten-step episodes; the episode reset with ``abort_seed`` calls os.abort() at step 3."""

    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, abort_seed: int = -1):
        self.abort_seed = abort_seed
        self.doomed = False

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        self.doomed = seed == self.abort_seed
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps += 1
        if self.doomed and self.steps == 3:
            os.abort()
        return np.zeros(2, np.float32), 1.0, False, self.steps >= 10, {}
