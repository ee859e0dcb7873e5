"""The one per-task score of a run, which every face shows: the CLI's tables and JSON, the
web pages and their API, reports and rankings.

A run's score on a task is computed from its per-seed means (``store.seed_means``: one row
per task, seed and decision interval, averaged in SQL) and the task's protocol, never from
the episodes again:

- **The unit is the seed.** Seeds are a run's independent replicates: each seed's
  episodes are averaged first, every statistic is the mean over seeds of those means, and
  its 95% interval is a percentile bootstrap over seeds (rliable's treatment of runs; the
  leaderboard's IQM over seeds x tasks is built from the same per-seed scores). Episodes
  within a seed are not treated as independent: an agent may carry state from one to the
  next, and a trial's episodes share one task. With few seeds the intervals are honest
  and wide; a single seed has none.
- Scores are read at the task's native decision interval; a decision-interval sweep adds
  its FAS (mean and std over the seeds whose sweep is complete) and the mean curve R(l).
- The spread of episode returns (``return.std``, population std as SB3 reports it) pools
  the episodes of all seeds.

Pure: numbers in, numbers out; each task's intervals come from a generator seeded with
:data:`SCORE_SEED` for that task alone, so a task's interval does not depend on the
others and the same run always shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena.metrics import bootstrap_ci, normalised_scores
from gymarena.metrics.fas import fas_over_seeds
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import EpisodeRecord, SeedMean
from gymarena.tasks import ScoreRefs

SCORE_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95% interval over seeds (None with a single seed)."""

    point: float
    low: float | None
    high: float | None

    def to_json(self) -> dict[str, float | None]:
        return {"point": self.point, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class FasScore:
    """FAS (mean and std over the seeds with a complete sweep) and the mean curve R(l)."""

    point: float
    std: float
    curve: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class TaskScore:
    """One task of a run, as every face shows it. ``episodes`` counts the stored records
    (crashed and adaptation episodes included), ``scored`` those the scores average;
    ``return_std`` is the spread of the scored episodes' returns."""

    task_id: str
    protocol_hash: str
    seeds: int
    episodes: int
    expected_episodes: int
    scored: int
    failed: int
    mean_return: Estimate | None
    return_std: float | None
    normalised: Estimate | None
    success: Estimate | None
    fas: FasScore | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form shared by ``gymarena results --json``, ``/api/runs/ID`` and reports."""
        def estimate(value: Estimate | None) -> dict[str, float | None] | None:
            return None if value is None else value.to_json()

        return {
            "task": self.task_id, "protocol_hash": self.protocol_hash, "seeds": self.seeds,
            "episodes": self.episodes, "expected_episodes": self.expected_episodes, "scored": self.scored,
            "failed": self.failed, "mean_return": estimate(self.mean_return), "return_std": self.return_std,
            "normalised": estimate(self.normalised), "success": estimate(self.success),
            "fas": None if self.fas is None else {"point": self.fas.point, "std": self.fas.std,
                                                   "curve": [list(p) for p in self.fas.curve]},
        }


def native_means(task: TaskProtocol, means: Iterable[SeedMean]) -> list[SeedMean]:
    """The seeds' means of a task at its native interval that hold a scored episode, by seed."""
    native = task.native_interval
    return sorted((m for m in means if m.task_id == task.task_id and m.decision_interval == native and m.episodes),
                  key=lambda m: m.seed)


def seed_scores(task: TaskProtocol, means: Iterable[SeedMean]) -> np.ndarray:
    """One normalised score per seed (in seed order): the per-seed column of rliable's
    (runs x tasks) matrix, which rankings and reports aggregate."""
    refs = task.spec.scores
    if refs is None:
        raise ValueError(f"{task.task_id} has no score references: it has no normalised score")
    seeds = native_means(task, means)
    if refs.quantity == "success":
        values = [m.success_rate or 0.0 for m in seeds]
    else:
        values = [m.mean_return for m in seeds]
    return normalised_scores(values, refs.random, refs.reference) if seeds else np.zeros(0)


def seed_success_rates(task: TaskProtocol, means: Iterable[SeedMean]) -> np.ndarray:
    """Each seed's success rate (in seed order; empty when the task has no success rule)."""
    return np.array([m.success_rate for m in native_means(task, means) if m.success_rate is not None])


def estimate(values: np.ndarray, rng: np.random.Generator) -> Estimate:
    """The mean of per-seed values, with a 95% percentile-bootstrap interval over seeds."""
    point = float(values.mean())
    if values.size < 2:
        return Estimate(point, None, None)
    low, high = bootstrap_ci(values, rng, confidence=CONFIDENCE)
    return Estimate(point, float(low), float(high))


def _pooled_std(means: Sequence[SeedMean]) -> float:
    counts = np.array([m.episodes for m in means], dtype=float)
    mean = float(np.average([m.mean_return for m in means], weights=counts))
    square = float(np.average([m.mean_square_return for m in means], weights=counts))
    return float(np.sqrt(max(square - mean * mean, 0.0)))


def _fas(task: TaskProtocol, means: Sequence[SeedMean]) -> FasScore | None:
    refs = task.spec.fas
    if refs is None:
        return None
    curves: dict[int, dict[int, float]] = {}
    for m in means:
        if m.task_id == task.task_id and m.episodes:
            curves.setdefault(m.seed, {})[m.decision_interval] = m.mean_return
    intervals = list(task.spec.decision_intervals)
    try:
        point, std, curve = fas_over_seeds(curves, intervals, refs.r_max, refs.offset)
    except ValueError:  # no seed has its whole sweep yet
        return None
    return FasScore(point, std, tuple(zip(intervals, curve)))


def score_task(task: TaskProtocol, means: Sequence[SeedMean], rng: np.random.Generator) -> TaskScore:
    """A task's score from its seeds' means (``means`` may hold other tasks' too)."""
    mine = [m for m in means if m.task_id == task.task_id]
    seeds = native_means(task, mine)
    mean_return = normalised = success = std = None
    if seeds:
        mean_return = estimate(np.array([m.mean_return for m in seeds]), rng)
        std = _pooled_std(seeds)
        if task.scored:
            normalised = estimate(seed_scores(task, seeds), rng)
        rates = seed_success_rates(task, seeds)
        if rates.size:
            success = estimate(rates, rng)
    return TaskScore(
        task.task_id, task.hash, seeds=len(seeds), episodes=sum(m.recorded for m in mine),
        expected_episodes=task.expected_episodes, scored=sum(m.episodes for m in seeds), failed=sum(m.failed for m in mine),
        mean_return=mean_return, return_std=std, normalised=normalised, success=success, fas=_fas(task, mine))


def score_run(protocol: RunProtocol, means: Sequence[SeedMean], seed: int = SCORE_SEED) -> list[TaskScore]:
    """Every task's score, in the run's task order (each task's intervals from its own generator)."""
    return [score_task(task, means, np.random.default_rng(seed)) for task in protocol]


def normalised_episode_scores(refs: ScoreRefs, records: Sequence[EpisodeRecord]) -> np.ndarray:
    """Each episode's normalised score (a suite's episode-level ranking keys: median, mean)."""
    if refs.quantity == "success":
        values = np.array([float(bool(r.success)) for r in records])
    else:
        values = np.array([r.episode_return for r in records])
    return normalised_scores(values, refs.random, refs.reference)
