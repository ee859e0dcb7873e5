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


class BatchedLinear:
    """A fixed linear policy on the flattened observation, with a batched form.

    `act_batch` takes one row per slot of `gymarena eval --batch N` and answers them with
    one matrix product; `act` is the same policy for one observation, so batched and
    unbatched evaluation store the same episodes. Box observations only.
    """

    def __init__(self, task, observation_space: spaces.Box, action_space: spaces.Space):
        self.action_space = action_space
        outputs = action_space.n if isinstance(action_space, spaces.Discrete) else int(np.prod(action_space.shape))
        self.weights = np.random.default_rng(0).normal(size=(int(np.prod(observation_space.shape)), outputs))

    def reset(self, seed: int | None = None) -> None:
        pass  # deterministic and memoryless: nothing to start

    def act_batch(self, observations: np.ndarray) -> np.ndarray:
        scores = observations.reshape(len(observations), -1) @ self.weights
        if isinstance(self.action_space, spaces.Discrete):
            return self.action_space.start + scores.argmax(axis=1)
        low, high = self.action_space.low, self.action_space.high
        return (low + (np.tanh(scores) + 1) / 2 * (high - low)).reshape(len(observations), *self.action_space.shape)

    def act(self, observation: np.ndarray):
        return self.act_batch(np.asarray(observation)[None])[0]
