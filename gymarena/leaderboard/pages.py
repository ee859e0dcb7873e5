"""The data of every leaderboard page, as JSON-ready dicts.

Each function here is one page: the HTML view renders its dict with a template and the
API (``/api/...``) returns the same dict, so the two never disagree. (A suite's ranking
page is built the same way, by the ranking refresher: leaderboard/refresher.py.)
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from gymarena.errors import GymarenaError
from gymarena.leaderboard.ranking import seed_score
from gymarena.metrics import bootstrap_ci
from gymarena.records import EpisodeRecord
from gymarena.results import ResultsStore, RunInfo, SeedMean

EPISODES_PER_PAGE = 100
EPISODE_COLUMNS = [
    "task_id", "seed", "episode", "episode_return", "length", "success", "terminated", "truncated",
    "decision_interval", "trial", "phase", "wall_seconds", "error",
]


class NotFound(GymarenaError):
    """A page about something the database does not hold."""


@cache
def _installed_suites() -> dict[str, Any]:
    """The suite files of this installation (read once: they do not change while serving)."""
    from gymarena.suites import list_suites

    return {suite.label: suite for suite in list_suites()}


def suites_page(store: ResultsStore) -> dict[str, Any]:
    """Every suite installed here or with runs in the database."""
    stored = store.suite_labels()
    installed = _installed_suites()
    rows = []
    for label in sorted(set(stored) | set(installed)):
        suite = installed.get(label)
        rows.append({
            "suite": label,
            "complete_runs": stored.get(label, 0),
            "tasks": len(suite.tasks) if suite else None,
            "description": suite.description if suite else "not installed on this server",
        })
    return {"suites": rows}


def interval_figure(estimates: dict[str, Any], title: str) -> str:
    """An interval plot (``{label: {point, low, high}}``) as SVG, or "" without intervals."""
    from gymarena.metrics.aggregate import IntervalEstimate
    from gymarena.reports.interval_svg import interval_svg

    if not estimates:
        return ""
    return interval_svg({label: IntervalEstimate(v["point"], v["low"], v["high"]) for label, v in estimates.items()}, title)


def _run_summary(run: RunInfo) -> dict[str, Any]:
    return {
        "run": run.id,
        "agent": run.agent.name,
        "agent_id": run.agent_id,
        "reference": run.agent.reference,
        "version": run.agent.version,
        "suite": run.suite,
        "status": run.status,
        "kind": run.kind,
        "episodes": run.episode_count,
        "created": run.created_at.isoformat(),
        "finished": run.finished_at.isoformat() if run.finished_at else None,
        "protocol_hash": run.protocol_hash,
    }


def task_breakdown(run: RunInfo, means: list[SeedMean]) -> list[dict[str, Any]]:
    """Per task of a run: mean return, and the normalised score and success rate with
    95% bootstrap CIs over seeds (from the per-seed means, not the episodes)."""
    rng = np.random.default_rng(0)
    rows = []
    for task in run.tasks:
        native = task.spec.get("decision_intervals", [1])[0]
        seeds = sorted((m for m in means if m.task_id == task.task_id and m.decision_interval == native), key=lambda m: m.seed)
        episodes = sum(m.episodes for m in seeds)
        row: dict[str, Any] = {"task": task.task_id, "seeds": len(seeds), "episodes": episodes,
                               "mean_return": None, "normalised": None, "success_rate": None}
        if seeds:
            weights = np.array([m.episodes for m in seeds], dtype=float)
            row["mean_return"] = float(np.average([m.mean_return for m in seeds], weights=weights))
            if task.spec.get("scores"):
                scores = np.array([seed_score(task, m) for m in seeds])
                low, high = bootstrap_ci(scores, rng)
                row["normalised"] = {"point": float(scores.mean()), "low": float(low), "high": float(high)}
            rates = [m.success_rate for m in seeds if m.success_rate is not None]
            if rates:
                row["success_rate"] = float(np.mean(rates))
        rows.append(row)
    return rows


def agent_page(store: ResultsStore, agent_id: int) -> dict[str, Any]:
    runs = store.agent_runs(agent_id)
    if not runs:
        raise NotFound(f"there is no agent {agent_id}")
    means = store.seed_means(run.id for run in runs)
    agent = runs[0].agent
    return {
        "agent": {"id": agent_id, "name": agent.name, "reference": agent.reference, "version": agent.version,
                  "content_hash": agent.content_hash},
        "runs": [{**_run_summary(run), "tasks": task_breakdown(run, [m for m in means if m.run_id == run.id])}
                 for run in reversed(runs)],
    }


def episode_row(record: EpisodeRecord) -> dict[str, Any]:
    data = record.to_dict()
    return {**{name: data[name] for name in EPISODE_COLUMNS}, "agent_returns": data["agent_returns"], "extra": data["extra"]}


def run_page(store: ResultsStore, run_id: int, page: int = 1) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"there is no run {run_id}")
    pages = max(1, math.ceil(run.episode_count / EPISODES_PER_PAGE))
    page = min(max(page, 1), pages)
    episodes = store.episodes_page(run_id, (page - 1) * EPISODES_PER_PAGE, EPISODES_PER_PAGE)
    return {
        "run": {**_run_summary(run), "config": run.config, "provenance": run.provenance, "error": run.error,
                "tasks": [{"task": t.task_id, "protocol_hash": t.protocol_hash, "seeds": t.seeds,
                           "episodes_per_seed": t.episodes_per_seed, "simulator_versions": t.simulator_versions}
                          for t in run.tasks]},
        "summary": task_breakdown(run, store.seed_means([run_id])),
        "episodes": [episode_row(r) for r in episodes],
        "page": page,
        "pages": pages,
    }


def submission_page(store: ResultsStore, submission_id: int) -> dict[str, Any]:
    found = store.submissions.get(submission_id)
    if found is None:
        raise NotFound(f"there is no submission {submission_id}")
    return {
        "submission": found.id, "kind": found.kind, "suite": found.suite, "status": found.status,
        "reason": found.reason, "log_tail": found.log_tail, "manifest": found.manifest, "run": found.run_id,
        "archive_sha256": found.archive_sha256,
        "created": found.created_at.isoformat(), "started": found.started_at.isoformat() if found.started_at else None,
        "finished": found.finished_at.isoformat() if found.finished_at else None,
    }
