"""Commit episode records as they finish, batching only those that finish in a burst.

A record is committed when it arrives unless the previous commit was less than
``interval`` seconds ago; then it waits for the next arrival (or the end) and goes
in the same transaction. A slow task (MuJoCo, ~1 s episodes) thus commits every episode
on its own the moment it ends; a fast one (CartPole, ~0.2 ms episodes) pays one
transaction per ``interval`` instead of one per episode. A killed process loses at most
the episodes of the last ``interval`` of play, which a resume plays again.

No background thread: on this harness's 2-core machines an idle extra thread alone
slowed the CartPole runner by ~10% (bench/runner_overhead.py).
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from gymarena.records import EpisodeRecord

DEFAULT_INTERVAL = 0.05


class RecordWriter:
    def __init__(self, sink: Callable[[list[EpisodeRecord]], None], interval: float = DEFAULT_INTERVAL):
        self._sink = sink
        self._interval = interval
        self._pending: list[EpisodeRecord] = []
        self._last_commit = float("-inf")

    def put(self, record: EpisodeRecord) -> None:
        self._pending.append(record)
        now = monotonic()
        if now - self._last_commit >= self._interval:
            self.flush()
            self._last_commit = now

    def flush(self) -> None:
        """Commit every pending record in one transaction."""
        if self._pending:
            batch, self._pending = self._pending, []
            self._sink(batch)

    def close(self) -> None:
        self.flush()
