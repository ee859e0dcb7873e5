"""Backends: where episodes run. Each yields EpisodeRecords as episodes finish.

``local`` runs in this process; ``processes`` (runner/processes.py) runs N worker
processes, each an :class:`EpisodeWorker`; ``isolated`` (runner/isolated.py) supervises
workers one episode at a time so a simulator crash fails only its episode. All give
identical records for the same plan because every episode is seeded on its own (see
:func:`rollout.episode_seed`). On any of them a simulator may run in its family's runtime
(gymarena/runtimes/); if that process dies, its episode is recorded as failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from time import perf_counter
from typing import Any

from gymarena.agents import AgentSource
from gymarena.errors import AgentLoadError, GymarenaError, SimulatorCrashed, SimulatorError
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.batched import BatchPlay, unbatched_reason
from gymarena.runner.deadlines import DEFAULT_DEADLINES, Deadlines, enforced
from gymarena.runner.multiagent import action_checks, agent_spaces, run_parallel_episode
from gymarena.runner.rollout import action_check, crashed_record, run_episode
from gymarena.runner.trials import run_trial
from gymarena.seeding import remember
from gymarena.tasks import TaskSpec

BACKENDS = ("local", "processes", "isolated", "ray")
SEED_WINDOW = 4096  # episodes whose seeds a worker computes at once (gymarena/seeding.py)


@dataclass(frozen=True)
class PlayOptions:
    """How a worker plays: simulators in their family's runtime (True), in process (False)
    or as the family says (None); up to ``batch`` episodes of a task in lockstep
    (runner/batched.py); the torch ``device`` of agents that take one."""

    isolated: bool | None = None
    batch: int = 1
    device: str | None = None
    deadlines: Deadlines = DEFAULT_DEADLINES  # how long a step and an episode may take (runner/deadlines.py)


PLAY_AS_FAMILIES_SAY = PlayOptions()  # the default: in process or isolated as each family says, unbatched


@dataclass
class _Loaded:
    """The current task's agent and envs: slot 0's env is the one unbatched play uses;
    batched play adds one per slot."""

    task: TaskSpec
    envs: list[Any]
    agent: Any
    check: Any  # an ActionCheck, or one per agent id on multi-agent tasks
    play: Callable[..., list[EpisodeRecord]]


def _one(play: Callable[..., EpisodeRecord]) -> Callable[..., list[EpisodeRecord]]:
    return lambda *args: [play(*args)]


class EpisodeWorker:
    """Plays episodes, keeping the envs and agent of the task it last played."""

    def __init__(self, agent: AgentSource, tasks: Mapping[str, TaskSpec], options: PlayOptions = PLAY_AS_FAMILIES_SAY):
        self.agent_source = agent
        self.tasks = tasks
        self.options = options
        self.current: _Loaded | None = None
        self._device: str | None = None

    def _make_env(self, task: TaskSpec) -> Any:
        from gymarena.wrappers import make_env

        try:
            return make_env(task, isolated=self.options.isolated)
        except GymarenaError:
            raise
        except Exception as exc:
            raise SimulatorError(f"{task.id} could not be made: {type(exc).__name__}: {exc}") from exc

    def _make_agent(self, task: TaskSpec, observation_space: Any, action_space: Any) -> Any:
        if self.options.device is not None and self._device is None:
            from gymarena.devices import resolve_device

            self._device = resolve_device(self.options.device)
        return self.agent_source.make(task, observation_space, action_space, device=self._device)

    def _switch_to(self, task: TaskSpec) -> _Loaded:
        self.close()
        env = self._make_env(task)
        if task.agents == "multi":
            observation_spaces, action_spaces = agent_spaces(env)
            agent = self._make_agent(task, observation_spaces, action_spaces)
            self.current = _Loaded(task, [env], agent, action_checks(action_spaces), _one(run_parallel_episode))
        else:
            agent = self._make_agent(task, env.observation_space, env.action_space)
            play = run_trial if task.trial is not None else _one(run_episode)
            self.current = _Loaded(task, [env], agent, action_check(env.action_space), play)
        return self.current

    def _loaded(self, task: TaskSpec) -> _Loaded:
        if self.current is None or self.current.task.id != task.id:
            return self._switch_to(task)
        return self.current

    def run(self, key: EpisodeKey) -> list[EpisodeRecord]:
        """The records of one unit of work: an episode, or a whole trial on trial tasks."""
        task = self.tasks[key.task_id]
        loaded = self._loaded(task)
        started = perf_counter()
        try:
            return loaded.play(self.env(0), loaded.agent, task, key, loaded.check, self.agent_source.reference)
        except SimulatorError as exc:  # a runtime's env server died: this unit fails, the run goes on
            crash = exc if isinstance(exc, SimulatorCrashed) else exc.__cause__
            if not isinstance(crash, SimulatorCrashed):
                raise
            self.close()
            return [crashed_record(key, perf_counter() - started, crash.cause)]

    def play(self, keys: Sequence[EpisodeKey]) -> Iterator[list[EpisodeRecord]]:
        """The records of each unit of ``keys``, as units end. With a batch size above 1, each
        run of consecutive keys of one task is played in lockstep where it can be (not at
        decision intervals above 1, nor where :func:`~gymarena.runner.batched.unbatched_reason`
        says why not), one at a time where not."""
        with enforced(self.options.deadlines):
            for start in range(0, len(keys), SEED_WINDOW):  # seeds in bulk, a bounded number at a time
                window = keys[start:start + SEED_WINDOW]
                remember((key.seed, key.episode) for key in window)
                yield from self._play_window(window)

    def _play_window(self, keys: Sequence[EpisodeKey]) -> Iterator[list[EpisodeRecord]]:
        batch = self.options.batch
        for (task_id, interval), group in groupby(keys, key=attrgetter("task_id", "decision_interval")):
            task = self.tasks[task_id]
            if batch == 1 or interval != 1 or unbatched_reason(task) is not None:
                for key in group:
                    yield self.run(key)
                continue
            loaded = self._loaded(task)
            if not callable(getattr(loaded.agent, "act_batch", None)):
                raise AgentLoadError(f"agent {self.agent_source.reference!r} has no act_batch(observations), which "
                                     "--batch needs (README: Agents, batched play); drop --batch to play it one "
                                     "episode at a time")
            batched = BatchPlay(self, loaded.agent, task, list(group), batch, loaded.check, self.agent_source.reference)
            for record in batched.play():
                yield [record]

    def env(self, slot: int) -> Any:
        """The current task's env of batch slot ``slot`` (0: unbatched play's), made when first wanted."""
        loaded = self.current
        assert loaded is not None  # a task is loaded before its envs are wanted
        while len(loaded.envs) <= slot:
            loaded.envs.append(None)
        if loaded.envs[slot] is None:
            loaded.envs[slot] = self._make_env(loaded.task)
        return loaded.envs[slot]

    def discard(self, slot: int) -> None:
        """Drop the env of ``slot`` (its simulator process died); the next use makes a new one."""
        loaded = self.current
        if loaded is not None and slot < len(loaded.envs) and loaded.envs[slot] is not None:
            env, loaded.envs[slot] = loaded.envs[slot], None
            with contextlib.suppress(Exception):  # a dead runtime may fail to close; it is gone either way
                env.close()

    def close(self) -> None:
        if self.current is not None:
            for env in self.current.envs:
                if env is not None:
                    env.close()
            close_agent = getattr(self.current.agent, "close", None)
            if callable(close_agent):  # optional: an agent holding a process or files
                close_agent()
            self.current = None


def run_local(
    agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], options: PlayOptions = PLAY_AS_FAMILIES_SAY
) -> Iterator[EpisodeRecord]:
    worker = EpisodeWorker(agent, tasks, options)
    try:
        for records in worker.play(keys):
            yield from records
    finally:
        worker.close()


def run_backend(
    backend: str, agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], workers: int,
    options: PlayOptions = PLAY_AS_FAMILIES_SAY, address: str | None = None,
) -> Iterator[EpisodeRecord]:
    """The records of ``keys`` played on ``backend`` as ``options`` say; ``address`` names the
    Ray cluster of the ray backend (default: a local instance)."""
    if backend == "local":
        return run_local(agent, tasks, keys, options)
    if backend == "processes":
        from gymarena.runner.processes import run_processes

        return run_processes(agent, tasks, keys, workers, options)
    if backend == "isolated":
        from gymarena.runner.isolated import run_isolated

        return run_isolated(agent, tasks, keys, workers, options)
    if backend == "ray":
        from gymarena.runner.ray_backend import run_ray

        return run_ray(agent, tasks, keys, workers, options, address)
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
