"""Evaluation efficiency of crash-rate testing: relative half-width and tests needed.

Definitions follow D2RL (Feng et al., "Dense reinforcement learning for safety validation
of autonomous vehicles", Nature 2023; reference: ``data_analysis/analysis_and_figures/
crash_rate/crash_rate_bootstrap_plot.ipynb`` in github.com/michigan-traffic-lab/
Dense-Deep-Reinforcement-Learning) and NADE (Feng et al., Nat. Commun. 2021):

- test i has outcome X_i = W_i * 1[crash_i]; W_i is the importance weight (1 for a
  naturalistic test). The crash-rate estimate after n tests is mu_n = mean(X_1..X_n).
- relative half-width RHW_n = z * s_n / (sqrt(n) * mu_n), z = Phi^-1(1 - (1-c)/2) for
  confidence c (0.9 -> z = Phi^-1(0.95)). s_n is the running sample standard deviation
  (ddof=1, pandas ``rolling.std``) for weighted tests, and the Bernoulli standard deviation
  sqrt(mu_n (1 - mu_n)) for naturalistic tests. RHW is undefined before the first crash.
- tests needed: the number of tests n from which RHW stays <= the threshold (0.3) for
  every later count; an undefined RHW counts as above it. (The notebook reports
  ``np.where(rhw > 0.3)[0][-1]``, the 0-based index of the last test above it, which is
  this number minus 2.) For naturalistic testing the closed form is
  z^2 (1 - p) / (threshold^2 p).
- efficiency = tests needed by naturalistic testing / tests needed by the method.

Outcomes are kept sparse (the count of tests plus the positions and values of the
non-zero ones), so 10^8 naturalistic tests with a few dozen crashes cost nothing: between
two crashes the running sums are constant and RHW is monotone in n, so each stretch is
settled from its two ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

DEFAULT_CONFIDENCE = 0.9
DEFAULT_THRESHOLD = 0.3
DEFAULT_BOOTSTRAP_REPS = 1000


def z_value(confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The two-sided normal quantile: 0.9 gives Phi^-1(0.95) = 1.6449.

    Args:
        confidence: the two-sided coverage, in (0, 1).
    Returns:
        z = Phi^-1(1 - (1 - confidence) / 2).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


@dataclass(frozen=True)
class TestOutcomes:
    """``n_tests`` tests of which those at 0-based ``positions`` (sorted) had non-zero ``values``."""

    __test__ = False  # not a pytest test class, despite the name

    n_tests: int
    positions: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.n_tests < 1:
            raise ValueError("there must be at least one test")
        if self.positions.shape != self.values.shape or self.positions.ndim != 1:
            raise ValueError("positions and values must be 1-D arrays of the same length")
        if self.positions.size and (self.positions[0] < 0 or self.positions[-1] >= self.n_tests):
            raise ValueError(f"crash positions must lie in [0, {self.n_tests})")
        if np.any(np.diff(self.positions) <= 0):
            raise ValueError("crash positions must be strictly increasing")
        if not np.all(np.isfinite(self.values)) or np.any(self.values <= 0):
            raise ValueError("crash outcomes (weight x 1[crash]) must be finite and > 0")

    @classmethod
    def from_array(cls, outcomes: np.ndarray | list[float]) -> TestOutcomes:
        """From one outcome per test: 0 for no crash, the importance weight for a crash."""
        array = np.asarray(outcomes, dtype=float)
        if array.ndim != 1:
            raise ValueError(f"outcomes must be one-dimensional, got shape {array.shape}")
        if array.size == 0:
            raise ValueError("there must be at least one test")
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise ValueError("outcomes must be finite and >= 0 (weight x 1[crash])")
        positions = np.flatnonzero(array)
        return cls(int(array.size), positions, array[positions])

    @classmethod
    def naturalistic(cls, n_tests: int, crash_positions: np.ndarray | list[int]) -> TestOutcomes:
        """Naturalistic tests (weight 1) with crashes at the given 0-based positions."""
        positions = np.sort(np.asarray(crash_positions, dtype=np.int64))
        return cls(int(n_tests), positions, np.ones(positions.size))

    @property
    def n_crashes(self) -> int:
        return int(self.positions.size)

    @property
    def crash_rate(self) -> float:
        """The (importance-weighted) crash-rate estimate mu_N over all tests."""
        return float(self.values.sum() / self.n_tests)

    def to_array(self) -> np.ndarray:
        dense = np.zeros(self.n_tests)
        dense[self.positions] = self.values
        return dense


def _as_outcomes(outcomes: TestOutcomes | np.ndarray | list[float]) -> TestOutcomes:
    return outcomes if isinstance(outcomes, TestOutcomes) else TestOutcomes.from_array(outcomes)


def _rhw(n: np.ndarray, sums: np.ndarray, squares: np.ndarray, z: float, naturalistic: bool) -> np.ndarray:
    """RHW after n tests whose outcomes sum to ``sums`` (squares to ``squares``); inf if undefined."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sums / n
        if naturalistic:
            variance = mean * (1.0 - mean)
        else:
            variance = np.maximum(squares - sums * mean, 0.0) / (n - 1.0)
        value = z * np.sqrt(variance) / (np.sqrt(n) * mean)
    undefined = (sums <= 0) | ((not naturalistic) & (n < 2))
    return np.where(undefined | ~np.isfinite(value), np.inf, value)


def relative_half_width(
    outcomes: TestOutcomes | np.ndarray | list[float],
    confidence: float = DEFAULT_CONFIDENCE,
    naturalistic: bool = False,
) -> np.ndarray:
    """RHW_n for n = 1..N (dense, for plots and small data); NaN where undefined.

    Args:
        outcomes: the tests' outcomes W_i * 1[crash_i], in test order (or TestOutcomes).
        confidence: the confidence of the half-width.
        naturalistic: use the Bernoulli standard deviation (unweighted tests).
    Returns:
        RHW after each number of tests, shape (N,).
    """
    data = _as_outcomes(outcomes)
    dense = data.to_array()
    n = np.arange(1, data.n_tests + 1)
    values = _rhw(n, np.cumsum(dense), np.cumsum(dense * dense), z_value(confidence), naturalistic)
    return np.where(np.isinf(values), np.nan, values)


def running_crash_rate(outcomes: TestOutcomes | np.ndarray | list[float]) -> np.ndarray:
    """mu_n for n = 1..N.

    Args:
        outcomes: the tests' outcomes, in test order (or TestOutcomes).
    Returns:
        The estimate after each number of tests, shape (N,).
    """
    data = _as_outcomes(outcomes)
    return np.cumsum(data.to_array()) / np.arange(1, data.n_tests + 1)


def tests_needed(
    outcomes: TestOutcomes | np.ndarray | list[float],
    threshold: float = DEFAULT_THRESHOLD,
    confidence: float = DEFAULT_CONFIDENCE,
    naturalistic: bool = False,
) -> int | None:
    """The number of tests from which RHW stays <= ``threshold``; None if never reached.

    Args:
        outcomes: the tests' outcomes, in test order (or TestOutcomes).
        threshold: the relative half-width to reach.
        confidence: the confidence of the half-width.
        naturalistic: use the Bernoulli standard deviation.
    Returns:
        The tests needed, or None.
    """
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    data = _as_outcomes(outcomes)
    z = z_value(confidence)
    # Stretch k (k = 0..K) covers test counts [lo_k, hi_k] with the first k crashes counted.
    lo = np.concatenate([[1], data.positions + 1])
    hi = np.concatenate([data.positions, [data.n_tests]])
    sums = np.concatenate([[0.0], np.cumsum(data.values)])
    squares = np.concatenate([[0.0], np.cumsum(data.values * data.values)])
    nonempty = lo <= hi
    above_lo = _rhw(lo, sums, squares, z, naturalistic) > threshold
    above_hi = _rhw(hi, sums, squares, z, naturalistic) > threshold
    exceeding = np.flatnonzero(nonempty & (above_lo | above_hi))
    if exceeding.size == 0:
        return 1
    k = int(exceeding[-1])
    if above_hi[k]:
        last_above = int(hi[k])
    else:
        # RHW is monotone on the stretch, above at lo and not at hi: bisect the crossing.
        low, high = int(lo[k]), int(hi[k])
        while high - low > 1:
            middle = (low + high) // 2
            if _rhw(np.array([middle]), sums[k], squares[k], z, naturalistic)[0] > threshold:
                low = middle
            else:
                high = middle
        last_above = low
    return None if last_above >= data.n_tests else last_above + 1


def naturalistic_tests_needed(
    crash_rate: float, threshold: float = DEFAULT_THRESHOLD, confidence: float = DEFAULT_CONFIDENCE
) -> float:
    """Closed form for naturalistic testing: z^2 (1 - p) / (threshold^2 p).

    Args:
        crash_rate: the crash probability p per naturalistic test, in (0, 1).
        threshold: the relative half-width to reach.
        confidence: the confidence of the half-width.
    Returns:
        The tests needed (a float: the closed form is not rounded).
    """
    if not 0.0 < crash_rate < 1.0:
        raise ValueError(f"crash rate must be in (0, 1), got {crash_rate}")
    return z_value(confidence) ** 2 * (1.0 - crash_rate) / (threshold**2 * crash_rate)


def _resample(data: TestOutcomes, rng: np.random.Generator) -> TestOutcomes:
    """A bootstrap resample of the N tests, drawn in its sparse form.

    Drawing N tests with replacement gives Binomial(N, K/N) non-zero tests, each value
    drawn uniformly from the K observed ones, at uniformly random distinct positions.
    """
    count = int(rng.binomial(data.n_tests, data.n_crashes / data.n_tests)) if data.n_crashes else 0
    positions = np.sort(rng.choice(data.n_tests, size=count, replace=False)) if count else np.empty(0, np.int64)
    values = data.values[rng.integers(0, data.n_crashes, size=count)] if count else np.empty(0)
    return TestOutcomes(data.n_tests, positions, values)


def tests_needed_bootstrap(
    outcomes: TestOutcomes | np.ndarray | list[float],
    rng: np.random.Generator,
    reps: int = DEFAULT_BOOTSTRAP_REPS,
    threshold: float = DEFAULT_THRESHOLD,
    confidence: float = DEFAULT_CONFIDENCE,
    naturalistic: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Tests needed and crash rate on ``reps`` resamples of the tests (inf: never reached).

    Args:
        outcomes: the tests' outcomes, in test order (or TestOutcomes).
        rng: the generator of the resampling.
        reps: number of resamples.
        threshold: the relative half-width to reach.
        confidence: the confidence of the half-width.
        naturalistic: use the Bernoulli standard deviation.
    Returns:
        (tests needed per resample, crash rate per resample), each shape (reps,).
    """
    data = _as_outcomes(outcomes)
    needed = np.empty(reps)
    rates = np.empty(reps)
    for rep in range(reps):
        sample = _resample(data, rng)
        value = tests_needed(sample, threshold, confidence, naturalistic)
        needed[rep] = np.inf if value is None else value
        rates[rep] = sample.crash_rate
    return needed, rates


@dataclass(frozen=True)
class EfficiencyEstimate:
    """How many times fewer tests a method needs than naturalistic testing, with a CI."""

    crash_rate: float
    tests_needed: int | None
    naturalistic_tests_needed: float
    efficiency: float
    low: float
    high: float
    reps: int


def evaluation_efficiency(
    outcomes: TestOutcomes | np.ndarray | list[float],
    rng: np.random.Generator,
    naturalistic_rate: float | None = None,
    reps: int = DEFAULT_BOOTSTRAP_REPS,
    threshold: float = DEFAULT_THRESHOLD,
    confidence: float = DEFAULT_CONFIDENCE,
    ci_confidence: float = 0.95,
    naturalistic: bool = False,
) -> EfficiencyEstimate:
    """Efficiency of a testing method over naturalistic testing, with a bootstrap CI.

    Naturalistic tests needed come from the closed form at ``naturalistic_rate`` (a
    known crash rate, e.g. from a large naturalistic run) or, if not given, at the
    method's own unbiased estimate (re-estimated in every bootstrap replicate). A
    replicate in which RHW never reaches the threshold counts as efficiency 0.

    Args:
        outcomes: the method's tests' outcomes, in test order (or TestOutcomes).
        rng: the generator of the resampling.
        naturalistic_rate: a known naturalistic crash rate; None: the method's own estimate.
        reps: number of resamples.
        threshold: the relative half-width to reach.
        confidence: the confidence of the half-width.
        ci_confidence: the coverage of the efficiency's interval.
        naturalistic: the method's own tests are naturalistic.
    Returns:
        EfficiencyEstimate: the efficiency with its bootstrap interval and the tests needed behind
            it.
    """
    data = _as_outcomes(outcomes)
    if data.n_crashes == 0:
        raise ValueError("no crash among the tests: the crash rate and its precision are undefined")
    needed = tests_needed(data, threshold, confidence, naturalistic)
    rate = naturalistic_rate if naturalistic_rate is not None else data.crash_rate
    baseline = naturalistic_tests_needed(rate, threshold, confidence)
    samples, rates = tests_needed_bootstrap(data, rng, reps, threshold, confidence, naturalistic)
    if naturalistic_rate is None:
        valid = (rates > 0) & (rates < 1)
        baselines = np.zeros(reps)
        baselines[valid] = [naturalistic_tests_needed(r, threshold, confidence) for r in rates[valid]]
    else:
        baselines = np.full(reps, baseline)
    efficiencies = baselines / samples
    tail = 100.0 * (1.0 - ci_confidence) / 2.0
    low, high = np.percentile(efficiencies, [tail, 100.0 - tail])
    return EfficiencyEstimate(
        crash_rate=data.crash_rate,
        tests_needed=needed,
        naturalistic_tests_needed=baseline,
        efficiency=baseline / needed if needed else 0.0,
        low=float(low),
        high=float(high),
        reps=reps,
    )
