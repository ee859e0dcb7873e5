"""Deadlines for agents played in this process: a step (one call of the agent, or one
simulator step) and an episode may take so long, and a hang becomes one line naming the
task, seed, episode and step instead of an evaluation that never ends.

The step loops stay as tight as they are: nothing is done per step. A timer (SIGALRM,
every ``tick`` seconds) looks at the stack the main thread is on; when it is inside one of
the runner's step loops, it reads that loop's ``step`` (and the episode's ``key``) and
raises :class:`Overtime` once the same step has lasted ``step_seconds`` or the same episode
``episode_seconds``. Who hung is read off the stack too: a frame of the agent's own
methods below the loop means the agent, else the simulator. The timer works where
episodes run in a process's main thread (the local and processes backends, Ray actors);
elsewhere nothing is armed. Submitted agents have the worker's sandbox limits instead.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from time import monotonic
from types import CodeType, FrameType
from typing import Any

from gymarena.errors import AgentError, GymarenaError, RunConfigError, SimulatorError, param

DEFAULT_STEP_SECONDS = 60.0  # a hanging agent is stopped within about a minute
_AGENT_METHODS = ("act", "act_batch", "act_sequence", "reset", "reset_slot", "start_trial", "observe")


@dataclass(frozen=True)
class Deadlines:
    """The longest one step and one episode may take, in seconds (None: no limit)."""

    step_seconds: float | None = DEFAULT_STEP_SECONDS
    episode_seconds: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("step_seconds", self.step_seconds), ("episode_seconds", self.episode_seconds)):
            if value is not None and not value > 0:
                raise RunConfigError(f"{param(name)} must be a positive number of seconds, not {value}")

    @classmethod
    def given(cls, step_seconds: float | None, episode_seconds: float | None) -> Deadlines:
        """The deadlines of the command-line options: None is the default, 0 no limit."""
        step = DEFAULT_STEP_SECONDS if step_seconds is None else step_seconds
        return cls(step if step != 0 else None, episode_seconds if episode_seconds != 0 else None)

    @property
    def tick(self) -> float:
        """How often the timer looks: a quarter of the shortest limit, between 50 ms and 1 s."""
        shortest = min(v for v in (self.step_seconds, self.episode_seconds) if v is not None)
        return min(1.0, max(0.05, shortest / 4))


DEFAULT_DEADLINES = Deadlines()
NO_DEADLINES = Deadlines(step_seconds=None, episode_seconds=None)


class Overtime(BaseException):
    """Raised in the main thread by the timer; ``error`` is the one-line error to report. A
    BaseException: the loops' ``except Exception`` around agent calls must not wrap it."""

    def __init__(self, error: GymarenaError):
        super().__init__(str(error))
        self.error = error


def _loop_codes() -> frozenset[CodeType]:
    """The step loops whose progress the timer reads."""
    from gymarena.runner import batched, multiagent, rollout

    return frozenset({rollout._closed_loop.__code__, rollout._open_loop.__code__, rollout.run_episode.__code__,
                      multiagent.run_parallel_episode.__code__, batched.BatchPlay.play.__code__})


class _Watch:
    """The timer's memory between ticks: which step of which loop it last saw, and since when."""

    def __init__(self, deadlines: Deadlines):
        self.deadlines = deadlines
        self.loops = _loop_codes()
        self.step_mark: Any = None
        self.step_since = 0.0
        self.episode_mark: Any = None
        self.episode_since = 0.0

    def on_tick(self, signum: int, frame: FrameType | None) -> None:
        stack = []
        while frame is not None and frame.f_code not in self.loops:
            stack.append(frame)
            frame = frame.f_back
        if frame is None:  # not playing (recording, loading, between episodes)
            self.step_mark = self.episode_mark = None
            return
        local = frame.f_locals
        now = monotonic()
        step_mark = (id(frame), local.get("step"), local.get("started"))
        if step_mark != self.step_mark:
            self.step_mark, self.step_since = step_mark, now
        episode_mark = (id(frame), local.get("key"))
        if episode_mark != self.episode_mark:
            self.episode_mark, self.episode_since = episode_mark, now
        limits = self.deadlines
        if limits.step_seconds is not None and now - self.step_since >= limits.step_seconds:
            raise Overtime(self._step_error(local, stack, limits.step_seconds))
        if limits.episode_seconds is not None and local.get("key") is not None \
                and now - self.episode_since >= limits.episode_seconds:
            raise Overtime(AgentError(f"an episode of {_where(local)} took longer than --episode-seconds "
                                      f"{limits.episode_seconds:g}; give a larger limit if it needs longer"))

    def _step_error(self, local: dict[str, Any], stack: list[FrameType], seconds: float) -> GymarenaError:
        agent = local.get("agent") or getattr(local.get("self"), "agent", None)
        agent_codes = {getattr(getattr(type(agent), name, None), "__code__", None) for name in _AGENT_METHODS}
        name = local.get("agent_name") or getattr(local.get("self"), "agent_name", "the agent")
        if any(f.f_code in agent_codes for f in stack):
            return AgentError(f"agent {name} did not answer within --step-seconds {seconds:g} on {_where(local)}; "
                              "give a larger limit if it needs longer")
        return SimulatorError(f"the simulator's step did not return within --step-seconds {seconds:g} on "
                              f"{_where(local)}; give a larger limit if it needs longer")


def _where(local: dict[str, Any]) -> str:
    from gymarena.runner.rollout import where

    task, key = local.get("task"), local.get("key")
    if task is not None and key is not None:
        return where(task, key, local.get("step") or 0)
    return f"{task.id} (batched play)" if task is not None else "its task"


@contextlib.contextmanager
def enforced(deadlines: Deadlines) -> Iterator[None]:
    """Arm the timer for the block (in the main thread only; elsewhere nothing is armed).
    An :class:`Overtime` raised in the block comes out as its one-line error."""
    if deadlines == NO_DEADLINES or threading.current_thread() is not threading.main_thread():
        yield
        return
    watch = _Watch(deadlines)
    previous = signal.signal(signal.SIGALRM, watch.on_tick)
    previous_timer, started = signal.getitimer(signal.ITIMER_REAL), monotonic()
    signal.setitimer(signal.ITIMER_REAL, deadlines.tick, deadlines.tick)
    try:
        yield
    except Overtime as overtime:
        raise overtime.error from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if previous_timer[0] > 0:  # an alarm someone else had set (a test runner's timeout) goes on
            left = previous_timer[0] - (monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), previous_timer[1])
