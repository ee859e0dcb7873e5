"""The ``isolated`` backend: every episode in a supervised worker process, so that a
simulator that crashes (segfault, abort) costs that episode and not the run.

Workers are spawned processes that each hold one env and agent (an
:class:`~gymarena.runner.backends.EpisodeWorker`) and play one episode per message over a
pipe. When a worker dies mid-episode the supervisor records that episode as failed, with
the signal that killed the process, starts a fresh worker and goes on. Errors the worker
reports itself (the agent raised, an invalid action) still end the run, as on the other
backends. Families whose simulators are known to crash (NetHack) use this backend by
default; ``--backend isolated`` selects it for any task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from time import perf_counter
from typing import Any

from gymarena.agents import AgentSource, load_agent
from gymarena.errors import GymarenaError, RunConfigError, param
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.backends import PLAY_AS_FAMILIES_SAY, EpisodeWorker, PlayOptions
from gymarena.runner.rollout import crashed_record
from gymarena.tasks import TaskSpec

ISOLATED_UNBATCHED = ("the isolated backend plays one episode per worker message, so that a crashing simulator costs "
                      f"one episode; {param('batch')} would put several in one process: drop {param('batch')}, or "
                      f"choose {param('backend')} processes to batch them anyway")


def _serve(connection: Connection, agent_reference: str, tasks: Mapping[str, TaskSpec], options: PlayOptions) -> None:
    """Worker process: play the episodes it is sent until it is sent None."""
    try:
        import gymarena  # noqa: F401  registers the catalog in this fresh interpreter

        worker = EpisodeWorker(load_agent(agent_reference), tasks, options)
    except Exception as exc:
        connection.send(("error", _as_error(exc, "worker process failed to start")))
        return
    while (key := connection.recv()) is not None:
        try:
            connection.send(("records", worker.run(key)))
        except Exception as exc:
            connection.send(("error", _as_error(exc, "worker process failed")))
    worker.close()


def _as_error(exc: Exception, context: str) -> GymarenaError:
    return exc if isinstance(exc, GymarenaError) else GymarenaError(f"{context}: {type(exc).__name__}: {exc}")


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


@dataclass
class _Slot:
    """One worker process and the episode it is playing, if any."""

    process: Any
    connection: Connection
    key: EpisodeKey | None = None
    started: float = field(default=0.0)


class _Supervisor:
    def __init__(self, agent: AgentSource, tasks: Mapping[str, TaskSpec], options: PlayOptions):
        self.context = multiprocessing.get_context("spawn")
        self.agent_reference = agent.reference
        self.tasks = dict(tasks)
        self.options = options

    def start(self) -> _Slot:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, self.agent_reference, self.tasks, self.options),
                                       daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    @staticmethod
    def stop(slot: _Slot) -> None:
        with contextlib.suppress(OSError, EOFError):
            slot.connection.send(None)
        slot.process.join(timeout=5)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join()
        slot.connection.close()


def run_isolated(
    agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], workers: int,
    options: PlayOptions = PLAY_AS_FAMILIES_SAY,
) -> Iterator[EpisodeRecord]:
    """Episodes one at a time on ``workers`` supervised processes; a crash fails only its episode
    (so episodes are never batched here: one process holding N would lose N)."""
    if options.batch != 1:
        raise RunConfigError(ISOLATED_UNBATCHED)
    if not keys:
        return
    supervisor = _Supervisor(agent, tasks, options)
    pending = deque(keys)
    slots = [supervisor.start() for _ in range(min(workers, len(keys)))]
    try:
        while pending or any(s.key is not None for s in slots):
            for slot in slots:
                if slot.key is None and pending:
                    slot.key, slot.started = pending.popleft(), perf_counter()
                    slot.connection.send(slot.key)
            busy = [s for s in slots if s.key is not None]
            wait([s.connection for s in busy] + [s.process.sentinel for s in busy])
            for index, slot in enumerate(slots):
                if slot.key is None:
                    continue
                message = _receive(slot)
                if message is None and slot.process.is_alive():
                    continue  # still playing
                if message is None or message is _BROKEN:  # the process died: this episode is lost, the run goes on
                    slot.process.join()
                    yield crashed_record(slot.key, perf_counter() - slot.started, _death(slot.process.exitcode))
                    slot.connection.close()
                    slots[index] = supervisor.start()
                    continue
                kind, payload = message
                if kind == "error":
                    raise payload
                slot.key = None
                yield from payload
    finally:
        for slot in slots:
            supervisor.stop(slot)


_BROKEN = ("broken", None)


def _receive(slot: _Slot) -> tuple[str, Any] | None:
    """The worker's message if one is waiting, None if none is, ``_BROKEN`` if the pipe broke."""
    try:
        if slot.connection.poll():
            return slot.connection.recv()
    except (EOFError, OSError):
        return _BROKEN
    return None
