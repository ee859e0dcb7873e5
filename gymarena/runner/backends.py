"""Backends: where episodes run. Each yields EpisodeRecords as episodes finish.

``local`` runs in this process; ``processes`` (runner/processes.py) runs N worker
processes, each an :class:`EpisodeWorker`; ``isolated`` (runner/isolated.py) supervises
workers one episode at a time so a simulator crash fails only its episode. All give
identical records for the same plan because every episode is seeded on its own (see
:func:`rollout.episode_seed`). On any of them a simulator may run in its family's runtime
(gymarena/runtimes/); if that process dies, its episode is recorded as failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from time import perf_counter
from typing import Any, NamedTuple

from gymarena.agents import AgentSource
from gymarena.errors import GymarenaError, SimulatorCrashed, SimulatorError
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.multiagent import action_checks, agent_spaces, run_parallel_episode
from gymarena.runner.rollout import action_check, crashed_record, run_episode
from gymarena.runner.trials import run_trial
from gymarena.tasks import TaskSpec

BACKENDS = ("local", "processes", "isolated", "ray")


class _Loaded(NamedTuple):
    task_id: str
    env: Any
    agent: Any
    check: Any  # an ActionCheck, or one per agent id on multi-agent tasks
    play: Callable[..., list[EpisodeRecord]]


def _one(play: Callable[..., EpisodeRecord]) -> Callable[..., list[EpisodeRecord]]:
    return lambda *args: [play(*args)]


class EpisodeWorker:
    """Plays episodes, keeping the env and agent of the task it last played."""

    def __init__(self, agent: AgentSource, tasks: Mapping[str, TaskSpec], isolated: bool | None = None):
        self.agent_source = agent
        self.tasks = tasks
        self.isolated = isolated  # simulators in their family's runtime (None: as the family says)
        self.current: _Loaded | None = None

    def _switch_to(self, task: TaskSpec):
        from gymarena.wrappers import make_env

        self.close()
        try:
            env = make_env(task, isolated=self.isolated)
        except GymarenaError:
            raise
        except Exception as exc:
            raise SimulatorError(f"{task.id} could not be made: {type(exc).__name__}: {exc}") from exc
        if task.agents == "multi":
            observation_spaces, action_spaces = agent_spaces(env)
            agent = self.agent_source.make(task, observation_spaces, action_spaces)
            self.current = _Loaded(task.id, env, agent, action_checks(action_spaces), _one(run_parallel_episode))
        else:
            agent = self.agent_source.make(task, env.observation_space, env.action_space)
            play = run_trial if task.trial is not None else _one(run_episode)
            self.current = _Loaded(task.id, env, agent, action_check(env.action_space), play)

    def run(self, key: EpisodeKey) -> list[EpisodeRecord]:
        """The records of one unit of work: an episode, or a whole trial on trial tasks."""
        task = self.tasks[key.task_id]
        if self.current is None or self.current.task_id != task.id:
            self._switch_to(task)
        loaded = self.current
        assert loaded is not None  # _switch_to made it
        started = perf_counter()
        try:
            return loaded.play(loaded.env, loaded.agent, task, key, loaded.check, self.agent_source.reference)
        except SimulatorError as exc:  # a runtime's env server died: this unit fails, the run goes on
            crash = exc if isinstance(exc, SimulatorCrashed) else exc.__cause__
            if not isinstance(crash, SimulatorCrashed):
                raise
            self.close()
            return [crashed_record(key, perf_counter() - started, crash.cause)]

    def close(self) -> None:
        if self.current is not None:
            self.current.env.close()
            close_agent = getattr(self.current.agent, "close", None)
            if callable(close_agent):  # optional: an agent holding a process or files
                close_agent()
            self.current = None


def run_local(
    agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], isolated: bool | None = None
) -> Iterator[EpisodeRecord]:
    worker = EpisodeWorker(agent, tasks, isolated)
    try:
        for key in keys:
            yield from worker.run(key)
    finally:
        worker.close()


def run_backend(
    backend: str, agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], workers: int,
    isolated: bool | None = None, address: str | None = None,
) -> Iterator[EpisodeRecord]:
    """The records of ``keys`` played on ``backend``; ``isolated`` puts every simulator in its
    family's runtime (True), none (False), or those of isolated families (None); ``address``
    names the Ray cluster of the ray backend (default: a local instance)."""
    if backend == "local":
        return run_local(agent, tasks, keys, isolated)
    if backend == "processes":
        from gymarena.runner.processes import run_processes

        return run_processes(agent, tasks, keys, workers, isolated)
    if backend == "isolated":
        from gymarena.runner.isolated import run_isolated

        return run_isolated(agent, tasks, keys, workers, isolated)
    if backend == "ray":
        from gymarena.runner.ray_backend import run_ray

        return run_ray(agent, tasks, keys, workers, isolated, address)
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
