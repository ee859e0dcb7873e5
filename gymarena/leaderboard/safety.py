"""The safety board of a ``board = "cav"`` suite (``cav-highway@1``): AVs ranked by their
crash rate per test, lower first.

Each AV's newest complete testing run of the suite under the ranked protocol (the
suite's seed, or the hidden one for verified runs) counts once. Its estimate is what the
run computed at its end from every test (cavtest/summary.py): the importance-sampled
crash rate, its 90% CI, the relative half-width (RHW) reached and its weight diagnostics.
Only *settled* runs are ranked (competition ranks by the point estimate: equal rates share
a rank): their RHW reached the suite's ``until_rhw`` and their diagnostics, judged here by
today's rule (cavtest/trust.py), say the interval can be trusted. The others are listed
below as "not settled", with their estimate and why, because an estimate that imprecise, or
resting on a few heavy tests, cannot be ordered. Runs without an estimate are listed apart
with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gymarena.leaderboard.payloads import apart_payload
from gymarena.leaderboard.ranking import ApartGroup, Listed, by_protocol, newest_per_agent
from gymarena.metrics import aggregate
from gymarena.metrics.importance import WeightDiagnostics
from gymarena.protocol import RunProtocol
from gymarena.results import ResultsStore, RunInfo


@dataclass(frozen=True)
class SafetyEntry(Listed):
    """One AV on a safety board: its estimate, and whether it settled."""

    rank: int | None  # None: not settled
    crash_rate: float
    low: float
    high: float
    relative_half_width: float | None
    tests: int
    crashes: int
    tests_needed: int | None
    settled: bool
    superseded: int
    diagnostics: dict[str, Any] | None = None
    why_not_settled: str | None = None


@dataclass(frozen=True)
class SafetyRanking:
    suite: str
    protocol_hash: str | None
    until_rhw: float
    entries: list[SafetyEntry]
    unranked: list[dict[str, Any]] = field(default_factory=list)
    apart: list[ApartGroup] = field(default_factory=list)


def _estimate(run: RunInfo) -> dict[str, Any] | None:
    """The run's stored estimate, if it holds finite numbers."""
    summary = run.summary or {}
    try:
        values = [float(summary["crash_rate"]), float(summary["ci90"][0]), float(summary["ci90"][1])]
        int(summary["tests"]), int(summary["crashes"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return summary if all(math.isfinite(v) for v in values) else None


def rank_safety(store: ResultsStore, label: str, protocol: RunProtocol, until_rhw: float) -> SafetyRanking:
    """The safety board of ``label`` under ``protocol`` (the suite's, or its hidden seeds')."""
    ranked, apart = by_protocol(store.suite_runs(label), protocol)
    chosen, superseded = newest_per_agent(ranked)
    unranked, rows = [], []
    for run in chosen:
        estimate = _estimate(run)
        if estimate is None:
            unranked.append({"run": run.id, "agent": run.agent.name, "reason": "the run holds no crash-rate estimate"})
            continue
        rows.append((run, estimate, why_not_settled(estimate, until_rhw)))
    settled = sorted((row for row in rows if row[2] is None), key=lambda row: (float(row[1]["crash_rate"]), row[0].id))
    unsettled = sorted((row for row in rows if row[2] is not None),
                       key=lambda row: (float(row[1]["crash_rate"]), row[0].id))
    ranks = aggregate.competition_ranks([float(row[1]["crash_rate"]) for row in settled], higher_is_better=False)
    entries = [_entry(run, estimate, rank, why, superseded[run.agent_id])
               for (run, estimate, why), rank in zip(settled + unsettled, ranks + [None] * len(unsettled))]
    return SafetyRanking(label, protocol.hash, until_rhw, entries, unranked, apart)


def why_not_settled(estimate: dict[str, Any], until_rhw: float) -> str | None:
    """Why a stored estimate is not settled (None: it is): its RHW, then its weights."""
    from gymarena.cavtest.trust import not_settled_because

    rhw = estimate.get("relative_half_width")
    return not_settled_because(None if rhw is None else float(rhw), until_rhw,
                               WeightDiagnostics.from_json(estimate.get("diagnostics")), int(estimate["crashes"]),
                               bool(estimate.get("naturalistic", False)))


def _entry(run: RunInfo, estimate: dict[str, Any], rank: int | None, why: str | None, superseded: int) -> SafetyEntry:
    rhw = estimate.get("relative_half_width")
    needed = estimate.get("tests_needed")
    parsed = WeightDiagnostics.from_json(estimate.get("diagnostics"))
    return SafetyEntry(
        **Listed.of(run), rank=rank,
        crash_rate=float(estimate["crash_rate"]), low=float(estimate["ci90"][0]), high=float(estimate["ci90"][1]),
        relative_half_width=None if rhw is None else float(rhw), tests=int(estimate["tests"]),
        crashes=int(estimate["crashes"]), tests_needed=None if needed is None else int(needed), settled=why is None,
        superseded=superseded, diagnostics=None if parsed is None else parsed.to_json(), why_not_settled=why,
    )


def safety_payload(ranking: SafetyRanking) -> dict[str, Any]:
    """The board as the API returns it (and its page renders)."""
    return {
        "board": "cav",
        "suite": ranking.suite,
        "protocol_hash": ranking.protocol_hash,
        "until_rhw": ranking.until_rhw,
        "entries": [{
            "rank": e.rank, "settled": e.settled, "run": e.run_id, "agent_id": e.agent_id, "agent": e.agent,
            "version": e.version, "owner": e.owner, "kind": e.kind, "date": e.date.isoformat(),
            "crash_rate": {"point": e.crash_rate, "low": e.low, "high": e.high, "confidence": 0.9},
            "relative_half_width": e.relative_half_width, "tests": e.tests, "crashes": e.crashes,
            "tests_needed": e.tests_needed, "superseded_runs": e.superseded, "diagnostics": e.diagnostics,
            "why_not_settled": e.why_not_settled,
        } for e in ranking.entries],
        "unranked": ranking.unranked,
        "apart": [apart_payload(group) for group in ranking.apart],
        "notes": [],
    }


def safety_board(store: ResultsStore, suite: str) -> SafetyRanking:
    """The safety board of a suite (name, ``name@N`` or file) under its installed protocol."""
    from gymarena.cavtest.suite import testing_settings
    from gymarena.installed import suite_protocol
    from gymarena.suites import load_suite

    loaded = load_suite(suite)
    return rank_safety(store, loaded.label, suite_protocol(suite), testing_settings(loaded)["until_rhw"])


def safety_payload_under(store: ResultsStore, label: str):
    """The board of an installed suite ranked under a protocol, as its page's data."""
    from gymarena.cavtest.suite import testing_settings
    from gymarena.suites import registered_suite

    until_rhw = testing_settings(registered_suite(label))["until_rhw"]
    return lambda protocol: safety_payload(rank_safety(store, label, protocol, until_rhw))


def safety_figure(payload: dict[str, Any]) -> str:
    """The settled AVs' crash rates with their 90% CIs."""
    from gymarena.leaderboard.pages import interval_figure

    return interval_figure({e["agent"]: e["crash_rate"] for e in payload["entries"] if e["settled"]},
                           f"{payload['suite']}: crash rate per test (settled AVs), 90% CI", "crash rate per test",
                           (0.0, 0.0))
