"""Aggregate performance over tasks with stratified-bootstrap confidence intervals.

Definitions follow rliable 1.2 (Agarwal et al., "Deep Reinforcement Learning at the Edge
of the Statistical Precipice", NeurIPS 2021; github.com/google-research/rliable,
``rliable/metrics.py`` and ``rliable/library.py``):

- scores are normalised, one per (run, task); a ``(runs x tasks)`` array, or one 1-D
  array per task when tasks have different numbers of runs (ragged);
- mean / median: of the per-task mean scores;
- IQM: 25% trimmed mean of all run-task scores pooled (``scipy.stats.trim_mean(x, 0.25,
  axis=None)``);
- optimality gap: ``gamma - mean(min(scores, gamma))`` pooled, gamma = 1;
- probability of improvement P(X > Y): mean over tasks of U / (n_x n_y), U the
  Mann-Whitney statistic with ties counted 1/2;
- performance profile: fraction of run scores > tau (or of per-task mean scores > tau);
- stratified bootstrap: runs resampled with replacement within each task, tasks fixed
  (optionally tasks resampled too); percentile intervals, 95% by default.

Differences from rliable, on purpose: every random draw comes from the explicit
``numpy.random.Generator`` (rliable uses the global NumPy state), ragged run counts are
supported, and the bootstrap is vectorised over replications (see ``bench/bootstrap.py``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# A (runs x tasks) matrix, or one array of run scores per task (ragged run counts allowed).
ScoresLike = np.ndarray | Sequence[np.ndarray] | Sequence[Sequence[float]]
BatchStatistic = Callable[[np.ndarray, "TaskScores"], np.ndarray]

DEFAULT_REPS = 50_000
DEFAULT_PROFILE_REPS = 2_000
DEFAULT_CONFIDENCE = 0.95
# Bootstrap replications are computed in chunks of at most this many resampled scores,
# so memory stays near 100 MB whatever ``reps`` is.
_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class TaskScores:
    """Scores of one agent, pooled task-major: ``values[offsets[t]:offsets[t+1]]`` is task t."""

    values: np.ndarray
    offsets: np.ndarray

    @property
    def num_tasks(self) -> int:
        return len(self.offsets) - 1

    @property
    def runs_per_task(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def rectangular(self) -> bool:
        counts = self.runs_per_task
        return bool(np.all(counts == counts[0]))

    def task(self, index: int) -> np.ndarray:
        return self.values[self.offsets[index]:self.offsets[index + 1]]


def as_task_scores(scores: ScoresLike | TaskScores) -> TaskScores:
    """Accept a ``(runs x tasks)`` array or one sequence of run scores per task.

    A 2-D array is read as rliable reads it: rows are runs, columns are tasks. A list
    of 1-D arrays is read as one entry per task (ragged run counts allowed).

    Args:
        scores: a ``(runs x tasks)`` array, a sequence of per-task run scores, or TaskScores.
    Returns:
        The scores laid out per task (TaskScores).
    """
    if isinstance(scores, TaskScores):
        return scores
    if isinstance(scores, np.ndarray):
        if scores.ndim != 2:
            raise ValueError(f"scores must be a (runs x tasks) array, got shape {scores.shape}")
        columns = [np.asarray(scores[:, t], dtype=float) for t in range(scores.shape[1])]
    else:
        columns = [np.asarray(task, dtype=float).ravel() for task in scores]
    if not columns:
        raise ValueError("scores must hold at least one task")
    empty = [t for t, column in enumerate(columns) if column.size == 0]
    if empty:
        raise ValueError(f"task {empty[0]} has no run scores; every task needs at least one run")
    values = np.concatenate(columns)
    if not np.all(np.isfinite(values)):
        raise ValueError("scores contain NaN or infinite values; drop or fix those runs first")
    offsets = np.concatenate([[0], np.cumsum([c.size for c in columns])])
    return TaskScores(values, offsets)


# ---- statistics over a batch of resampled score sets: (B, N) -> (B,) ----------------

def _task_means(batch: np.ndarray, layout: TaskScores) -> np.ndarray:
    sums = np.add.reduceat(batch, layout.offsets[:-1], axis=1)
    return sums / layout.runs_per_task


def _batch_mean(batch: np.ndarray, layout: TaskScores) -> np.ndarray:
    return _task_means(batch, layout).mean(axis=1)


def _batch_median(batch: np.ndarray, layout: TaskScores) -> np.ndarray:
    return np.median(_task_means(batch, layout), axis=1)


def _batch_iqm(batch: np.ndarray, layout: TaskScores) -> np.ndarray:
    # scipy.stats.trim_mean(a, 0.25, axis=None): drop int(0.25 n) from each end.
    n = batch.shape[1]
    low = int(0.25 * n)
    high = n - low
    if low == 0:
        return batch.mean(axis=1)
    # A full sort of each (short) row is faster than np.partition with two pivots.
    return np.sort(batch, axis=1)[:, low:high].mean(axis=1)


def _batch_optimality_gap(batch: np.ndarray, layout: TaskScores, gamma: float = 1.0) -> np.ndarray:
    return gamma - np.minimum(batch, gamma).mean(axis=1)


AGGREGATES: dict[str, BatchStatistic] = {
    "mean": _batch_mean,
    "median": _batch_median,
    "iqm": _batch_iqm,
    "optimality_gap": _batch_optimality_gap,
}
# For ranking: optimality gap is the one aggregate where lower is better.
HIGHER_IS_BETTER = {"mean": True, "median": True, "iqm": True, "optimality_gap": False}


def _statistic(metric: str | BatchStatistic) -> BatchStatistic:
    if callable(metric):
        return metric
    try:
        return AGGREGATES[metric]
    except KeyError:
        raise ValueError(f"unknown aggregate {metric!r}; choose one of {', '.join(AGGREGATES)}") from None


def _point(metric: str | BatchStatistic, scores: ScoresLike | TaskScores) -> float:
    layout = as_task_scores(scores)
    return float(_statistic(metric)(layout.values[None, :], layout)[0])


def aggregate_mean(scores: ScoresLike) -> float:
    """Mean over tasks of the per-task mean score.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
    Returns:
        The aggregate mean.
    """
    return _point("mean", scores)


def aggregate_median(scores: ScoresLike) -> float:
    """Median over tasks of the per-task mean score.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
    Returns:
        The aggregate median.
    """
    return _point("median", scores)


def aggregate_iqm(scores: ScoresLike) -> float:
    """Interquartile mean: the 25% trimmed mean of all run-task scores pooled.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
    Returns:
        The interquartile mean.
    """
    return _point("iqm", scores)


def aggregate_optimality_gap(scores: ScoresLike, gamma: float = 1.0) -> float:
    """How far scores fall short of ``gamma``: ``gamma - mean(min(scores, gamma))`` pooled.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
        gamma: the score that counts as optimal (1: the reference).
    Returns:
        The optimality gap (lower is better).
    """
    layout = as_task_scores(scores)
    return float(_batch_optimality_gap(layout.values[None, :], layout, gamma)[0])


# ---- probability of improvement ------------------------------------------------------

def _pairwise_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """U / (n_x n_y) for batches x (B, n_x), y (B, n_y): P(X > Y) + P(X = Y) / 2."""
    greater = (x[:, :, None] > y[:, None, :]).mean(axis=(1, 2))
    ties = (x[:, :, None] == y[:, None, :]).mean(axis=(1, 2))
    return greater + 0.5 * ties


def _check_same_tasks(x: TaskScores, y: TaskScores) -> None:
    if x.num_tasks != y.num_tasks:
        raise ValueError(f"both agents need scores on the same tasks: {x.num_tasks} tasks vs {y.num_tasks}")


def _batch_poi(x_batch: np.ndarray, x: TaskScores, y_batch: np.ndarray, y: TaskScores) -> np.ndarray:
    per_task = [
        _pairwise_improvement(
            x_batch[:, x.offsets[t]:x.offsets[t + 1]], y_batch[:, y.offsets[t]:y.offsets[t + 1]]
        )
        for t in range(x.num_tasks)
    ]
    return np.mean(per_task, axis=0)


def probability_of_improvement(scores_x: ScoresLike, scores_y: ScoresLike) -> float:
    """P(X > Y): the mean over tasks of the Mann-Whitney U / (n_x n_y), ties counted 1/2.

    Args:
        scores_x: X's scores, ``(runs x tasks)`` or per task.
        scores_y: Y's scores on the same tasks (its run counts may differ).
    Returns:
        P(X > Y), in [0, 1].
    """
    x, y = as_task_scores(scores_x), as_task_scores(scores_y)
    _check_same_tasks(x, y)
    return float(_batch_poi(x.values[None, :], x, y.values[None, :], y)[0])


# ---- performance profiles ------------------------------------------------------------

def _batch_profile(batch: np.ndarray, layout: TaskScores, taus: np.ndarray, use_task_means: bool) -> np.ndarray:
    """(B, len(taus)): fraction of runs (mean over tasks) or of task means above each tau.

    One threshold at a time: memory stays that of one (B, N) comparison, not of a
    (B, N, taus) array (4.7 GB at 20,000 resamples and 200 thresholds)."""
    profile = np.empty((batch.shape[0], taus.size))
    if use_task_means:
        means = _task_means(batch, layout)
        for column, tau in enumerate(taus):
            profile[:, column] = (means > tau).mean(axis=1)
        return profile
    for column, tau in enumerate(taus):
        above = np.add.reduceat((batch > tau).astype(np.float64), layout.offsets[:-1], axis=1)
        profile[:, column] = (above / layout.runs_per_task).mean(axis=1)
    return profile


def performance_profile(scores: ScoresLike, taus: Sequence[float] | np.ndarray, use_task_means: bool = False) -> np.ndarray:
    """Score distribution: for each tau, the fraction of run scores strictly above tau.

    With ragged runs each task weighs the same (the fraction is taken per task, then
    averaged), which equals rliable's pooled fraction when all tasks have the same runs.
    ``use_task_means`` gives rliable's "average score distribution" instead.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
        taus: the thresholds.
        use_task_means: profile the per-task mean scores instead of the run scores.
    Returns:
        The fraction of scores above each tau, shape (len(taus),).
    """
    layout = as_task_scores(scores)
    return _batch_profile(layout.values[None, :], layout, np.asarray(taus, dtype=float), use_task_means)[0]


# ---- the stratified bootstrap --------------------------------------------------------

def _resample_indices(layout: TaskScores, reps: int, rng: np.random.Generator, task_bootstrap: bool) -> np.ndarray:
    """(reps, N) indices into ``layout.values``: runs redrawn within each (drawn) task."""
    counts = layout.runs_per_task
    column_task = np.repeat(np.arange(layout.num_tasks), counts)
    if task_bootstrap:
        if not layout.rectangular:
            raise ValueError("task_bootstrap needs the same number of runs on every task")
        n_runs = int(counts[0])
        drawn_tasks = rng.integers(0, layout.num_tasks, size=(reps, layout.num_tasks))
        starts = drawn_tasks[:, column_task] * n_runs
        return starts + rng.integers(0, n_runs, size=(reps, layout.values.size))
    starts = layout.offsets[:-1][column_task]
    if layout.rectangular:
        return starts + rng.integers(0, int(counts[0]), size=(reps, layout.values.size))
    return starts + (rng.random((reps, layout.values.size)) * counts[column_task]).astype(np.int64)


def _chunks(reps: int, width: int) -> list[int]:
    size = max(1, _CHUNK_ELEMENTS // max(1, width))
    return [min(size, reps - start) for start in range(0, reps, size)]


def bootstrap_distribution(
    scores: ScoresLike | TaskScores,
    statistic: str | BatchStatistic,
    rng: np.random.Generator,
    reps: int = DEFAULT_REPS,
    task_bootstrap: bool = False,
) -> np.ndarray:
    """The statistic on ``reps`` stratified-bootstrap resamples of the scores, shape (reps, ...).

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
        statistic: ``"mean"``, ``"median"``, ``"iqm"``, ``"optimality_gap"`` or a batch statistic.
        rng: the generator of the resampling indices.
        reps: number of resamples.
        task_bootstrap: also resample the tasks (rliable's task bootstrap).
    Returns:
        The statistic of each resample, shape (reps,) or (reps, ...) for vector statistics.
    """
    layout = as_task_scores(scores)
    function = _statistic(statistic)
    parts = []
    for size in _chunks(reps, layout.values.size):
        indices = _resample_indices(layout, size, rng, task_bootstrap)
        parts.append(function(layout.values[indices], layout))
    return np.concatenate(parts)


def percentile_interval(distribution: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap interval (as arch's ``method='percentile'``), along axis 0.

    Args:
        distribution: bootstrap replicates along axis 0.
        confidence: the interval's coverage, in (0, 1).
    Returns:
        (low, high), each with the replicates' shape minus axis 0.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(distribution, [tail, 100.0 - tail], axis=0)
    return low, high


@dataclass(frozen=True)
class IntervalEstimate:
    """A point estimate with its bootstrap confidence interval."""

    point: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"point": self.point, "low": self.low, "high": self.high}


def interval_estimate(
    scores: ScoresLike,
    metric: str | BatchStatistic,
    rng: np.random.Generator,
    reps: int = DEFAULT_REPS,
    confidence: float = DEFAULT_CONFIDENCE,
    task_bootstrap: bool = False,
) -> IntervalEstimate:
    """An aggregate (``"mean"``, ``"median"``, ``"iqm"``, ``"optimality_gap"``) with its CI.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
        metric: ``"mean"``, ``"median"``, ``"iqm"``, ``"optimality_gap"`` or a batch statistic.
        rng: the generator of the resampling indices.
        reps: number of stratified-bootstrap resamples.
        confidence: the interval's coverage.
        task_bootstrap: also resample the tasks.
    Returns:
        IntervalEstimate(point, low, high).
    """
    layout = as_task_scores(scores)
    point = float(_statistic(metric)(layout.values[None, :], layout)[0])
    distribution = bootstrap_distribution(layout, metric, rng, reps, task_bootstrap)
    low, high = percentile_interval(distribution, confidence)
    return IntervalEstimate(point, float(low), float(high))


def poi_interval(
    scores_x: ScoresLike,
    scores_y: ScoresLike,
    rng: np.random.Generator,
    reps: int = DEFAULT_REPS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> IntervalEstimate:
    """P(X > Y) with a CI from resampling X's and Y's runs independently within each task
    (rliable's ``StratifiedIndependentBootstrap``).

    Args:
        scores_x: X's scores, ``(runs x tasks)`` or per task.
        scores_y: Y's scores on the same tasks.
        rng: the generator of the resampling indices.
        reps: number of resamples.
        confidence: the interval's coverage.
    Returns:
        IntervalEstimate of P(X > Y).
    """
    x, y = as_task_scores(scores_x), as_task_scores(scores_y)
    _check_same_tasks(x, y)
    point = float(_batch_poi(x.values[None, :], x, y.values[None, :], y)[0])
    parts = []
    for size in _chunks(reps, max(x.values.size * y.values.size // max(1, x.num_tasks), 1)):
        x_batch = x.values[_resample_indices(x, size, rng, False)]
        y_batch = y.values[_resample_indices(y, size, rng, False)]
        parts.append(_batch_poi(x_batch, x, y_batch, y))
    low, high = percentile_interval(np.concatenate(parts), confidence)
    return IntervalEstimate(point, float(low), float(high))


@dataclass(frozen=True)
class ProfileEstimate:
    taus: np.ndarray
    profile: np.ndarray
    low: np.ndarray
    high: np.ndarray


def profile_interval(
    scores: ScoresLike,
    taus: Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    reps: int = DEFAULT_PROFILE_REPS,
    confidence: float = DEFAULT_CONFIDENCE,
    use_task_means: bool = False,
    task_bootstrap: bool = False,
) -> ProfileEstimate:
    """A performance profile at each tau with pointwise bootstrap CIs.

    Args:
        scores: a ``(runs x tasks)`` array, or one array of run scores per task.
        taus: the thresholds.
        rng: the generator of the resampling indices.
        reps: number of resamples.
        confidence: the intervals' coverage.
        use_task_means: profile per-task mean scores.
        task_bootstrap: also resample the tasks.
    Returns:
        ProfileEstimate: the profile at each tau with pointwise low and high bounds.
    """
    layout = as_task_scores(scores)
    tau_array = np.asarray(taus, dtype=float)

    def statistic(batch: np.ndarray, shape: TaskScores) -> np.ndarray:
        return _batch_profile(batch, shape, tau_array, use_task_means)

    profile = statistic(layout.values[None, :], layout)[0]
    distribution = bootstrap_distribution(layout, statistic, rng, reps, task_bootstrap)
    low, high = percentile_interval(distribution, confidence)
    return ProfileEstimate(tau_array, profile, low, high)


# ---- rankings ------------------------------------------------------------------------

@dataclass(frozen=True)
class RankedAgent:
    """One agent's aggregate with CI, its rank, and its rank distribution over the bootstrap.

    ``rank_probabilities[k]`` is the fraction of bootstrap replications in which the
    agent ranked k+1 (competition ranking: tied agents share the better rank).
    """

    name: str
    estimate: IntervalEstimate
    rank: int
    rank_low: int
    rank_high: int
    rank_probabilities: np.ndarray


def competition_ranks(values: Sequence[Any], higher_is_better: bool = True) -> list[int]:
    """Competition ("1224") ranks: 1 is the best, equal values share the better rank.

    Args:
        values: one value per competitor, comparable with ``<``: numbers, or tuples of
            numbers compared lexicographically (several ranking keys in order).
        higher_is_better: whether larger values rank first.
    Returns:
        The rank of each value, in the order given.
    """
    ascending = sorted(values)  # n log n: one ranking may hold thousands of runs
    if higher_is_better:  # 1 + how many are greater
        return [1 + len(ascending) - bisect.bisect_right(ascending, value) for value in values]
    return [1 + bisect.bisect_left(ascending, value) for value in values]  # 1 + how many are smaller


def _competition_ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """:func:`competition_ranks` of every row at once: ranks along axis 1, 1 = best. Each
    row is sorted once (reps x n log n, not the reps x n x n of comparing every pair), and a
    value's rank is one more than the position of the first value equal to it."""
    keyed = -values if higher_is_better else values
    order = np.argsort(keyed, axis=1, kind="stable")
    ordered = np.take_along_axis(keyed, order, axis=1)
    positions = np.broadcast_to(np.arange(keyed.shape[1]), keyed.shape)
    starts_a_tie = np.ones(keyed.shape, dtype=bool)
    starts_a_tie[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first_of_tie = np.maximum.accumulate(np.where(starts_a_tie, positions, 0), axis=1)
    ranks = np.empty(keyed.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, first_of_tie + 1, axis=1)
    return ranks


def rank_agents(
    scores_by_agent: Mapping[str, ScoresLike],
    rng: np.random.Generator,
    metric: str = "iqm",
    reps: int = DEFAULT_REPS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[RankedAgent]:
    """Rank agents by an aggregate, with CIs and rank intervals from one bootstrap.

    Each agent's runs are resampled independently within each task; in every
    replication the agents are ranked, giving each agent a rank distribution. The rank
    interval holds the central ``confidence`` mass of that distribution. Sorted best first.

    Args:
        scores_by_agent: each agent's scores on the same tasks, ``(runs x tasks)`` or per task.
        rng: the generator of the resampling indices.
        metric: the aggregate agents are ranked by.
        reps: number of resamples.
        confidence: coverage of the aggregate and rank intervals.
    Returns:
        One RankedAgent per agent, best first.
    """
    if not scores_by_agent:
        return []
    layouts = {name: as_task_scores(s) for name, s in scores_by_agent.items()}
    task_counts = {layout.num_tasks for layout in layouts.values()}
    if len(task_counts) > 1:
        raise ValueError(f"all agents need scores on the same tasks, got task counts {sorted(task_counts)}")
    names = list(layouts)
    distributions = np.stack([bootstrap_distribution(layouts[n], metric, rng, reps) for n in names], axis=1)
    points = np.array([[_point(metric, layouts[n]) for n in names]])
    higher = HIGHER_IS_BETTER.get(metric, True) if isinstance(metric, str) else True
    ranks = _competition_ranks(distributions, higher)
    point_ranks = _competition_ranks(points, higher)[0]
    tail = 100.0 * (1.0 - confidence) / 2.0
    ranked = []
    for column, name in enumerate(names):
        low, high = percentile_interval(distributions[:, column], confidence)
        column_ranks = ranks[:, column]
        ranked.append(RankedAgent(
            name=name,
            estimate=IntervalEstimate(float(points[0, column]), float(low), float(high)),
            rank=int(point_ranks[column]),
            rank_low=int(np.percentile(column_ranks, tail, method="lower")),
            rank_high=int(np.percentile(column_ranks, 100.0 - tail, method="higher")),
            rank_probabilities=np.bincount(column_ranks - 1, minlength=len(names)) / reps,
        ))
    return sorted(ranked, key=lambda agent: (agent.rank, agent.name))
