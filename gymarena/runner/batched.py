"""Batched play: N envs of one task in lockstep, one ``act_batch`` call per step for all.

Each slot of the batch plays its own episode: the (seed, episode) of its key, reset with
that episode's seed exactly as unbatched play resets it. When a slot's episode ends it
takes the next key of the queue, so each episode of the fixed per-seed quota is played
once (SB3's ``evaluate_policy`` and Sample Factory count the same way; a VecEnv that
autoresets would over-count short episodes). For an agent whose action for a row depends
on that row alone, the records equal those of unbatched play, field for field, but for
``wall_seconds``: in batched play that is the episode's share of the lockstep's time (each
step's time split between the slots that played it), so the shares of a batch add up to
its wall time.

The agent sees one row per slot, stacked as ``gymnasium.vector`` stacks observations
(arrays with a leading axis, dicts and tuples of them); it returns one action per row. A
slot whose episode ended with no key left keeps its last observation in its row; its
action is ignored. ``reset_slot(slot, seed)``, when the agent has it, says which slot
starts which episode (per-slot state of a recurrent policy starts there).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from gymarena.errors import AgentError, GymarenaError, SimulatorCrashed, SimulatorError
from gymarena.protocol import episode_seed
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.rollout import (
    ActionCheck,
    agent_failed,
    crashed_record,
    finished_record,
    invalid_action,
    reset_env,
    where,
)
from gymarena.tasks import TaskSpec

_ARRAY_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


class SlotEnvs(Protocol):
    """The envs of a batch's slots: made when first wanted, replaced after a crash."""

    def env(self, slot: int) -> Any: ...

    def discard(self, slot: int) -> None: ...


def unbatched_reason(task: TaskSpec) -> str | None:
    """Why ``task``'s episodes are played one at a time even with ``--batch``, or None."""
    if task.agents == "multi":
        return "multi-agent"
    if task.trial is not None:
        return "played in trials"
    return None


@dataclass(slots=True)
class _Slot:
    """The episode a slot is playing."""

    key: EpisodeKey
    seed: int
    env: Any
    total: float = 0.0
    reward: float = 0.0
    steps: int = 0
    seconds: float = 0.0  # its share of the lockstep's time so far


class Stacker:
    """Observations of a batch's slots as one batch (``gymnasium.vector.utils.concatenate``)."""

    def __init__(self, task: TaskSpec, space: spaces.Space, rows: int):
        self.space, self.rows = space, rows
        try:
            create_empty_array(space, rows)
        except Exception as exc:
            raise GymarenaError(f"{task.id}'s observations ({space}) have no batched form in gymnasium.vector "
                                f"({type(exc).__name__}); evaluate it without --batch") from None

    def stack(self, observations: Sequence[Any]) -> Any:
        return concatenate(self.space, observations, create_empty_array(self.space, self.rows))


class Splitter:
    """``act_batch``'s answer as one action per row: a stacked batch (an array with a
    leading axis for array spaces; a dict or tuple of such for composite ones), or a list."""

    def __init__(self, space: spaces.Space, rows: int, agent_name: str):
        self.space, self.rows, self.agent_name = space, rows, agent_name
        self.batched_space = None if isinstance(space, _ARRAY_SPACES) else batch_space(space, rows)

    def split(self, actions: Any, task: TaskSpec) -> Sequence[Any]:
        split: Any
        if isinstance(actions, list):
            split = actions
        elif self.batched_space is None:
            split = np.asarray(actions)
            if split.ndim == 0:
                split = [split]  # a lone action: reported below as the wrong count
        else:
            try:
                split = list(iterate(self.batched_space, actions))
            except Exception as exc:
                raise AgentError(f"agent {self.agent_name} returned from act_batch on {task.id} something that does "
                                 f"not split into {self.rows} actions of {self.space}: {type(exc).__name__}: {exc}") from None
        if len(split) != self.rows:
            raise AgentError(f"agent {self.agent_name} returned {len(split)} actions from act_batch on {task.id} "
                             f"for a batch of {self.rows} observations")
        return split


class BatchCheck:
    """Which rows of a stacked batch of actions are in the action space: one vectorised test
    for Box and Discrete spaces (the same rules as the per-action check of unbatched play:
    shape, bounds, no NaN; integers in range); None (ask the per-action check) otherwise."""

    def __init__(self, space: spaces.Space, rows: int):
        self.space, self.rows = space, rows

    def valid_rows(self, actions: Any) -> np.ndarray | None:
        if not isinstance(actions, np.ndarray):
            return None
        space = self.space
        if isinstance(space, spaces.Box):
            if actions.shape != (self.rows, *space.shape) or actions.dtype.kind not in "fiu":
                return None
            inside = (actions >= space.low) & (actions <= space.high)
            return np.asarray(inside.reshape(self.rows, -1).all(axis=1))
        if isinstance(space, spaces.Discrete):
            if actions.shape != (self.rows,) or actions.dtype.kind not in "iu":
                return None
            return np.asarray((actions >= space.start) & (actions < space.start + space.n))
        return None


def _playing(task: TaskSpec, slots: Sequence[_Slot | None]) -> str:
    shown = [f"slot {i}: seed {s.key.seed}, episode {s.key.episode}, step {s.steps}"
             for i, s in enumerate(slots) if s is not None]
    more = f"; {len(shown) - 3} more" if len(shown) > 3 else ""
    return f"{task.id} ({'; '.join(shown[:3])}{more})"


class BatchPlay:
    """One batch of ``len(keys)`` episodes of ``task`` on at most ``batch`` slots."""

    def __init__(self, envs: SlotEnvs, agent: Any, task: TaskSpec, keys: Sequence[EpisodeKey], batch: int,
                 check: ActionCheck, agent_name: str):
        self.envs, self.agent, self.task, self.check, self.agent_name = envs, agent, task, check, agent_name
        self.queue = deque(keys)
        self.rows = min(batch, len(keys))
        self.slots: list[_Slot | None] = [None] * self.rows
        self.observations: list[Any] = [None] * self.rows
        self.reset_slot: Callable[..., Any] | None = getattr(agent, "reset_slot", None)

    def _start(self, index: int) -> list[EpisodeRecord]:
        """Give slot ``index`` the next key (the slot goes idle when none is left); the records
        of episodes whose simulator process died in their reset on the way."""
        self.slots[index] = None
        crashed: list[EpisodeRecord] = []
        while self.queue:
            key = self.queue.popleft()
            seed = episode_seed(key.seed, key.episode)
            started = perf_counter()
            if self.reset_slot is not None:
                try:
                    self.reset_slot(index, seed=seed)
                except Exception as exc:
                    raise agent_failed(self.agent_name, exc, f"in reset_slot({index}) on {where(self.task, key, 0)}") from exc
            env = self.envs.env(index)
            try:
                observation, _ = reset_env(env, seed, self.task, key)
            except SimulatorError as exc:
                if not isinstance(exc.__cause__, SimulatorCrashed):
                    raise
                self.envs.discard(index)
                crashed.append(crashed_record(key, perf_counter() - started, exc.__cause__.cause))
                continue
            self.observations[index] = observation
            self.slots[index] = _Slot(key, seed, env, seconds=perf_counter() - started)
            break
        return crashed

    def _act(self, stacker: Stacker, splitter: Splitter) -> Sequence[Any]:
        observations = self.observations
        if any(o is None for o in observations):  # a slot idle from the start shows a playing slot's row
            shown = next(o for o in observations if o is not None)
            observations = [shown if o is None else o for o in observations]
        try:
            return splitter.split(self.agent.act_batch(stacker.stack(observations)), self.task)
        except AgentError:
            raise
        except Exception as exc:
            raise agent_failed(self.agent_name, exc, f"in act_batch on {_playing(self.task, self.slots)}") from exc

    def play(self) -> Iterator[EpisodeRecord]:
        """The batch's records, each as its episode ends."""
        if not self.rows:
            return
        first = self.envs.env(0)
        stacker = Stacker(self.task, first.observation_space, self.rows)
        splitter = Splitter(first.action_space, self.rows, self.agent_name)
        batch_check = BatchCheck(first.action_space, self.rows)
        for index in range(self.rows):
            yield from self._start(index)
        task, check, slots, observations = self.task, self.check, self.slots, self.observations
        while any(slot is not None for slot in slots):
            started = perf_counter()
            actions = self._act(stacker, splitter)
            valid = batch_check.valid_rows(actions)
            ended: list[tuple[int, Any]] = []  # (slot, crash cause or the episode's last flags and info)
            playing = 0
            for index, slot in enumerate(slots):
                if slot is None:
                    continue
                playing += 1
                action = actions[index]
                if not (valid[index] if valid is not None else check(action)):
                    raise invalid_action(slot.env, task, slot.key, slot.steps, action, self.agent_name)
                try:
                    observation, reward, terminated, truncated, info = slot.env.step(action)
                except SimulatorCrashed as exc:
                    self.envs.discard(index)
                    ended.append((index, exc.cause))
                    continue
                except Exception as exc:
                    raise SimulatorError(f"{task.id} raised {type(exc).__name__} in step on "
                                         f"{where(task, slot.key, slot.steps)}: {exc}") from exc
                slot.total += reward
                slot.reward = reward
                slot.steps += 1
                observations[index] = observation
                if terminated or truncated:
                    ended.append((index, (terminated, truncated, info)))
            share = (perf_counter() - started) / max(playing, 1)
            for slot in slots:
                if slot is not None:
                    slot.seconds += share
            for index, end in ended:
                slot = slots[index]
                assert slot is not None  # it played this step
                if isinstance(end, str):
                    yield crashed_record(slot.key, slot.seconds, end)
                else:
                    terminated, truncated, info = end
                    played = (slot.total, slot.reward, slot.steps, terminated, truncated, info)
                    yield finished_record(task, slot.key, slot.seed, played, slot.seconds)
                yield from self._start(index)
