"""The first metrics: pure functions checked against hand-computed values and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from gymarena.metrics import bootstrap_ci, mean_and_std, normalised_scores, success_rate


def test_mean_and_population_std():
    assert mean_and_std([1.0, 2.0, 3.0, 4.0]) == pytest.approx((2.5, np.sqrt(1.25)))
    with pytest.raises(ValueError):
        mean_and_std([])


def test_normalised_scores_map_random_to_zero_and_reference_to_one():
    assert normalised_scores([-280.0, 12135.0, 5927.5], -280.0, 12135.0) == pytest.approx([0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="must differ"):
        normalised_scores([1.0], 3.0, 3.0)


def test_success_rate():
    assert success_rate([True, False, True, True]) == 0.75
    with pytest.raises(ValueError):
        success_rate([])


def test_bootstrap_is_reproducible_and_needs_an_explicit_generator():
    values = np.arange(20.0)
    first = bootstrap_ci(values, np.random.default_rng(5))
    assert first == bootstrap_ci(values, np.random.default_rng(5))
    assert first != bootstrap_ci(values, np.random.default_rng(6))
    assert bootstrap_ci([3.0, 3.0, 3.0], np.random.default_rng(0)) == (3.0, 3.0)


def test_bootstrap_agrees_with_scipy_percentile_bootstrap():
    sample = np.random.default_rng(1).normal(10.0, 2.0, size=60)
    ours = bootstrap_ci(sample, np.random.default_rng(2), resamples=20000)
    scipy_ci = stats.bootstrap((sample,), np.mean, method="percentile", n_resamples=20000,
                               random_state=np.random.default_rng(3)).confidence_interval
    assert ours == pytest.approx((scipy_ci.low, scipy_ci.high), abs=0.05)


def test_bootstrap_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(400):
        low, high = bootstrap_ci(rng.normal(0.0, 1.0, size=50), rng, resamples=1000)
        hits += low <= 0.0 <= high
    assert 0.90 <= hits / 400 <= 0.98
