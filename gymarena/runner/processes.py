"""The ``processes`` backend: whole episodes on N spawned worker processes.

Each worker holds one env and one agent at a time (an :class:`EpisodeWorker`) and plays
chunks of episodes, so IPC happens per chunk, never per step. Chunks start at one
episode and grow until a chunk takes about ``CHUNK_SECONDS``, so slow tasks report every
episode as it ends while fast ones amortise the round trip.

A worker that dies (a simulator segfault, the OOM killer, a script without the
``if __name__ == "__main__":`` guard that spawn needs) ends the run with an error
instead of hanging it: ``concurrent.futures`` reports a broken pool where
``multiprocessing.Pool`` would wait forever for the lost task.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from gymarena.agents import AgentSource, load_agent
from gymarena.errors import GymarenaError, SimulatorError
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.backends import PLAY_AS_FAMILIES_SAY, EpisodeWorker, PlayOptions
from gymarena.tasks import TaskSpec

CHUNK_SECONDS = 0.05
MAX_CHUNK = 64

_WORKER: EpisodeWorker | None = None
_WORKER_START_ERROR: GymarenaError | None = None


def _init_worker(agent_reference: str, tasks: Mapping[str, TaskSpec], options: PlayOptions) -> None:
    # An initializer that raises breaks the whole pool with a vague message, so a
    # failure is kept and raised, with its own message, by the first chunk instead.
    global _WORKER, _WORKER_START_ERROR
    try:
        import gymarena  # noqa: F401  registers the catalog in this fresh interpreter

        _WORKER = EpisodeWorker(load_agent(agent_reference), tasks, options)
    except GymarenaError as exc:
        _WORKER_START_ERROR = exc
    except Exception as exc:
        _WORKER_START_ERROR = GymarenaError(f"worker process failed to start: {type(exc).__name__}: {exc}")


def _run_chunk(keys: list[EpisodeKey]) -> list[list[EpisodeRecord]]:
    if _WORKER_START_ERROR is not None:
        raise _WORKER_START_ERROR
    if _WORKER is None:
        raise GymarenaError("the worker process was not initialised")
    return list(_WORKER.play(keys))


class ChunkSizer:
    """Work units (episodes, or trials) per chunk, from the mean wall time of those seen so
    far, so a chunk carries about ``target_seconds`` of work."""

    def __init__(self, target_seconds: float = 0.05) -> None:
        self.target_seconds = target_seconds
        self.units = 0
        self.seconds = 0.0

    def observe(self, results: list[list[EpisodeRecord]]) -> None:
        self.units += len(results)
        self.seconds += sum(r.wall_seconds for records in results for r in records)

    def size(self, batch: int = 1) -> int:
        """Units for the next chunk; with a batch size, at least one per slot (and up to four
        batches, so a batch's slots are refilled as its episodes end)."""
        if self.units == 0 or self.seconds <= 0:
            return batch
        wanted = int(self.target_seconds / (self.seconds / self.units))
        return max(batch, min(max(MAX_CHUNK, 4 * batch), wanted))


def _broken(exc: BrokenProcessPool) -> SimulatorError:
    return SimulatorError(
        "a worker process died while playing episodes (a simulator crash or the OOM killer; when calling "
        f"gymarena.evaluate with workers from a script, guard the call with `if __name__ == \"__main__\":`): {exc}"
    )


def run_processes(
    agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], workers: int,
    options: PlayOptions = PLAY_AS_FAMILIES_SAY,
) -> Iterator[EpisodeRecord]:
    """Episodes on ``workers`` spawned processes; records arrive as chunks finish."""
    if not keys:
        return
    pending = deque(keys)  # plan order, so a worker mostly stays on one task
    sizer = ChunkSizer(CHUNK_SECONDS)
    in_flight: set[Future] = set()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=(agent.reference, dict(tasks), options),
    )
    try:
        while pending or in_flight:
            while pending and len(in_flight) < 2 * workers:
                chunk = [pending.popleft() for _ in range(min(sizer.size(options.batch), len(pending)))]
                in_flight.add(pool.submit(_run_chunk, chunk))
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                results = future.result()
                sizer.observe(results)
                for records in results:
                    yield from records
    except BrokenProcessPool as exc:
        raise _broken(exc) from None
    finally:
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
