"""Agents used by the tests, loaded through the public file.py:attr reference form."""

from __future__ import annotations

import os
import time

import numpy as np


class FirstActionAgent:
    """Always the same valid action; constructed with no arguments."""

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return 0


def make_random(task, observation_space, action_space):
    """A seeded random agent written as a factory, as a user would."""
    return SeededRandom(action_space)


class SeededRandom:
    def __init__(self, action_space):
        self.space = action_space

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, observation):
        if hasattr(self.space, "n"):
            return int(self.rng.integers(self.space.n))
        return self.rng.uniform(self.space.low, self.space.high).astype(self.space.dtype)


class SlowRandom(SeededRandom):
    """Sleeps at each reset so that a test can kill a run midway through."""

    def __init__(self, task, observation_space, action_space):
        super().__init__(action_space)

    def reset(self, seed=None):
        time.sleep(float(os.environ.get("GYMARENA_TEST_AGENT_SLEEP", "0.05")))
        super().reset(seed)


class RaisesAtStep:
    """Raises on the fifth step of the third episode it plays."""

    def __init__(self, task, observation_space, action_space):
        self.episodes = 0
        self.steps = 0

    def reset(self, seed=None):
        self.episodes += 1
        self.steps = 0

    def act(self, observation):
        self.steps += 1
        if self.episodes == 3 and self.steps == 5:
            raise RuntimeError("policy network exploded")
        return 0


class OutOfSpace:
    """Returns an action outside a Discrete(2) space on the third step."""

    def __init__(self, task, observation_space, action_space):
        self.steps = 0

    def reset(self, seed=None):
        self.steps = 0

    def act(self, observation):
        self.steps += 1
        return 7 if self.steps == 3 else 1


class NoActMethod:
    def __init__(self, task, observation_space, action_space):
        pass


not_callable = 42


class KillsItsProcess(SeededRandom):
    """Kills the process it runs in at its third episode, as a simulator segfault would."""

    def __init__(self, task, observation_space, action_space):
        super().__init__(action_space)
        self.episodes = 0

    def reset(self, seed=None):
        self.episodes += 1
        if self.episodes == 3:
            os.kill(os.getpid(), 9)
        super().reset(seed)


class ZeroTorque:
    """Applies no torque: open loop or closed loop, the same trajectory at every decision interval."""

    def __init__(self, task, observation_space, action_space):
        self.action = np.zeros(action_space.shape, dtype=action_space.dtype)

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return self.action


class PlansSequences:
    """Plans whole action sequences; logs each decision's length to $GYMARENA_TEST_DECISIONS."""

    def __init__(self, task, observation_space, action_space):
        self.space = action_space

    def _log(self, length):
        with open(os.environ["GYMARENA_TEST_DECISIONS"], "a") as log:
            log.write(f"{length}\n")

    def reset(self, seed=None):
        pass

    def act(self, observation):
        self._log(1)
        return np.zeros(self.space.shape, dtype=self.space.dtype)

    def act_sequence(self, observation, length):
        self._log(length)
        return [np.full(self.space.shape, (-1) ** i, dtype=self.space.dtype) for i in range(length)]
