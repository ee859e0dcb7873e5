"""Ratings of players from two-sided games with roles: a Bradley-Terry model fitted to the
games, with intervals from a bootstrap over games. Pure numpy.

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


def expit(z: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


def log_expit(z: np.ndarray) -> np.ndarray:
    """log(expit(z)), accurate for large |z|."""
    return -np.logaddexp(0.0, -z)

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


@dataclass(frozen=True)
class Cells:
    """Games grouped by (player, opponent, crew): the likelihood depends on the games only
    through each cell's number of games and the player's points in it, so a fit costs the
    same over ten or ten thousand games per cell."""

    player: np.ndarray
    opponent: np.ndarray
    side: np.ndarray  # +1 where the player's side was the crew's, else -1
    games: np.ndarray
    points: np.ndarray  # the player's wins, a draw counting one half
    outcome_counts: np.ndarray  # per cell, its games won, drawn and lost (what a bootstrap resamples)

    @classmethod
    def of(cls, games: Games) -> Cells:
        keys = np.column_stack([games.player, games.opponent, games.crew.astype(int)])
        unique, index = np.unique(keys, axis=0, return_inverse=True)
        index = index.ravel()
        counts = np.zeros((len(unique), 3))
        for column, value in enumerate((1.0, 0.5, 0.0)):
            np.add.at(counts[:, column], index, games.outcome == value)
        return cls(unique[:, 0], unique[:, 1], np.where(unique[:, 2] == 1, 1.0, -1.0), counts.sum(axis=1),
                   counts[:, 0] + 0.5 * counts[:, 1], counts)

    def resampled(self, rng: np.random.Generator) -> Cells:
        """A bootstrap replicate: each cell's games drawn with replacement (so it keeps its
        number of games), as a multinomial draw over its won, drawn and lost games."""
        drawn = np.array([rng.multinomial(int(n), counts / n) for n, counts in zip(self.games, self.outcome_counts)])
        drawn = drawn.reshape(-1, 3)
        return Cells(self.player, self.opponent, self.side, self.games, drawn[:, 0] + 0.5 * drawn[:, 1], drawn)


def _objective(params: np.ndarray, cells: Cells) -> tuple[float, np.ndarray]:
    """The negative log posterior and its gradient (params: ratings then the crew advantage)."""
    ratings, advantage = params[:-1], params[-1]
    z = ratings[cells.player] - ratings[cells.opponent] + cells.side * advantage
    won, lost = cells.points, cells.games - cells.points
    loss = -float(np.sum(won * log_expit(z) + lost * log_expit(-z))) + float(np.sum(ratings**2)) / (2 * PRIOR_SD**2)
    residual = cells.games * expit(z) - won  # d loss / d z
    gradient = np.zeros_like(params)
    np.add.at(gradient, cells.player, residual)
    np.add.at(gradient, cells.opponent, -residual)
    gradient[:-1] += ratings / PRIOR_SD**2
    gradient[-1] = float(np.sum(residual * cells.side))
    return loss, gradient


def _design(cells: Cells, players: int) -> np.ndarray:
    """Each cell's logit as a row of coefficients on (ratings, crew advantage)."""
    rows = np.arange(len(cells.games))
    design = np.zeros((len(cells.games), players + 1))
    np.add.at(design, (rows, cells.player), 1.0)
    np.add.at(design, (rows, cells.opponent), -1.0)
    design[:, -1] = cells.side
    return design


def _maximise(cells: Cells, start: np.ndarray, design: np.ndarray) -> np.ndarray:
    """The posterior's maximum by Newton's method with backtracking (the negative log
    posterior is convex and smooth; its Hessian is small: one row and column per player):
    a handful of steps from a nearby start."""
    prior = np.append(np.full(len(start) - 1, 1.0 / PRIOR_SD**2), 0.0)
    params = start.copy()
    loss, gradient = _objective(params, cells)
    for _ in range(100):
        z = design @ params
        weight = cells.games * expit(z) * expit(-z)
        hessian = design.T @ (design * weight[:, None]) + np.diag(prior)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        size = 1.0
        while True:
            candidate = params - size * step
            new_loss, new_gradient = _objective(candidate, cells)
            if new_loss <= loss - 1e-4 * size * float(gradient @ step) or size < 1e-10:
                break
            size /= 2
        params, loss, gradient = candidate, new_loss, new_gradient
        if float(np.max(np.abs(size * step))) < 1e-10:
            break
    return params


def fit(games: Games | Cells, anchors: Sequence[int], start: np.ndarray | None = None,
        players: int | None = None) -> tuple[np.ndarray, float]:
    """(ratings in logits, anchored so the anchors' mean is 0; the crew's advantage).
    ``start``: where the search starts (a bootstrap replicate starts from the point
    estimate: the same kind of optimum, found in fewer steps)."""
    cells = Cells.of(games) if isinstance(games, Games) else games
    size = len(games.names) if isinstance(games, Games) else players
    assert size is not None
    found = _maximise(cells, np.zeros(size + 1) if start is None else start, _design(cells, size))
    ratings = found[:-1]
    return ratings - (ratings[list(anchors)].mean() if len(anchors) else 0.0), float(found[-1])


def ratings_with_intervals(games: Games, anchors: Sequence[int], rng: np.random.Generator, reps: int = 200,
                           confidence: float = 0.95) -> tuple[list[Rating], float]:
    """Each player's rating (Elo scale) with a percentile-bootstrap interval over games, and
    the crew's advantage (Elo scale). A player without games has no rating (NaN)."""
    players = len(games.names)
    cells = Cells.of(games)
    point, advantage = fit(cells, anchors, players=players)
    start = np.append(point, advantage)
    samples = np.empty((reps, players))
    for rep in range(reps):
        samples[rep], _ = fit(cells.resampled(rng), anchors, start, players)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0) if reps else (point, point)
    played = np.bincount(np.concatenate([games.player, games.opponent]), minlength=len(games.names))
    ratings = [Rating(name, float(point[i] * ELO_PER_LOGIT), float(low[i] * ELO_PER_LOGIT) if reps else None,
                      float(high[i] * ELO_PER_LOGIT) if reps else None, int(played[i]))
               for i, name in enumerate(games.names)]
    return ratings, advantage * ELO_PER_LOGIT
