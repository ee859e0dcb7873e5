"""The ``ray`` backend: the processes backend's chunks of whole episodes as Ray tasks, on a
local Ray instance or an existing cluster (``address``: ``auto`` or ``ray://host:port``).

Each Ray worker process keeps one :class:`EpisodeWorker` per (agent, tasks) and plays
chunks of episodes sized to carry at least ~``CHUNK_SECONDS`` of work (Ray's per-task
overhead is milliseconds; one remote call per step would drown in it). Records stream
back as chunks finish. A chunk whose worker dies is retried by Ray (``max_retries``):
it is played again from its first episode, and since episodes are reproducible from
their seeds and the store skips episodes it already has, nothing is stored twice or lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gymarena.agents import AgentSource, load_agent
from gymarena.errors import GymarenaError, SimulatorError
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.backends import PLAY_AS_FAMILIES_SAY, EpisodeWorker, PlayOptions
from gymarena.runner.processes import ChunkSizer
from gymarena.tasks import TaskSpec

CHUNK_SECONDS = 0.1
MAX_RETRIES = 3
_WORKERS: dict[tuple, EpisodeWorker] = {}  # per Ray worker process


def _play_chunk(agent_reference: str, tasks: dict[str, TaskSpec], options: PlayOptions,
                keys: list[EpisodeKey]) -> list[list[EpisodeRecord]]:
    """Runs in a Ray worker: the records of each unit of ``keys``."""
    import gymarena  # noqa: F401  registers the catalog in this worker

    cache_key = (agent_reference, tuple(sorted(tasks)), options)
    worker = _WORKERS.get(cache_key)
    if worker is None:
        worker = _WORKERS[cache_key] = EpisodeWorker(load_agent(agent_reference), tasks, options)
    return list(worker.play(keys))


def connect(address: str | None, workers: int) -> Any:
    """The ray module, connected: to ``address`` if given, else to a local instance of
    ``workers`` CPUs (reusing one already started in this process)."""
    try:
        import ray
    except ImportError:
        raise GymarenaError("the ray backend needs Ray: pip install 'gymarena[ray]'") from None
    if not ray.is_initialized():
        import logging

        # Ray's own start-up lines (a local instance started, its token setup) are not results: errors only.
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        if address:
            try:
                ray.init(address=address, **options)
            except (ConnectionError, ImportError, ValueError, RuntimeError) as exc:
                raise GymarenaError(f"cannot connect to the Ray cluster at {address!r}: {type(exc).__name__}: {exc}; "
                                    "check the address (auto from a node of the cluster, or ray://head-node:10001) "
                                    "and that gymarena[ray] is installed (Ray Client needs ray[client])") from None
        else:
            ray.init(num_cpus=workers, **options)
    return ray


def run_ray(agent: AgentSource, tasks: Mapping[str, TaskSpec], keys: Sequence[EpisodeKey], workers: int,
            options: PlayOptions = PLAY_AS_FAMILIES_SAY, address: str | None = None) -> Iterator[EpisodeRecord]:
    """Episodes as Ray tasks, at most ``2 x workers`` chunks in flight; records as chunks finish."""
    if not keys:
        return
    ray = connect(address, workers)
    play = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(_play_chunk)
    pending = deque(keys)
    sizer = ChunkSizer(CHUNK_SECONDS)
    tasks = dict(tasks)
    in_flight: list[Any] = []
    try:
        while pending or in_flight:
            while pending and len(in_flight) < 2 * workers:
                chunk = [pending.popleft() for _ in range(min(sizer.size(options.batch), len(pending)))]
                in_flight.append(play.remote(agent.reference, tasks, options, chunk))
            done, in_flight = ray.wait(in_flight, num_returns=1)
            try:
                results = ray.get(done[0])
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if isinstance(getattr(exc, "cause", None), GymarenaError) else None
                raise (cause or SimulatorError(f"a Ray task failed: {exc}")) from None
            except ray.exceptions.WorkerCrashedError as exc:
                raise SimulatorError(f"a Ray worker died {MAX_RETRIES + 1} times playing the same episodes: {exc}") from None
            sizer.observe(results)
            for records in results:
                yield from records
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
