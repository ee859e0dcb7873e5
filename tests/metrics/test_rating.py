"""The Bradley-Terry rating with a crew advantage: it recovers a known tournament, its
bootstrap intervals cover the truth and narrow with more games, and a player who won
every game keeps a finite rating."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.metrics.rating import ELO_PER_LOGIT, Games, fit, ratings_with_intervals

TRUE = np.array([0.0, 1.0, -1.0, 2.0])  # logits: pool a, b, c; d an entrant
ADVANTAGE = 0.7


def _tournament(games_per_cell: int, seed: int) -> Games:
    rng = np.random.default_rng(seed)
    rows = []
    for player in range(4):
        for opponent in range(3):
            if player == opponent:
                continue
            for crew in (True, False):
                z = TRUE[player] - TRUE[opponent] + (ADVANTAGE if crew else -ADVANTAGE)
                wins = rng.random(games_per_cell) < 1 / (1 + np.exp(-z))
                rows += [(player, opponent, crew, float(w)) for w in wins]
    return Games.of(["a", "b", "c", "d"], rows)


def test_the_fit_recovers_a_known_tournament_and_its_intervals_cover_the_truth():
    anchored = TRUE - TRUE[:3].mean()
    ratings, advantage = ratings_with_intervals(_tournament(200, seed=1), range(3), np.random.default_rng(0), reps=200)
    for rating, truth in zip(ratings, anchored * ELO_PER_LOGIT):
        assert rating.low <= truth <= rating.high, rating
        assert rating.point == pytest.approx(truth, abs=60)
    assert [r.name for r in sorted(ratings, key=lambda r: -r.point)] == ["d", "b", "a", "c"]
    assert advantage == pytest.approx(ADVANTAGE * ELO_PER_LOGIT, abs=40)
    assert np.mean([r.point for r in ratings[:3]]) == pytest.approx(0.0, abs=1e-6)  # the pool is the anchor


def test_intervals_narrow_with_more_games():
    few, _ = ratings_with_intervals(_tournament(10, seed=2), range(3), np.random.default_rng(0), reps=200)
    many, _ = ratings_with_intervals(_tournament(400, seed=2), range(3), np.random.default_rng(0), reps=200)
    assert all(m.high - m.low < (f.high - f.low) / 3 for f, m in zip(few, many))


def test_an_unbeaten_player_has_a_finite_rating_above_every_other():
    rows = [(1, 0, crew, 1.0) for crew in (True, False) for _ in range(30)]
    rows += [(0, 1, crew, 0.0) for crew in (True, False) for _ in range(30)]
    ratings, advantage = fit(Games.of(["pool", "unbeaten"], rows), [0])
    assert np.all(np.isfinite(ratings)) and ratings[1] > 3 and np.isfinite(advantage)


def test_draws_count_half_to_each_side():
    rows = [(1, 0, crew, 0.5) for crew in (True, False) for _ in range(50)]
    ratings, advantage = fit(Games.of(["pool", "even"], rows), [0])
    assert ratings[1] == pytest.approx(0.0, abs=1e-4) and advantage == pytest.approx(0.0, abs=1e-4)
