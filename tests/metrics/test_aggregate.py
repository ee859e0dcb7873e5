"""Aggregates, probability of improvement, profiles, bootstrap CIs and rank intervals.

Vectors from rliable's own tests; other values checked against SciPy and brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from gymarena.metrics import aggregate

X = np.array([[1, 2], [2, 2], [1, 1], [2, 1]], dtype=float)
Y = np.array([[1, 1], [2, 2], [3, 3]], dtype=float)


def test_rliable_test_vectors():
    for function in (aggregate.aggregate_median, aggregate.aggregate_mean, aggregate.aggregate_iqm):
        assert function(X) == pytest.approx(1.5)
        assert function(Y) == pytest.approx(2.0)
    assert aggregate.probability_of_improvement(X, Y) == pytest.approx(1 / 3)
    assert aggregate.probability_of_improvement(Y, X) == pytest.approx(2 / 3)


def test_iqm_is_scipy_trim_mean_over_pooled_scores_and_gap_clips_at_gamma():
    scores = np.random.default_rng(3).normal(0.8, 0.6, size=(7, 5))
    assert aggregate.aggregate_iqm(scores) == pytest.approx(stats.trim_mean(scores, 0.25, axis=None))
    assert aggregate.aggregate_optimality_gap(scores) == pytest.approx(1 - np.minimum(scores, 1).mean())
    assert aggregate.aggregate_optimality_gap(np.full((3, 2), 2.0)) == 0.0


def test_probability_of_improvement_matches_mann_whitney_u():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, size=(6, 3)).astype(float)  # many ties on purpose
    y = rng.integers(0, 4, size=(5, 3)).astype(float)
    expected = np.mean([
        stats.mannwhitneyu(x[:, t], y[:, t], alternative="greater").statistic / (6 * 5) for t in range(3)
    ])
    assert aggregate.probability_of_improvement(x, y) == pytest.approx(expected)
    assert aggregate.probability_of_improvement(x, x) == pytest.approx(0.5)


def test_ragged_runs_weigh_each_task_equally_in_the_mean_and_pool_for_the_iqm():
    ragged = [[1.0, 2.0, 3.0], [10.0]]
    assert aggregate.aggregate_mean(ragged) == pytest.approx((2.0 + 10.0) / 2)
    assert aggregate.aggregate_iqm(ragged) == pytest.approx(stats.trim_mean([1, 2, 3, 10], 0.25))
    assert aggregate.performance_profile(ragged, [1.5]) == pytest.approx([(2 / 3 + 1) / 2])


def test_performance_profile_counts_scores_strictly_above_tau():
    assert aggregate.performance_profile(X, [0.5, 1.0, 1.5, 2.0]) == pytest.approx([1.0, 0.5, 0.5, 0.0])
    assert aggregate.performance_profile(X, [1.0, 1.5], use_task_means=True) == pytest.approx([1.0, 0.0])


def test_bad_scores_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="runs x tasks"):
        aggregate.aggregate_iqm(np.ones(4))
    with pytest.raises(ValueError, match="task 1 has no run scores"):
        aggregate.aggregate_iqm([[1.0], []])
    with pytest.raises(ValueError, match="NaN"):
        aggregate.aggregate_mean(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="unknown aggregate 'iqr'"):
        aggregate.interval_estimate(X, "iqr", np.random.default_rng(0))
    with pytest.raises(ValueError, match="same number of runs"):
        aggregate.interval_estimate([[1.0, 2.0], [3.0]], "mean", np.random.default_rng(0), task_bootstrap=True)


def test_bootstrap_is_reproducible_from_the_generator_and_covers_the_point():
    scores = np.random.default_rng(5).normal(1.0, 0.3, size=(10, 4))
    first = aggregate.interval_estimate(scores, "iqm", np.random.default_rng(7), reps=5000)
    again = aggregate.interval_estimate(scores, "iqm", np.random.default_rng(7), reps=5000)
    other = aggregate.interval_estimate(scores, "iqm", np.random.default_rng(8), reps=5000)
    assert first == again
    assert first != other
    assert first.low < first.point < first.high


def test_stratified_resamples_stay_within_their_task():
    # Task 0 only has scores 0, task 1 only 100: any mixing across tasks would move the
    # per-task means away from 0 and 100, so every replicate of the mean is exactly 50.
    scores = [np.zeros(5), np.full(3, 100.0)]
    distribution = aggregate.bootstrap_distribution(scores, "mean", np.random.default_rng(0), reps=2000)
    assert np.all(distribution == 50.0)
    with_tasks = aggregate.bootstrap_distribution(
        np.column_stack([np.zeros(3), np.full(3, 100.0)]), "mean", np.random.default_rng(0), reps=2000, task_bootstrap=True
    )
    assert set(np.unique(with_tasks)) == {0.0, 50.0, 100.0}


def test_bootstrap_distribution_matches_a_per_replicate_loop():
    """The vectorised resampling gives the same law as rliable's loop (checked by moments)."""
    scores = np.random.default_rng(6).gamma(2.0, 0.5, size=(8, 6))
    rng = np.random.default_rng(9)
    loop = []
    for _ in range(4000):
        resampled = np.column_stack([rng.choice(scores[:, t], size=8, replace=True) for t in range(6)])
        loop.append(stats.trim_mean(resampled, 0.25, axis=None))
    vectorised = aggregate.bootstrap_distribution(scores, "iqm", np.random.default_rng(10), reps=4000)
    assert vectorised.mean() == pytest.approx(np.mean(loop), abs=0.01)
    assert vectorised.std() == pytest.approx(np.std(loop), rel=0.08)


def test_chunked_bootstrap_equals_one_pass(monkeypatch):
    scores = np.random.default_rng(1).normal(size=(6, 3))
    whole = aggregate.bootstrap_distribution(scores, "median", np.random.default_rng(2), reps=3000)
    monkeypatch.setattr(aggregate, "_CHUNK_ELEMENTS", 18 * 7)  # 7 replicates per chunk
    chunked = aggregate.bootstrap_distribution(scores, "median", np.random.default_rng(2), reps=3000)
    assert chunked.shape == whole.shape == (3000,)
    assert chunked.mean() == pytest.approx(whole.mean(), abs=0.03)
    assert chunked.std() == pytest.approx(whole.std(), rel=0.1)


def test_poi_and_profile_intervals_bracket_their_points():
    rng = np.random.default_rng(11)
    x, y = rng.normal(1.0, 0.5, size=(10, 5)), rng.normal(0.5, 0.5, size=(10, 5))
    poi = aggregate.poi_interval(x, y, np.random.default_rng(0))
    assert 0.5 < poi.low <= poi.point <= poi.high <= 1.0
    profile = aggregate.profile_interval(x, [0.0, 1.0, 2.0], np.random.default_rng(0))
    assert np.all(profile.low <= profile.profile) and np.all(profile.profile <= profile.high)
    assert profile.profile[0] >= profile.profile[1] >= profile.profile[2]


def test_rank_intervals_separate_clear_winners_and_overlap_for_near_ties():
    rng = np.random.default_rng(12)
    strong = rng.normal(2.0, 0.2, size=(10, 5))
    middle = rng.normal(1.0, 0.2, size=(10, 5))
    twin = middle + 0.001
    ranked = aggregate.rank_agents({"middle": middle, "strong": strong, "twin": twin}, np.random.default_rng(0), reps=3000)
    assert [r.name for r in ranked] == ["strong", "twin", "middle"]
    assert (ranked[0].rank, ranked[0].rank_low, ranked[0].rank_high) == (1, 1, 1)
    assert ranked[0].rank_probabilities[0] == 1.0
    assert ranked[1].rank_low == 2 and ranked[1].rank_high == 3
    assert ranked[2].rank_low == 2 and ranked[2].rank_high == 3
    for agent in ranked:
        assert agent.rank_probabilities.sum() == pytest.approx(1.0)


def test_optimality_gap_ranks_lower_first():
    good, bad = np.full((3, 2), 0.9), np.full((3, 2), 0.2)
    ranked = aggregate.rank_agents({"bad": bad, "good": good}, np.random.default_rng(0), metric="optimality_gap", reps=100)
    assert [r.name for r in ranked] == ["good", "bad"]


def test_competition_ranks_by_sorting_agree_with_counting_the_better_ones():
    from gymarena.metrics.aggregate import _competition_ranks, competition_ranks

    rng = np.random.default_rng(7)
    for _ in range(200):
        values = rng.integers(0, 5, size=(int(rng.integers(1, 12)), int(rng.integers(1, 25)))) / 2.0  # many ties
        for higher in (True, False):
            keyed = -values if higher else values
            assert np.array_equal(_competition_ranks(values, higher), (keyed[:, None, :] < keyed[:, :, None]).sum(axis=2) + 1)
            keys = [(float(a), float(b)) for a, b in zip(values[0], values[0][::-1], strict=True)]
            better = [sum((other > key) if higher else (other < key) for other in keys) for key in keys]
            assert competition_ranks(keys, higher) == [1 + n for n in better]
