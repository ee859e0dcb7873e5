"""Diagnostics of an importance-sampled rare-event estimate: can its interval be trusted?

An importance-sampled crash rate is the mean of each test's outcome w_i 1[crash_i]. Its
normal interval assumes the sample variance of those outcomes is near the true one, which
fails when the estimate rests on a few heavy tests, or when the heavy tests that carry part
of the rate have not been seen yet (the variance then looks small and the interval
confident). Two diagnostics from the literature say so:

- **Effective sample size** (Kish): (sum w)^2 / sum w^2, over the weights of every test, and
  the same over the crash contributions: the *effective crashes*, how many equally weighted
  crashes the estimate is worth (one test holding half of it makes it under 4).
- **Pareto k-hat** (Vehtari, Simpson, Gelman, Yao, Gabry, "Pareto Smoothed Importance
  Sampling", JMLR 2024): the shape of a generalised Pareto distribution fitted to the largest
  crash contributions (the right tail of the summands of the estimate); k < 0.5 means a
  finite variance and a central limit theorem that holds at practical sample sizes, k >= 0.7
  an estimate that cannot be trusted at any practical size. The fit is arviz-stats'
  (Zhang and Stephens' estimate with the paper's weak prior), on the crash contributions
  alone, and needs at least 25 crashes (its tail is at least 5 of them).

Neither sees a tail that has not been sampled yet, and that is the failure the coverage
benchmark measured (bench/cav_coverage.py, docs/cav.md): part of an AV's crash rate comes
from tests the importance function barely steered (weight near 1), whose crashes are as
rare as naturalistic ones, so a run of a few thousand tests often has none and settles low
with a confident interval. So the tests whose weight is at least ``UNSTEERED_WEIGHT`` are
taken apart as a naturalistic stratum: their crash count gets Wilson's interval (as NDE's
does, sound at zero crashes), scaled by their mean weight and share of the tests, and what
its upper end allows beyond the crashes seen (the *unseen allowance*) widens the upper end
of the run's interval. An interval is trusted only once that allowance is small against
the estimate.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena.metrics.proportions import wilson_interval

MIN_CRASHES_FOR_SHAPE = 25  # arviz-stats fits a tail of at least 5 of n / 5 values
UNSTEERED_WEIGHT = 0.5  # a test weighing this much was steered little: its crashes are about as rare as under the NDD


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 (0 for no positive weight)."""
    weights = np.asarray(weights, dtype=float)
    squares = float(np.sum(weights * weights))
    return float(np.sum(weights)) ** 2 / squares if squares > 0 else 0.0


def tail_shape(contributions: np.ndarray) -> float | None:
    """Pareto k-hat of the right tail of the positive contributions (None under 25 of them)."""
    positive = np.asarray(contributions, dtype=float)
    positive = positive[positive > 0]
    if positive.size < MIN_CRASHES_FOR_SHAPE:
        return None
    from arviz_stats.base import array_stats

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # ties in the tail: arviz warns, then copes
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(array_stats.pareto_khat(positive, chain_axis=None, draw_axis=-1, r_eff=1.0, tail="right"))
    except ValueError as exc:
        if "same" not in str(exc):
            raise
        return 0.0  # every tail value equal (tests steered alike): a bounded tail, nothing heavy in it


@dataclass(frozen=True)
class WeightDiagnostics:
    """What a run's weights say about its interval (see the module docstring)."""

    effective_tests: float
    effective_crashes: float
    largest_share: float  # of the estimate, held by its heaviest test
    tail_shape: float | None  # Pareto k-hat of the crash contributions
    estimate: float = 0.0  # the crash rate the diagnostics are of
    unsteered_tests: int = 0  # weighing at least UNSTEERED_WEIGHT
    unsteered_crashes: int = 0
    unseen_allowance: float = 0.0  # what the unsteered stratum's Wilson bound allows beyond its crashes seen

    @property
    def unseen_share(self) -> float:
        """The unseen allowance against the estimate (inf for a zero estimate)."""
        return self.unseen_allowance / self.estimate if self.estimate > 0 else math.inf

    def to_json(self) -> dict[str, Any]:
        return {"effective_tests": round(self.effective_tests, 3), "effective_crashes": round(self.effective_crashes, 3),
                "largest_share": round(self.largest_share, 6),
                "tail_shape": None if self.tail_shape is None else round(self.tail_shape, 4), "estimate": self.estimate,
                "unsteered_tests": self.unsteered_tests, "unsteered_crashes": self.unsteered_crashes,
                "unseen_allowance": self.unseen_allowance}

    @classmethod
    def from_json(cls, data: Any) -> WeightDiagnostics | None:
        """From a stored summary's entry (None for a summary that has none, or garbage)."""
        try:
            shape = data.get("tail_shape")
            values = [float(data[key]) for key in ("effective_tests", "effective_crashes", "largest_share", "estimate",
                                                   "unseen_allowance")]
            counts = [int(data[key]) for key in ("unsteered_tests", "unsteered_crashes")]
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in values) or (shape is not None and not isinstance(shape, (int, float))):
            return None
        return cls(values[0], values[1], values[2], None if shape is None else float(shape), values[3], counts[0],
                   counts[1], values[4])


def unsteered_stratum(weights: np.ndarray, crashed: np.ndarray, z: float) -> tuple[int, int, float]:
    """(tests weighing at least UNSTEERED_WEIGHT, their crashes, the unseen allowance): the
    upper end of their contribution (Wilson's bound on their crash rate x their mean weight x
    their share of the tests) less the contribution their crashes made."""
    n = weights.size
    unsteered = weights >= UNSTEERED_WEIGHT
    count, crashes = int(unsteered.sum()), int((unsteered & crashed).sum())
    if count == 0:
        return 0, 0, 0.0
    seen = float(weights[unsteered & crashed].sum()) / n
    bound = float(weights[unsteered].mean()) * count / n * wilson_interval(crashes, count, z)[1]
    return count, crashes, max(0.0, bound - seen)


def diagnose(weights: np.ndarray, crashed: np.ndarray, z: float) -> WeightDiagnostics:
    """The diagnostics of a run from each test's weight and whether it crashed (``z``: of the
    run's interval, for the unseen allowance)."""
    weights = np.asarray(weights, dtype=float)
    crashed = np.asarray(crashed, dtype=bool)
    contributions = np.where(crashed, weights, 0.0)
    total = float(contributions.sum())
    count, crashes, allowance = unsteered_stratum(weights, crashed, z)
    return WeightDiagnostics(effective_tests=effective_sample_size(weights),
                             effective_crashes=effective_sample_size(contributions),
                             largest_share=float(contributions.max()) / total if total > 0 else 0.0,
                             tail_shape=tail_shape(contributions), estimate=total / weights.size if weights.size else 0.0,
                             unsteered_tests=count, unsteered_crashes=crashes, unseen_allowance=allowance)
