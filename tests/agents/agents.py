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


class SlotRandom(SeededRandom):
    """A seeded random agent with a batched form: one generator per slot, seeded when the
    slot starts an episode, as a user's stochastic batched policy would be."""

    def __init__(self, task, observation_space, action_space):
        super().__init__(action_space)
        self.slots = {}

    def reset_slot(self, slot, seed=None):
        self.slots[slot] = SeededRandom(self.space)
        self.slots[slot].reset(seed)

    def act_batch(self, observations):
        rows = len(next(iter(observations.values()))) if isinstance(observations, dict) else len(observations)
        return [self.slots[slot].act(None) for slot in range(rows)]


class Counting:
    """A stateful policy: its action depends on the step count of the episode it plays, and on
    the observation's sign. In batched play each slot counts its own steps from reset_slot,
    so it plays what the unbatched agent plays only if every slot's start is reported."""

    def __init__(self, task, observation_space, action_space):
        self.space = action_space
        self.steps = 0
        self.slot_steps = {}

    def _action(self, steps, observation):
        flat = np.asarray(observation, dtype=float).reshape(-1)
        if hasattr(self.space, "n"):
            return int((steps // 3 + (flat[0] > 0)) % self.space.n)
        return np.full(self.space.shape, np.tanh(flat[0] + steps / 10.0), dtype=self.space.dtype).clip(
            self.space.low, self.space.high)

    def reset(self, seed=None):
        self.steps = 0

    def act(self, observation):
        self.steps += 1
        return self._action(self.steps, observation)

    def reset_slot(self, slot, seed=None):
        self.slot_steps[slot] = 0

    def act_batch(self, observations):
        actions = []
        for slot, observation in enumerate(observations):
            self.slot_steps[slot] = self.slot_steps.get(slot, 0) + 1
            actions.append(self._action(self.slot_steps[slot], observation))
        return np.stack(actions)


class BatchOutOfSpace(Counting):
    """Batched: returns an action outside Discrete(2) at step 4 of seed 1's episode 2."""

    def reset_slot(self, slot, seed=None):
        super().reset_slot(slot, seed)
        self.slot_seeds = getattr(self, "slot_seeds", {})
        self.slot_seeds[slot] = seed

    def act_batch(self, observations):
        from gymarena.protocol import episode_seed

        actions = super().act_batch(observations)
        for slot, seed in self.slot_seeds.items():
            if seed == episode_seed(1, 2) and self.slot_steps[slot] == 5:
                actions[slot] = 7
        return actions


class BatchRaises(Counting):
    """Batched: raises on its tenth call of act_batch."""

    calls = 0

    def act_batch(self, observations):
        self.calls += 1
        if self.calls == 10:
            raise ValueError("batched forward pass failed")
        return super().act_batch(observations)


class BatchTooFew(Counting):
    """Batched: returns one action fewer than there are observations."""

    def act_batch(self, observations):
        return super().act_batch(observations)[:-1]


def make_on_device(task, observation_space, action_space, device="default"):
    """A factory that takes a device: records the one it was given in $GYMARENA_TEST_DEVICE."""
    with open(os.environ["GYMARENA_TEST_DEVICE"], "a") as log:
        log.write(f"{device}\n")
    return Counting(task, observation_space, action_space)


class HangsInAct(SeededRandom):
    """Hangs (a busy loop of Python, then a sleep) at the fourth step of the second episode it plays."""

    def __init__(self, task, observation_space, action_space):
        super().__init__(action_space)
        self.episodes = 0

    def reset(self, seed=None):
        self.episodes += 1
        self.steps = 0
        super().reset(seed)

    def act(self, observation):
        self.steps += 1
        if self.episodes == 2 and self.steps == 4:
            while True:
                time.sleep(0.5)
        return super().act(observation)
