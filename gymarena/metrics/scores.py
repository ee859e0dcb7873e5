"""Per-task scores: returns, normalised scores, success rates and bootstrap CIs.

Pure functions over numpy arrays. Randomness enters only through an explicit
``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# What each number means; part of every protocol hash, so a change here is a change
# of protocol and must bump the version.
# What every protocol hash covers of the metrics (version 1). Its "ci" entry describes the
# intervals of version 1; scores now draw their intervals over seeds (gymarena/scoring.py),
# computed when read from the same stored episodes, so stored results stay comparable. The
# dict is hashed into every stored protocol: changing it would move every result's hash.
METRIC_DEFINITIONS = {
    "version": 1,
    "return": "undiscounted sum of rewards over the episode",
    "normalised_score": "(return - random) / (reference - random), per episode, then averaged",
    "success_rate": "fraction of episodes whose task success rule held",
    "ci": "95% percentile bootstrap of the mean over episodes, 2000 resamples",
}

DEFAULT_RESAMPLES = 2000


def _as_1d(values: np.ndarray | list[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def mean_and_std(returns: np.ndarray | list[float]) -> tuple[float, float]:
    """Mean and population standard deviation (ddof=0, as SB3's evaluate_policy reports).

    Args:
        returns: episode returns, shape (n,), n >= 1.
    Returns:
        (mean, std).
    """
    array = _as_1d(returns, "returns")
    if array.size == 0:
        raise ValueError("mean_and_std needs at least one return")
    return float(array.mean()), float(array.std())


def normalised_scores(returns: np.ndarray | list[float], random: float, reference: float) -> np.ndarray:
    """Map returns so that the random score is 0 and the reference score is 1.

    Args:
        returns: episode returns, shape (n,).
        random: the return of a uniformly random policy on the task.
        reference: the return of the task's reference policy.
    Returns:
        (returns - random) / (reference - random), shape (n,).
    """
    if reference == random:
        raise ValueError("reference and random scores must differ to normalise")
    return (_as_1d(returns, "returns") - random) / (reference - random)


def success_rate(successes: np.ndarray | list[bool]) -> float:
    """Fraction of successful episodes.

    Args:
        successes: one boolean per episode, shape (n,), n >= 1.
    Returns:
        The mean of ``successes`` as a float in [0, 1].
    """
    array = np.asarray(successes, dtype=bool)
    if array.ndim != 1 or array.size == 0:
        raise ValueError("success_rate needs a non-empty one-dimensional array")
    return float(array.mean())


def bootstrap_ci(
    values: np.ndarray | list[float],
    rng: np.random.Generator,
    statistic: Callable[[np.ndarray], np.ndarray] = lambda resamples: resamples.mean(axis=-1),
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a statistic.

    Draws ``resamples`` samples of size n with replacement from ``values``, applies
    ``statistic`` along the last axis and returns the (1-confidence)/2 and
    (1+confidence)/2 percentiles of the results.

    Args:
        values: the observations, shape (n,), n >= 1.
        rng: the generator for the resampling indices.
        statistic: maps an array (resamples, n) to (resamples,); the mean by default.
        confidence: the interval's coverage, in (0, 1).
        resamples: number of bootstrap resamples.
    Returns:
        (low, high).
    """
    array = _as_1d(values, "values")
    if array.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    indices = rng.integers(0, array.size, size=(resamples, array.size))
    estimates = statistic(array[indices])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(estimates, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)
