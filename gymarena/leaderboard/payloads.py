"""JSON-ready forms of rankings: what the API returns and ``gymarena leaderboard --json`` prints."""

from __future__ import annotations

from typing import Any

from gymarena.leaderboard.ranking import ApartGroup, Entry, SuiteRanking, Unranked
from gymarena.metrics.aggregate import IntervalEstimate


def _interval(estimate: IntervalEstimate | None) -> dict[str, float] | None:
    if estimate is None:
        return None
    return {"point": estimate.point, "low": estimate.low, "high": estimate.high}


def entry_payload(entry: Entry) -> dict[str, Any]:
    return {
        "rank": entry.rank,
        "rank_interval": None if entry.rank_low is None else [entry.rank_low, entry.rank_high],
        "run": entry.run_id,
        "agent_id": entry.agent_id,
        "agent": entry.agent,
        "reference": entry.reference,
        "version": entry.version,
        "owner": entry.owner,
        "kind": entry.kind,
        "date": entry.date.isoformat(),
        "iqm": _interval(entry.iqm),
        "probability_of_improvement_over_next": _interval(entry.poi_next),
        "mean_score": entry.mean_score,
        "success_rate": entry.success_rate,
        "ranking_values": list(entry.ranking_values),
        "algorithm": entry.algorithm,
        "runs": entry.runs,
        "run_ids": list(entry.run_ids),
        "ci_over": entry.unit,
        "superseded_runs": entry.superseded,
        "seeds": entry.seeds,
        "episodes": entry.episodes,
        "task_scores": entry.task_scores,
    }


def apart_payload(group: ApartGroup) -> dict[str, Any]:
    return {"protocol_hash": group.protocol_hash, "runs": group.run_ids, "agents": group.agents, "differences": group.differences}


def unranked_payload(run: Unranked) -> dict[str, Any]:
    return {"run": run.run_id, "agent": run.agent, "reason": run.reason}


def ranking_payload(ranking: SuiteRanking) -> dict[str, Any]:
    return {
        "suite": ranking.suite,
        "protocol_hash": ranking.protocol_hash,
        "ranking": list(ranking.ranking),
        "tasks": ranking.tasks,
        "entries": [entry_payload(e) for e in ranking.entries],
        "apart": [apart_payload(g) for g in ranking.apart],
        "notes": ranking.notes,
        "unranked": [unranked_payload(r) for r in ranking.unranked],
    }
