"""Rankings cached per suite and recomputed only when the suite's runs change.

A ranking reads per-seed means (one SQL aggregate over the ranked runs' episodes) and
bootstraps them; the cache key is the suite's complete-run count, newest complete run
and latest update (one indexed query), so a page view costs that query while no run of
the suite completed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from gymarena.leaderboard.ranking import (
    RANKING_REPS,
    SuiteRanking,
    leaderboard,
    rank_suite,
)
from gymarena.results import ResultsStore


class RankingCache:
    def __init__(self, reps: int = RANKING_REPS):
        self.reps = reps
        self._entries: dict[str, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def memo(self, key: str, version: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, or what it gave last time for ``key`` if ``version`` is unchanged."""
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        value = compute()
        with self._lock:
            self._entries[key] = (version, value)
        return value

    def verified(self, store: ResultsStore, suite: str) -> SuiteRanking | None:
        """The ranking of verified runs, under the suite's current hidden seeds (None before any)."""
        from gymarena.runner.plan import suite_protocol
        from gymarena.suites import load_suite

        loaded = load_suite(suite)
        seeds = store.submissions.current_hidden_seeds(loaded.label)
        if seeds is None:
            return None

        def compute() -> SuiteRanking:
            protocol = [task.stored() for task in suite_protocol(loaded.label, tuple(seeds))]
            return rank_suite(store, loaded.label, protocol, loaded.ranking, self.reps)

        return self.memo(f"{loaded.label} verified {seeds}", store.suite_version(loaded.label), compute)

    def ranking(self, store: ResultsStore, suite: str) -> SuiteRanking:
        """The suite's ranking, from the cache when no run of it completed since."""
        from gymarena.errors import UnknownSuiteError
        from gymarena.suites import load_suite

        try:
            label = load_suite(suite).label
            return self.memo(label, store.suite_version(label), lambda: leaderboard(store, label, reps=self.reps))
        except UnknownSuiteError:  # stored runs of a suite this server does not have: rank under their newest protocol
            version = store.suite_version(suite)
            if version[0] == 0:
                raise
            return self.memo(suite, version, lambda: rank_suite(store, suite, reps=self.reps))
