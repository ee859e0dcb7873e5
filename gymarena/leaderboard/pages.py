"""The data of every leaderboard page, as JSON-ready dicts.

Each function here is one page: the HTML view renders its dict with a template and the
API (``/api/...``) returns the same dict, so the two never disagree. (A suite's ranking
page is built the same way, by the ranking refresher: leaderboard/refresher.py.) No page
shows an unrevealed hidden seed (leaderboard/hidden.py), nor a run the admin hid.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from functools import cache
from typing import Any

from gymarena.errors import GymarenaError
from gymarena.leaderboard.hidden import HIDDEN, Unrevealed
from gymarena.records import EpisodeRecord, SeedMean
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import score_run

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
    rows: list[dict[str, Any]] = []
    for label in sorted(set(stored) | set(installed)):
        suite = installed.get(label)
        rows.append({
            "suite": label,
            "families": list(suite.families) if suite else [],
            "board": suite.board if suite else "scores",
            "complete_runs": stored.get(label, 0),
            "tasks": len(suite.tasks) if suite else None,
            "description": suite.description if suite else "not installed on this server",
            "unavailable": _unavailable(suite) if suite else None,
        })
    families = sorted({family for suite in installed.values() for family in suite.families})
    return {"suites": rows, "families": families}


def _unavailable(suite: Any) -> str | None:
    """Why this server cannot evaluate the suite (a simulator it lacks), or None."""
    from gymarena.wrappers import family_of

    for family in dict.fromkeys(family_of(task) for task in suite.tasks):
        available, reason = family.availability()
        if not available:
            return f"{family.name}: {reason}"
    return None


def interval_figure(estimates: dict[str, Any], title: str, unit: str = "normalised score (0 = random, 1 = reference)",
                    include: tuple[float, float] = (0.0, 1.0)) -> str:
    """An interval plot (``{label: {point, low, high}}``) as SVG, or "" without estimates;
    an estimate without an interval (one seed) is drawn as its point."""
    from gymarena.leaderboard.interval_svg import interval_svg
    from gymarena.metrics.aggregate import IntervalEstimate

    if not estimates:
        return ""

    def bounds(v: dict[str, Any]) -> IntervalEstimate:
        low, high = (v["low"], v["high"]) if v["low"] is not None else (v["point"], v["point"])
        return IntervalEstimate(v["point"], low, high)

    return interval_svg({label: bounds(v) for label, v in estimates.items()}, title, unit, include)


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
    """Per task of a run, its score as every face shows it (gymarena/scoring.py): means
    over seeds with 95% bootstrap CIs over seeds."""
    return [score.to_json() for score in score_run(run.protocol, means)]


def shown_run(store: ResultsStore, run_id: int) -> RunInfo:
    """The run a page is about: stored and not hidden by the admin, or NotFound."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"there is no run {run_id}")
    if run.hidden_reason is not None:
        raise NotFound(f"run {run_id} was hidden by this server's admin: {run.hidden_reason}")
    return run


def agent_page(store: ResultsStore, agent_id: int) -> dict[str, Any]:
    runs = [run for run in store.agent_runs(agent_id) if run.hidden_reason is None]
    if not runs:
        raise NotFound(f"there is no agent {agent_id}")
    means = store.seed_means(run.id for run in runs)
    agent = runs[0].agent
    return {
        "agent": {"id": agent_id, "name": agent.name, "reference": agent.reference, "version": agent.version,
                  "content_hash": agent.content_hash, "owner": agent.owner},
        "runs": [{**_run_summary(run), "tasks": task_breakdown(run, [m for m in means if m.run_id == run.id])}
                 for run in reversed(runs)],
    }


def episode_row(record: EpisodeRecord, run: RunInfo, unrevealed: Unrevealed) -> dict[str, Any]:
    """An episode as pages and downloads show it (an unrevealed seed as its index in the set)."""
    data = record.to_dict()
    row = {**{name: data[name] for name in EPISODE_COLUMNS}, "agent_returns": data["agent_returns"], "extra": data["extra"]}
    row["seed"] = unrevealed.episode_seed_label(run, record.task_id, record.seed)
    row["error"] = unrevealed.text(row["error"])
    return row


def episode_rows(store: ResultsStore, run_id: int) -> list[dict[str, Any]]:
    """Every episode of a shown run as rows (the downloads)."""
    run = shown_run(store, run_id)
    unrevealed = Unrevealed.of(store)
    return [episode_row(r, run, unrevealed) for r in store.episodes(run_id)]


def simulator_check(run: RunInfo) -> dict[str, str]:
    """Per task, what the run's simulator check found where it was made ("matches", "diverged
    at ...", "no reference"; "not checked" for runs from before checks or that carry none)."""
    from gymarena.fingerprints.drift import recorded_checks

    found = recorded_checks(run.provenance)
    return {task.task_id: found.get(task.task_id, "not checked") for task in run.protocol}


def run_page(store: ResultsStore, run_id: int, page: int = 1) -> dict[str, Any]:
    run = shown_run(store, run_id)
    unrevealed = Unrevealed.of(store)
    hidden = unrevealed.hides(run)
    pages = max(1, math.ceil(run.episode_count / EPISODES_PER_PAGE))
    page = min(max(page, 1), pages)
    episodes = store.episodes_page(run_id, (page - 1) * EPISODES_PER_PAGE, EPISODES_PER_PAGE)
    return {
        "run": {**_run_summary(run), "config": unrevealed.config(run), "provenance": run.provenance,
                "error": unrevealed.text(run.error), "seeds_hidden": hidden,
                "tasks": [{"task": t.task_id, "protocol_hash": t.hash, "seeds": HIDDEN if hidden else list(t.seeds),
                           "episodes_per_seed": t.episodes_per_seed, "simulator_versions": t.simulator_versions}
                          for t in run.protocol]},
        "summary": task_breakdown(run, store.seed_means([run_id])),
        "simulator_check": simulator_check(run),
        "episodes": [episode_row(r, run, unrevealed) for r in episodes],
        "page": page,
        "pages": pages,
    }


LOG_WITHHELD = ("withheld until the suite's hidden seeds are revealed (gymarena admin rotate-seeds); "
                "its owner's token reads it now: GET /api/submissions/ID with Authorization: Bearer TOKEN")


def submission_page(store: ResultsStore, submission_id: int, viewer_token_id: int | None = None) -> dict[str, Any]:
    """A submission's status. Its agent's log tail is shown to its owner (``viewer_token_id``)
    and, to everyone, once the hidden seeds it was played on are revealed: until then an
    agent could carry out through its log what it learnt of them."""
    found = store.submissions.get(submission_id)
    if found is None:
        raise NotFound(f"there is no submission {submission_id}")
    unrevealed = Unrevealed.of(store)
    log_tail = found.log_tail
    if log_tail and viewer_token_id != found.token_id and _played_on_unrevealed_seeds(store, found):
        log_tail = LOG_WITHHELD
    return {
        "submission": found.id, "kind": found.kind, "suite": found.suite, "status": found.status,
        "reason": unrevealed.text(found.reason), "log_tail": unrevealed.text(log_tail),
        "manifest": found.manifest, "run": found.run_id,
        "archive_sha256": found.archive_sha256,
        "created": found.created_at.isoformat(), "started": found.started_at.isoformat() if found.started_at else None,
        "finished": found.finished_at.isoformat() if found.finished_at else None,
    }


def _played_on_unrevealed_seeds(store: ResultsStore, submission: Any) -> bool:
    """Whether the suite holds hidden seeds, drawn before the submission ended, that are not revealed yet."""
    ended = submission.finished_at or datetime.now(timezone.utc)
    return any(c.revealed_at is None and c.created_at <= ended for c in store.submissions.seed_commitments(submission.suite))
