"""Ratings of players from two-sided games with roles: a Bradley-Terry model fitted to the
games, with intervals from a bootstrap over games. Pure numpy and SciPy.

Model (Bradley & Terry 1952, with a home-advantage term as in Agresti's *Categorical Data
Analysis*, sec. 11.6): in a game where player i plays role ``crewmate`` (s = +1) or
``impostor`` (s = -1) against player j,

    P(i's side wins) = sigmoid(r_i - r_j + s * h)

where r are the players' ratings (logits) and h the advantage of the crew's side, shared
by all games. A game without a winner counts half a win to each side (as Elo does). The
ratings are the maximum a posteriori estimate under an independent N(0, PRIOR_SD^2) prior
on each rating: without it, a player that won (or lost) every game would have an infinite
estimate; with it the estimate stays finite and is the MLE as the games grow. Ratings are
anchored so that the anchor players' mean is 0 (the board's reference pool: the same
scale whoever else is on the board). Intervals: a percentile bootstrap that resamples the
games with replacement within each cell (player, opponent, role), so every cell keeps its
number of games, and refits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

PRIOR_SD = 3.0
ELO_PER_LOGIT = 400.0 / np.log(10.0)  # the Elo scale: 400 points are odds of 10 to 1


@dataclass(frozen=True)
class Games:
    """Games as arrays: ``player`` and ``opponent`` index into ``names``; ``crew`` is 1 where
    the player's side was the crew's; ``outcome`` the player's result (1, 0.5 or 0)."""

    names: tuple[str, ...]
    player: np.ndarray
    opponent: np.ndarray
    crew: np.ndarray
    outcome: np.ndarray

    @classmethod
    def of(cls, names: Sequence[str], rows: Sequence[tuple[int, int, bool, float]]) -> Games:
        data = np.array(rows, dtype=float).reshape(-1, 4)
        return cls(tuple(names), data[:, 0].astype(int), data[:, 1].astype(int), data[:, 2].astype(bool), data[:, 3])

    def take(self, index: np.ndarray) -> Games:
        return Games(self.names, self.player[index], self.opponent[index], self.crew[index], self.outcome[index])


@dataclass(frozen=True)
class Rating:
    name: str
    point: float
    low: float | None
    high: float | None
    games: int


def _objective(params: np.ndarray, games: Games) -> tuple[float, np.ndarray]:
    """The negative log posterior and its gradient (params: ratings then the crew advantage)."""
    ratings, advantage = params[:-1], params[-1]
    side = np.where(games.crew, 1.0, -1.0)
    z = ratings[games.player] - ratings[games.opponent] + side * advantage
    y = games.outcome
    loss = -float(np.sum(y * log_expit(z) + (1.0 - y) * log_expit(-z))) + float(np.sum(ratings**2)) / (2 * PRIOR_SD**2)
    residual = expit(z) - y  # d loss / d z
    gradient = np.zeros_like(params)
    np.add.at(gradient, games.player, residual)
    np.add.at(gradient, games.opponent, -residual)
    gradient[:-1] += ratings / PRIOR_SD**2
    gradient[-1] = float(np.sum(residual * side))
    return loss, gradient


def fit(games: Games, anchors: Sequence[int]) -> tuple[np.ndarray, float]:
    """(ratings in logits, anchored so the anchors' mean is 0; the crew's advantage)."""
    start = np.zeros(len(games.names) + 1)
    result = minimize(_objective, start, args=(games,), jac=True, method="L-BFGS-B")
    ratings = result.x[:-1]
    return ratings - (ratings[list(anchors)].mean() if len(anchors) else 0.0), float(result.x[-1])


def ratings_with_intervals(games: Games, anchors: Sequence[int], rng: np.random.Generator, reps: int = 200,
                           confidence: float = 0.95) -> tuple[list[Rating], float]:
    """Each player's rating (Elo scale) with a percentile-bootstrap interval over games, and
    the crew's advantage (Elo scale). A player without games has no rating (NaN)."""
    point, advantage = fit(games, anchors)
    cells: dict[tuple[int, int, bool], list[int]] = {}
    for index, key in enumerate(zip(games.player.tolist(), games.opponent.tolist(), games.crew.tolist())):
        cells.setdefault(key, []).append(index)
    groups = [np.array(members) for members in cells.values()]
    samples = np.empty((reps, len(games.names)))
    for rep in range(reps):
        drawn = [g[rng.integers(0, g.size, g.size)] for g in groups]
        chosen: np.ndarray = np.concatenate(drawn) if drawn else np.zeros(0, dtype=int)
        samples[rep], _ = fit(games.take(chosen), anchors)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0) if reps else (point, point)
    played = np.bincount(np.concatenate([games.player, games.opponent]), minlength=len(games.names))
    ratings = [Rating(name, float(point[i] * ELO_PER_LOGIT), float(low[i] * ELO_PER_LOGIT) if reps else None,
                      float(high[i] * ELO_PER_LOGIT) if reps else None, int(played[i]))
               for i, name in enumerate(games.names)]
    return ratings, advantage * ELO_PER_LOGIT
