"""Per-task summaries of a run's episodes: the numbers the results table shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gymarena.metrics import bootstrap_ci, mean_and_std, normalised_scores, success_rate
from gymarena.metrics.fas import fas_over_seeds, returns_by_interval
from gymarena.records import EpisodeRecord
from gymarena.results import TaskProtocol

# Summaries are reproducible: the same episodes always give the same intervals.
SUMMARY_SEED = 0


@dataclass(frozen=True)
class TaskSummary:
    """One task of a run. Return, normalised score and success describe the episodes at
    the task's first decision interval (its native one); a decision-interval sweep adds
    FAS (mean and std over seeds) and the mean curve R(l) over the sweep's intervals.
    ``failed`` counts episodes whose simulator crashed: stored, but not scored. On tasks
    played in meta-RL trials only evaluation episodes are scored; ``episodes`` counts all."""

    task_id: str
    protocol_hash: str
    episodes: int
    expected_episodes: int
    mean_return: float | None
    std_return: float | None
    return_ci: tuple[float, float] | None
    normalised_score: float | None
    normalised_ci: tuple[float, float] | None
    success_rate: float | None
    success_ci: tuple[float, float] | None
    fas: float | None = None
    fas_std: float | None = None
    fas_curve: list[tuple[int, float]] | None = None
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalised_episode_scores(refs: Mapping[str, Any], records: Sequence[EpisodeRecord]) -> np.ndarray:
    """Each episode's normalised score under a task's score references (return or success)."""
    if refs.get("quantity", "return") == "success":
        values = np.array([float(bool(r.success)) for r in records])
    else:
        values = np.array([r.episode_return for r in records])
    return normalised_scores(values, refs["random"], refs["reference"])


def summarise_task(task: TaskProtocol, records: Sequence[EpisodeRecord]) -> TaskSummary:
    """Mean/std of return, normalised score and success rate, each with a 95% CI."""
    rng = np.random.default_rng(SUMMARY_SEED)
    intervals = task.spec.get("decision_intervals", [1])
    trial = task.spec.get("trial")
    per_unit = trial["adaptation"] + trial["evaluation"] if trial else len(intervals)
    expected = len(task.seeds) * task.episodes_per_seed * per_unit
    played = len(records)
    failed = sum(r.error is not None for r in records)
    records = [r for r in records if r.error is None]  # a crashed episode has no outcome to score
    extras = {**_fas_fields(task, records, intervals), "failed": failed}
    records = [r for r in records if r.decision_interval == intervals[0] and r.scored]
    if not records:
        return TaskSummary(task.task_id, task.protocol_hash, played, expected, *([None] * 7), **extras)
    returns = np.array([r.episode_return for r in records])
    mean, std = mean_and_std(returns)
    return_ci = bootstrap_ci(returns, rng)
    normalised = normalised_ci = None
    scores = task.spec.get("scores")
    if scores:
        values = normalised_episode_scores(scores, records)
        normalised, normalised_ci = float(values.mean()), bootstrap_ci(values, rng)
    rate = rate_ci = None
    outcomes = [r.success for r in records if r.success is not None]
    if outcomes:
        rate, rate_ci = success_rate(outcomes), bootstrap_ci(np.array(outcomes, dtype=float), rng)
    return TaskSummary(
        task.task_id, task.protocol_hash, played, expected, mean, std,
        return_ci, normalised, normalised_ci, rate, rate_ci, **extras,
    )


def _fas_fields(task: TaskProtocol, records: Sequence[EpisodeRecord], intervals: list[int]) -> dict[str, Any]:
    """FAS of a sweep, once at least one seed has all its intervals played."""
    refs = task.spec.get("fas")
    if not refs:
        return {}
    curves = returns_by_interval([(r.seed, r.decision_interval, r.episode_return) for r in records])
    try:
        fas, fas_std, curve = fas_over_seeds(curves, intervals, refs["r_max"], refs["offset"])
    except ValueError:  # no seed complete yet
        return {}
    return {"fas": fas, "fas_std": fas_std, "fas_curve": list(zip(intervals, curve))}


def summarise(tasks: Sequence[TaskProtocol], records: Sequence[EpisodeRecord]) -> list[TaskSummary]:
    by_task: dict[str, list[EpisodeRecord]] = {t.task_id: [] for t in tasks}
    for record in records:
        by_task.setdefault(record.task_id, []).append(record)
    return [summarise_task(t, by_task[t.task_id]) for t in tasks]
