"""Crash-rate estimation efficiency: RHW, tests needed, and the D2RL figures."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.metrics import efficiency
from gymarena.metrics.efficiency import TestOutcomes

Z = 1.6448536269514722  # Phi^-1(0.95), the 90% two-sided quantile


def test_z_is_the_ninety_percent_two_sided_quantile():
    assert efficiency.z_value(0.9) == pytest.approx(Z)
    with pytest.raises(ValueError, match="confidence"):
        efficiency.z_value(1.5)


def test_d2rl_naturalistic_figures():
    n_tests, n_crashes = 234_212_252, 37
    crashes = np.random.default_rng(1).choice(n_tests, size=n_crashes, replace=False)
    outcomes = TestOutcomes.naturalistic(n_tests, crashes)
    assert outcomes.crash_rate == pytest.approx(1.5798e-7, rel=1e-4)
    assert efficiency.naturalistic_tests_needed(outcomes.crash_rate) == pytest.approx(1.90e8, rel=0.01)
    # From the sequence: RHW^2 = z^2 (1/k - 1/n) first stays <= 0.09 at the 31st crash.
    assert efficiency.tests_needed(outcomes, naturalistic=True) == np.sort(crashes)[30] + 1


def test_hand_computed_rhw_for_naturalistic_tests():
    # k crashes in n tests: RHW = z sqrt(p (1-p)) / (sqrt(n) p) with p = k/n.
    rhw = efficiency.relative_half_width([0, 1, 0, 0, 1], naturalistic=True)
    assert np.isnan(rhw[0])
    assert rhw[1:] == pytest.approx([Z * np.sqrt(1 / 2), Z * np.sqrt(2 / 3), Z * np.sqrt(3 / 4), Z * np.sqrt(3 / 10)])


def test_hand_computed_rhw_for_weighted_tests():
    # n=2: mean .25, s = .5/sqrt(2) -> RHW = z; n=3: mean 1/6, s = sqrt(1/12) -> z sqrt(1/12)/(sqrt(3)/6) = z;
    # n=4: mean .15, s^2 = (.26 - 4 * .0225) / 3 -> RHW = z s / (2 * .15).
    rhw = efficiency.relative_half_width([0, 0.5, 0, 0.1])
    s4 = np.sqrt((0.26 - 4 * 0.15**2) / 3)
    assert np.isnan(rhw[0])
    assert rhw[1:] == pytest.approx([Z, Z, Z * s4 / (2 * 0.15)])
    running = [np.std(np.array([0, 0.5, 0, 0.1])[:n], ddof=1) for n in (2, 3, 4)]
    means = np.array([0.25, 1 / 6, 0.15])
    assert rhw[1:] == pytest.approx(Z * np.array(running) / (np.sqrt([2, 3, 4]) * means))


def test_tests_needed_is_where_rhw_stays_below_the_threshold():
    # RHW after 1..4 tests: undefined, 1.645, 1.645, 1.305.
    assert efficiency.tests_needed([0, 0.5, 0, 0.1], threshold=1.7) == 2
    assert efficiency.tests_needed([0, 0.5, 0, 0.1], threshold=1.0) is None
    assert efficiency.tests_needed([0, 0.5, 0, 0.1], threshold=1.5) == 4


def test_sparse_tests_needed_equals_brute_force_on_random_sequences():
    rng = np.random.default_rng(0)
    for trial in range(500):
        n = int(rng.integers(1, 80))
        crash = rng.random(n) < rng.uniform(0.02, 0.6)
        naturalistic = trial % 2 == 0
        outcomes = crash * (1.0 if naturalistic else rng.uniform(0.01, 2.0, n))
        threshold = float(rng.choice([0.3, 0.5, 1.0, 2.0]))
        rhw = efficiency.relative_half_width(outcomes, naturalistic=naturalistic)
        above = np.flatnonzero(np.isnan(rhw) | (rhw > threshold))
        expected = 1 if above.size == 0 else (None if above[-1] == n - 1 else int(above[-1]) + 2)
        assert efficiency.tests_needed(outcomes, threshold=threshold, naturalistic=naturalistic) == expected


def test_bad_outcomes_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        TestOutcomes.from_array([0.0, -1.0])
    with pytest.raises(ValueError, match="at least one test"):
        TestOutcomes.from_array([])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        TestOutcomes.naturalistic(10, [3, 12])
    with pytest.raises(ValueError, match="no crash"):
        efficiency.evaluation_efficiency(np.zeros(100), np.random.default_rng(0))


def test_importance_sampling_efficiency_has_a_ci_around_the_point():
    rng = np.random.default_rng(2)
    n_tests = 200_000
    positions = np.sort(rng.choice(n_tests, size=2000, replace=False))
    weights = np.exp(rng.normal(np.log(2e-5), 0.5, size=2000))
    outcomes = TestOutcomes(n_tests, positions, weights)
    estimate = efficiency.evaluation_efficiency(outcomes, np.random.default_rng(3), naturalistic_rate=2e-7, reps=300)
    assert estimate.tests_needed is not None and estimate.tests_needed < n_tests
    assert estimate.efficiency == pytest.approx(efficiency.naturalistic_tests_needed(2e-7) / estimate.tests_needed)
    assert estimate.low < estimate.efficiency < estimate.high
    again = efficiency.evaluation_efficiency(outcomes, np.random.default_rng(3), naturalistic_rate=2e-7, reps=300)
    assert again == estimate


def test_bootstrap_resamples_keep_the_crash_count_binomial():
    outcomes = TestOutcomes.naturalistic(1_000_000, np.arange(0, 1_000_000, 10_000))  # 100 crashes
    _, rates = efficiency.tests_needed_bootstrap(outcomes, np.random.default_rng(4), reps=2000, naturalistic=True)
    counts = rates * 1_000_000
    assert counts.mean() == pytest.approx(100, rel=0.02)
    assert counts.std() == pytest.approx(10, rel=0.1)  # sqrt(N p (1-p)) ~ 10
