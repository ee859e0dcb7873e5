"""Rows and JSON payloads for what the CLI shows: tasks, suites, runs and summaries.

Kept apart from ``cli.py`` so that the CLI only parses and prints, and tests can check
the shapes directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymarena.leaderboard.ranking import Entry
from gymarena.output import short_number
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import Estimate, TaskScore, score_run
from gymarena.suites import Suite
from gymarena.tasks import TaskSpec
from gymarena.wrappers import task_availability

TASK_COLUMNS = ["id", "family", "available", "reason", "episodes", "success", "random", "reference"]
TASK_TABLE_COLUMNS = ["id", "available", "reason", "episodes", "success", "random", "reference"]
SUITE_COLUMNS = ["suite", "tasks", "seeds", "available", "description"]
RUN_COLUMNS = ["run", "agent", "suite", "status", "episodes", "created", "protocol"]
# Per-task scores as CSV: one flat row per (run, task), the same numbers as the JSON form.
SCORE_COLUMNS = [
    "run", "task", "seeds", "episodes", "expected_episodes", "scored", "failed",
    "mean_return", "mean_return_low", "mean_return_high", "return_std",
    "normalised", "normalised_low", "normalised_high", "success", "success_low", "success_high", "fas", "fas_std",
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
        "suite": run.suite or ", ".join(run.protocol.task_ids),
        "status": run.status,
        "episodes": run.episode_count,
        "created": run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "protocol": run.protocol_hash[:12],
    }


def score_row(run_id: int, score: TaskScore) -> dict[str, Any]:
    """A task's score as one flat row (CSV, report tables): the JSON form's numbers."""
    data = score.to_json()
    row = {"run": run_id, **{k: data[k] for k in ("task", "seeds", "episodes", "expected_episodes", "scored", "failed")},
           "return_std": data["return_std"]}
    for name in ("mean_return", "normalised", "success"):
        estimate = data[name] or {}
        row[name], row[f"{name}_low"], row[f"{name}_high"] = estimate.get("point"), estimate.get("low"), estimate.get("high")
    row["fas"], row["fas_std"] = (data["fas"]["point"], data["fas"]["std"]) if data["fas"] else (None, None)
    return row


SCORE_TABLE_COLUMNS = ["task", "episodes", "seeds", "return", "return 95% CI", "normalised", "normalised 95% CI",
                       "success", "success 95% CI"]


def score_table_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table's columns: FAS only when some task ran a decision-interval sweep."""
    return SCORE_TABLE_COLUMNS + (["FAS"] if any("FAS" in row for row in rows) else [])


def _number(value: float | None) -> str:
    return "-" if value is None else short_number(value)


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"[{short_number(low)}, {short_number(high)}]"


def _estimate(estimate: Estimate | None) -> tuple[str, str]:
    return ("-", "-") if estimate is None else (short_number(estimate.point), _interval(estimate.low, estimate.high))


def score_table_row(score: TaskScore) -> dict[str, Any]:
    """The compact, rounded form of a task's score for terminal tables."""
    done = score.episodes if score.episodes == score.expected_episodes else f"{score.episodes}/{score.expected_episodes}"
    if score.failed:
        done = f"{done} ({score.failed} crashed)"
    returns = "-" if score.mean_return is None else f"{short_number(score.mean_return.point)} ± {_number(score.return_std)}"
    normalised, normalised_ci = _estimate(score.normalised)
    success, success_ci = _estimate(score.success)
    row = {
        "task": score.task_id, "episodes": done, "seeds": score.seeds, "return": returns,
        "return 95% CI": "-" if score.mean_return is None else _interval(score.mean_return.low, score.mean_return.high),
        "normalised": normalised, "normalised 95% CI": normalised_ci, "success": success, "success 95% CI": success_ci,
    }
    if score.fas is not None:
        row["FAS"] = f"{short_number(score.fas.point)} ± {short_number(score.fas.std)}"
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
        "IQM 95% CI": _interval(entry.iqm.low, entry.iqm.high),
        "P(> next)": "-" if entry.poi_next is None else short_number(entry.poi_next.point),
        "mean": short_number(entry.mean_score),
        "success": _number(entry.success_rate),
        "runs": entry.runs,
        "seeds": entry.seeds,
        "episodes": entry.episodes,
        "date": entry.date.strftime("%Y-%m-%d"),
    }


def run_scores(store: ResultsStore, run: RunInfo) -> list[TaskScore]:
    """A stored run's per-task scores (gymarena/scoring.py), from its per-seed means."""
    return score_run(run.protocol, store.seed_means([run.id]))


def stored_run_payload(store: ResultsStore, run: RunInfo) -> dict[str, Any]:
    """Everything stored about a run, scores and episodes included, for ``--json``."""
    return {
        "id": run.id,
        "status": run.status,
        "error": run.error,
        "kind": run.kind,
        "agent": vars(run.agent),
        "suite": run.suite,
        "protocol_hash": run.protocol_hash,
        "config": run.config,
        "provenance": run.provenance,
        "summary": run.summary,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "tasks": run.protocol.to_json(),
        "scores": [score.to_json() for score in run_scores(store, run)],
        "episodes": [r.to_dict() for r in store.episodes(run.id)],
    }


def score_rows(store: ResultsStore, runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    return [score_row(run.id, score) for run in runs for score in run_scores(store, run)]
