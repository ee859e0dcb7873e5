"""Rows and JSON payloads for what the CLI shows: tasks, suites, runs and summaries.

Kept apart from ``cli.py`` so that the CLI only parses and prints, and tests can check
the shapes directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymarena.leaderboard.ranking import Entry
from gymarena.output import short_number
from gymarena.summary import TaskSummary, summarise
from gymarena.results import ResultsStore, RunInfo
from gymarena.suites import Suite
from gymarena.tasks import TaskSpec
from gymarena.wrappers import task_availability

TASK_COLUMNS = ["id", "family", "available", "reason", "episodes", "success", "random", "reference"]
TASK_TABLE_COLUMNS = ["id", "available", "reason", "episodes", "success", "random", "reference"]
SUITE_COLUMNS = ["suite", "tasks", "seeds", "available", "description"]
RUN_COLUMNS = ["run", "agent", "suite", "status", "episodes", "created", "protocol"]
SUMMARY_COLUMNS = [
    "run", "task", "episodes", "mean_return", "std_return", "return_ci_low", "return_ci_high",
    "normalised", "normalised_ci_low", "normalised_ci_high", "success_rate", "success_ci_low", "success_ci_high",
    "fas", "fas_std", "failed",
]


def task_row(task: TaskSpec) -> dict[str, Any]:
    available, reason = task_availability(task)
    return {
        "id": task.id,
        "family": task.family,
        "available": available,
        "reason": reason,
        "episodes": task.episodes,
        "success": task.success,
        "random": task.scores.random if task.scores else None,
        "reference": task.scores.reference if task.scores else None,
    }


def suite_row(suite: Suite) -> dict[str, Any]:
    missing = sorted({reason for t in suite.tasks for ok, reason in [task_availability(t)] if not ok})
    return {
        "suite": suite.label,
        "tasks": len(suite.tasks),
        "seeds": len(suite.seeds),
        "available": not missing,
        "description": suite.description if not missing else f"{suite.description} ({'; '.join(missing)})",
    }


def run_row(run: RunInfo) -> dict[str, Any]:
    return {
        "run": run.id,
        "agent": run.agent.reference,
        "suite": run.suite or ", ".join(t.task_id for t in run.tasks),
        "status": run.status,
        "episodes": run.episode_count,
        "created": run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "protocol": run.protocol_hash[:12],
    }


def _split(interval: tuple[float, float] | None) -> tuple[float | None, float | None]:
    return interval if interval is not None else (None, None)


def summary_row(run_id: int, summary: TaskSummary) -> dict[str, Any]:
    return_low, return_high = _split(summary.return_ci)
    norm_low, norm_high = _split(summary.normalised_ci)
    success_low, success_high = _split(summary.success_ci)
    return {
        "run": run_id,
        "task": summary.task_id,
        "episodes": summary.episodes,
        "mean_return": summary.mean_return,
        "std_return": summary.std_return,
        "return_ci_low": return_low,
        "return_ci_high": return_high,
        "normalised": summary.normalised_score,
        "normalised_ci_low": norm_low,
        "normalised_ci_high": norm_high,
        "success_rate": summary.success_rate,
        "success_ci_low": success_low,
        "success_ci_high": success_high,
        "fas": summary.fas,
        "fas_std": summary.fas_std,
        "failed": summary.failed,
    }


SUMMARY_TABLE_COLUMNS = ["task", "episodes", "return", "return 95% CI", "normalised", "normalised 95% CI", "success", "success 95% CI"]


def summary_table_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table's columns: FAS only when some task ran a decision-interval sweep."""
    return SUMMARY_TABLE_COLUMNS + (["FAS"] if any("FAS" in row for row in rows) else [])


def _number(value: float | None) -> str:
    return "-" if value is None else short_number(value)


def _interval(interval: tuple[float, float] | None) -> str:
    return "-" if interval is None else f"[{short_number(interval[0])}, {short_number(interval[1])}]"


def summary_table_row(summary: TaskSummary) -> dict[str, Any]:
    """The compact, rounded form of a summary for terminal tables."""
    done = summary.episodes if summary.episodes == summary.expected_episodes else f"{summary.episodes}/{summary.expected_episodes}"
    if summary.failed:
        done = f"{done} ({summary.failed} crashed)"
    mean_std = "-" if summary.mean_return is None else f"{short_number(summary.mean_return)} ± {short_number(summary.std_return)}"
    row = {
        "task": summary.task_id,
        "episodes": done,
        "return": mean_std,
        "return 95% CI": _interval(summary.return_ci),
        "normalised": _number(summary.normalised_score),
        "normalised 95% CI": _interval(summary.normalised_ci),
        "success": _number(summary.success_rate),
        "success 95% CI": _interval(summary.success_ci),
    }
    if summary.fas is not None:
        row["FAS"] = f"{short_number(summary.fas)} ± {short_number(summary.fas_std)}"
    return row


LEADERBOARD_COLUMNS = ["rank", "agent", "kind", "IQM", "IQM 95% CI", "P(> next)", "mean", "success", "runs", "seeds", "episodes", "date"]


def leaderboard_row(entry: Entry) -> dict[str, Any]:
    """One agent of a suite ranking, rounded for the terminal."""
    rank = str(entry.rank) if entry.rank_low is None else f"{entry.rank} [{entry.rank_low}-{entry.rank_high}]"
    return {
        "rank": rank,
        "agent": f"{entry.agent} {entry.version}" if entry.version != "unversioned" else entry.agent,
        "kind": entry.kind,
        "IQM": short_number(entry.iqm.point),
        "IQM 95% CI": _interval((entry.iqm.low, entry.iqm.high)),
        "P(> next)": "-" if entry.poi_next is None else short_number(entry.poi_next.point),
        "mean": short_number(entry.mean_score),
        "success": _number(entry.success_rate),
        "runs": entry.runs,
        "seeds": entry.seeds,
        "episodes": entry.episodes,
        "date": entry.date.strftime("%Y-%m-%d"),
    }


def stored_run_payload(store: ResultsStore, run: RunInfo) -> dict[str, Any]:
    """Everything stored about a run, episodes included, for ``--json``."""
    records = store.episodes(run.id)
    summaries = summarise(run.tasks, records)
    return {
        "id": run.id,
        "status": run.status,
        "error": run.error,
        "agent": vars(run.agent),
        "suite": run.suite,
        "protocol_hash": run.protocol_hash,
        "config": run.config,
        "provenance": run.provenance,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "tasks": [vars(t) for t in run.tasks],
        "summaries": [s.to_dict() for s in summaries],
        "episodes": [r.to_dict() for r in records],
    }


def stored_summaries(store: ResultsStore, run: RunInfo) -> list[TaskSummary]:
    return summarise(run.tasks, store.episodes(run.id))


def stored_summary_rows(store: ResultsStore, runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    return [summary_row(run.id, s) for run in runs for s in stored_summaries(store, run)]
