"""What a serving process keeps between page views.

``Memo`` keeps a value per key while its version holds (rendered pages, plots, JSON
bodies), dropping the least recently used beyond a bound. ``StoredPages`` hands out a
suite's stored leaderboard page (results/snapshots.py): one primary-key lookup per view
to see whether the refresher wrote a newer one, the payload re-read only then.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from gymarena.leaderboard.refresher import RankingRefresher, installed_label
from gymarena.results import ResultsStore
from gymarena.results.snapshots import RankingSnapshot


class Memo:
    """Values computed once per (key, version); at most ``max_entries`` keys are kept."""

    def __init__(self, max_entries: int = 1_000):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, or what it gave last time for ``key`` if ``version`` is unchanged."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] == version:
                self._entries.move_to_end(key)
                return cached[1]
        value = compute()
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


class StoredPages:
    """Suites' leaderboard pages as the refresher stored them. A suite never computed
    yet (a fresh database, a suite just installed) is computed here once and stored."""

    def __init__(self, store: ResultsStore, refresher: RankingRefresher):
        self.store = store
        self.refresher = refresher
        self._pages = Memo()

    def get(self, suite: str) -> RankingSnapshot:
        """The stored page of ``suite`` (``name`` or ``name@N``; UnknownSuiteError if none)."""
        label = installed_label(suite) or suite
        serial = self.store.snapshots.serial(label)
        if serial is None:
            self.refresher.refresh(label)
            serial = self.store.snapshots.serial(label)
        return self._pages.get(label, serial, lambda: self.store.snapshots.get(label))
