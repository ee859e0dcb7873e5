"""Stored leaderboard pages (``ranking_snapshots``): the SQL behind the ranking refresher.

A suite's page (its rankings, seed commitments and plot) is computed by one refresher
and read by every serving process, so a bootstrap over hundreds of runs never runs in a
process that answers page views, nor once per process. Each write bumps the row's
``serial``; readers check that one integer and re-read the payload only when it moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gymarena.errors import storable
from gymarena.results.models import RankingSnapshotRow, utcnow

if TYPE_CHECKING:
    from gymarena.results.store import ResultsStore


@dataclass(frozen=True)
class RankingSnapshot:
    suite: str
    version: str
    serial: int
    payload: str  # the page's data as JSON text, as the API serves it
    html: str  # the page's rendered body
    computed_at: datetime

    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)


class RankingSnapshots:
    def __init__(self, store: ResultsStore):
        self.store = store

    def serial(self, suite: str) -> int | None:
        """The stored page's serial (None before the first): one primary-key lookup."""
        return self.store._read(lambda s: s.scalar(select(RankingSnapshotRow.serial).where(RankingSnapshotRow.suite == suite)))

    def version(self, suite: str) -> str | None:
        """What the stored page was computed from (None before the first)."""
        return self.store._read(lambda s: s.scalar(select(RankingSnapshotRow.version).where(RankingSnapshotRow.suite == suite)))

    def get(self, suite: str) -> RankingSnapshot | None:
        from gymarena.results.store import _utc

        row = self.store._read(lambda s: s.get(RankingSnapshotRow, suite))
        if row is None:
            return None
        return RankingSnapshot(row.suite, row.version, row.serial, row.payload, row.html, _utc(row.computed_at))

    def put(self, suite: str, version: str, payload: str, html: str) -> int:
        """Store a suite's page computed from ``version``; returns its serial. The page is
        made storable first (:func:`~gymarena.errors.storable`): a NUL that some run's stored
        field holds never freezes the suite's page."""
        payload, html = storable(payload), storable(html)

        def work(session: Session) -> int:
            row = session.get(RankingSnapshotRow, suite, with_for_update=True)
            if row is None:
                row = RankingSnapshotRow(suite=suite, serial=0)
                session.add(row)
            row.version, row.payload, row.html, row.computed_at = version, payload, html, utcnow()
            row.serial += 1
            session.flush()
            return row.serial

        return self.store._write("write to", work)
