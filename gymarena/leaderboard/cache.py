"""Rankings cached per suite and recomputed only when the suite's runs change.

A ranking reads per-seed means (one SQL aggregate over the ranked runs' episodes) and
bootstraps them; the cache key is the suite's complete-run count, newest complete run
and latest update (one indexed query), so a page view costs that query while no run of
the suite completed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from gymarena.leaderboard.ranking import (
    RANKING_REPS,
    SuiteRanking,
    leaderboard,
    rank_suite,
)
from gymarena.results import ResultsStore

log = logging.getLogger(__name__)


class RankingCache:
    """Values recomputed when their version changes. With ``serve_stale`` (the server's
    setting) a changed value is recomputed in the background, once at a time and at most
    every ``min_refresh_seconds``, while readers keep getting the previous one: a stream
    of finishing runs never makes page views wait for rankings, nor keeps the server busy
    recomputing them. Only the very first computation of a key is waited for."""

    def __init__(self, reps: int = RANKING_REPS, serve_stale: bool = False, min_refresh_seconds: float = 0.0):
        self.reps = reps
        self.serve_stale = serve_stale
        self.min_refresh_seconds = min_refresh_seconds
        self._entries: dict[str, tuple[Hashable, Any]] = {}
        self._refreshing: set[str] = set()
        self._refreshed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def memo(self, key: str, version: Hashable, compute: Callable[[], Any], stale_ok: bool = True) -> Any:
        """``compute()``, or what it gave last time for ``key`` if ``version`` is unchanged
        (or, serving stale and ``stale_ok``, while its recomputation runs)."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] != version and self.serve_stale and stale_ok:
                recent = time.monotonic() - self._refreshed_at.get(key, float("-inf")) < self.min_refresh_seconds
                if key not in self._refreshing and not recent:
                    self._refreshing.add(key)
                    threading.Thread(target=self._refresh, args=(key, version, compute), daemon=True).start()
                return cached[1]
        if cached is not None and cached[0] == version:
            return cached[1]
        value = compute()
        with self._lock:
            self._entries[key] = (version, value)
        return value

    def _refresh(self, key: str, version: Hashable, compute: Callable[[], Any]) -> None:
        try:
            value = compute()
            with self._lock:
                self._entries[key] = (version, value)
        except Exception:  # the next request after a change tries again
            log.exception("recomputing %s failed", key)
        finally:
            with self._lock:
                self._refreshing.discard(key)
                self._refreshed_at[key] = time.monotonic()

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
