"""AdaTE: adaptive testing environments with dense reinforcement learning (Yang, Bai, Ji,
Zhang, Hu, Feng, "Adaptive Testing Environment Generation for Connected and Automated
Vehicles with Dense Reinforcement Learning", arXiv 2402.19275, IEEE T-ITS).

NADE (``nade.py``) steers the most critical BV with an importance function built from one
surrogate model of the AV; when the AV differs from the surrogate, the importance function
points at the wrong maneuvers. AdaTE, as in the paper:

- **Several surrogates, combined.** The criticality of BV maneuver ``a`` in state ``s`` is
  ``c(s, a) = beta_0 + sum_j beta_j Q_j(s, a)`` over the surrogates of ``adaptive.SURROGATES``
  (cautious, IDM, aggressive drivers), each ``Q_j`` the surrogate's crash indicator from
  NADE's pairwise rollout.
- **A QP for the coefficients on a learned target.** ``beta`` minimises ``sum (c(s, a) -
  Q_AV(s, a))^2`` over the critical state-action pairs seen so far, ``beta >= 0``
  (:func:`fit_coefficients`, quadprog through qpsolvers).
- **Dense RL for the target.** ``Q_AV(s, a)``, the probability that the AV crashes in the
  rest of the test after BV maneuver ``a`` in state ``s`` with the NDD driving afterwards, is
  learned from the tests as they run, on critical states only (states where some surrogate
  flags a maneuver of some candidate BV; only they are steered and learned from: D2RL's
  edited Markov chain, which drops the non-critical states). Its targets are Monte Carlo
  returns: 1[the AV crashed after the decision] times the likelihood ratios of the test's
  later steered decisions up to the crash, an unbiased estimate of the NDD-continuation
  value whatever steered those decisions (off-policy Monte Carlo; the paper's convergence
  argument needs unbiased targets of bounded variance, which the defensive mixture gives).
- **A gap-based adaptive policy.** Part ``exploration`` of the steered BV's importance
  function follows ``p(a) |Q_AV(s, a) - c(s, a)|``: tests are spent where the learned value
  and the combination disagree, the surrogate-to-real gap the paper's policy targets.

The steered BV samples from the defensive mixture

    q = (1 - eps) [(1 - exploration) p c / sum(p c) + exploration p gap / sum(p gap)] + eps p

and each test's weight is the product of p / q over its steered decisions. The learner and
the coefficients are refitted between batches only: every test of a batch is drawn from an
importance function fixed before the batch began, so its weight is exact and the estimate
unbiased whatever the fit does.

What this module decides itself (the paper leaves it open or works in another simulator):

- ``Q_AV`` is a table over a discretised state-action space (the paper's experiments are
  discretised too): the steered BV's lane relative to the AV, its longitudinal offset and
  speed difference, the AV's speed, and the maneuver (:class:`DenseCriticality`). A cell's
  value is the mean of its Monte Carlo targets, shrunk towards the combination with
  ``prior`` pseudo-observations, so an unseen cell shows no gap.
- The combination has a constant term ``beta_0``, the AV's crash probability after a
  maneuver that no surrogate flags. Without it (NADE, the adaptive mode) such a maneuver
  gets q = eps p, so every steered decision that draws one multiplies the test's weight by
  1 / eps = 10, and a later crash of such a test carries much of the estimate; with it the
  fit sets how much a flagged maneuver should outweigh the others.
- ``Q_AV`` looks at the rest of the test, not at the rollout's 2 s: that is the value the
  optimal importance function ``q*(a | s) ~ p(a | s) Q_AV(s, a)`` needs, and the constant
  term estimates nothing without it (within 2 s an unflagged maneuver almost never ends in a
  crash).
- ``beta >= 0`` without the simplex: the importance function is invariant to the scale of
  ``beta`` (q normalises it, and which BV is steered is an argmax), so the simplex only
  forces the fit to match crash probabilities of about 1e-2 with 0/1 indicators. Until the
  AV has crashed in a critical state, AdaTE is NADE over the surrogates at equal weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gymarena.envs.cav.adaptive import SURROGATES
from gymarena.envs.cav.avs import IDMMobil
from gymarena.envs.cav.nade import AdversarialBVs
from gymarena.envs.cav.ndd import NDD
from gymarena.envs.cav.sim import Batch, Policy, Road
from gymarena.envs.cav.testing import Outcomes, play_batch, sample_maneuvers

OFFSET_EDGES = np.array([-40.0, -25.0, -15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 25.0, 40.0])  # BV x - AV x (m)
SPEED_DIFFERENCE_EDGES = np.array([-6.0, -3.0, -1.5, -0.5, 0.5, 1.5, 3.0, 6.0])  # BV v - AV v (m/s)
AV_SPEED_EDGES = np.array([20.0, 25.0, 30.0, 35.0])  # m/s


@dataclass
class DecisionData:
    """The dense data of one batch: one row per steered decision."""

    rows: list[np.ndarray] = field(default_factory=list)  # the test (row of the batch)
    steps: list[np.ndarray] = field(default_factory=list)  # the simulator step of the decision
    cells: list[np.ndarray] = field(default_factory=list)  # the state-action cell of the maneuver drawn
    indicators: list[np.ndarray] = field(default_factory=list)  # (decisions, surrogates): each Q_j(s, a drawn)
    ratios: list[np.ndarray] = field(default_factory=list)  # p / q of the maneuver drawn

    def add(self, rows: np.ndarray, step: int, cells: np.ndarray, indicators: np.ndarray, ratios: np.ndarray) -> None:
        self.rows.append(rows)
        self.steps.append(np.full(rows.size, step, dtype=np.int64))
        self.cells.append(cells)
        self.indicators.append(indicators)
        self.ratios.append(ratios)

    def arrays(self) -> tuple[np.ndarray, ...]:
        if not self.rows:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros(0))
        return tuple(np.concatenate(part) for part in (self.rows, self.steps, self.cells, self.indicators, self.ratios))


def monte_carlo_targets(rows: np.ndarray, steps: np.ndarray, ratios: np.ndarray, crashed: np.ndarray,
                        crash_step: np.ndarray, horizon: int | None = None) -> np.ndarray:
    """Each decision's return: 1[its test's AV crashed within ``horizon`` steps after it]
    times the likelihood ratios of the later steered decisions of that test up to the crash
    (so the target estimates the crash probability with the NDD driving after the decision)."""
    targets = np.zeros(rows.size)
    within = True if horizon is None else crash_step[rows] - steps <= horizon
    hit = crashed[rows] & within & (crash_step[rows] >= steps)
    if not hit.any():
        return targets
    order = np.lexsort((steps, rows))
    r, s, ratio = rows[order], steps[order], ratios[order]
    correction = np.ones(rows.size)
    # For each decision, the product of the ratios of the same test's later decisions before the crash.
    for i in range(rows.size - 2, -1, -1):
        if r[i + 1] == r[i] and s[i + 1] <= crash_step[r[i]]:
            correction[i] = ratio[i + 1] * correction[i + 1]
    targets[order] = np.where(hit[order], correction, 0.0)
    return targets


class DenseCriticality:
    """The learned Q_AV(s, a): a table over discretised state-action cells, each cell the mean
    of its Monte Carlo targets shrunk towards the surrogate combination (``prior``
    pseudo-observations), fitted on critical states only."""

    def __init__(self, maneuvers: int, prior: float = 5.0):
        self.maneuvers = maneuvers
        self.prior = prior
        self.cells = 3 * (OFFSET_EDGES.size + 1) * (SPEED_DIFFERENCE_EDGES.size + 1) * (AV_SPEED_EDGES.size + 1) * maneuvers
        self.sums = np.zeros(self.cells)
        self.counts = np.zeros(self.cells)

    def state_cells(self, relative_lane: np.ndarray, offset: np.ndarray, speed_difference: np.ndarray,
                    av_speed: np.ndarray) -> np.ndarray:
        """The cell of each state's first maneuver (a state's maneuver a is cell + a)."""
        lane = np.clip(relative_lane, -1, 1) + 1
        o = np.searchsorted(OFFSET_EDGES, offset)
        d = np.searchsorted(SPEED_DIFFERENCE_EDGES, speed_difference)
        v = np.searchsorted(AV_SPEED_EDGES, av_speed)
        index = ((lane * (OFFSET_EDGES.size + 1) + o) * (SPEED_DIFFERENCE_EDGES.size + 1) + d) * (AV_SPEED_EDGES.size + 1) + v
        return index * self.maneuvers

    def observe(self, cells: np.ndarray, targets: np.ndarray) -> None:
        np.add.at(self.sums, cells, targets)
        np.add.at(self.counts, cells, 1.0)

    def values(self, cells: np.ndarray, combination: np.ndarray) -> np.ndarray:
        """Q_AV at these cells, each shrunk towards its combined surrogate criticality."""
        return (self.sums[cells] + self.prior * combination) / (self.counts[cells] + self.prior)

    def copy(self) -> DenseCriticality:
        other = DenseCriticality(self.maneuvers, self.prior)
        other.sums, other.counts = self.sums.copy(), self.counts.copy()
        return other


def fit_coefficients(indicators: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The beta >= 0 that minimises || indicators beta - target ||^2 (the QP on the learned
    target); equal coefficients when there is nothing to fit."""
    import qpsolvers

    indicators = np.asarray(indicators, dtype=float)
    target = np.asarray(target, dtype=float)
    if indicators.ndim != 2 or indicators.shape[0] != target.shape[0]:
        raise ValueError(f"indicators must be (pairs, surrogates) matching the target, got {indicators.shape} and {target.shape}")
    k = indicators.shape[1]
    equal = np.full(k, 1.0 / k)
    if indicators.shape[0] == 0 or not np.any(target > 0):
        return equal
    scale = float(np.abs(target).max())
    ridge = 1e-6 * np.sqrt(indicators.shape[0])  # strictly convex when surrogates agree (identical columns)
    regularised = np.vstack([indicators, ridge * np.eye(k)])
    padded = np.concatenate([target / scale, np.zeros(k)])
    beta = qpsolvers.solve_ls(regularised, padded, lb=np.zeros(k), solver="quadprog")
    if beta is None:
        raise RuntimeError("the QP solver found no coefficients")
    beta = np.clip(beta, 0.0, None) * scale
    return beta if beta.sum() > 0 else equal


class AdaTEBVs(AdversarialBVs):
    """The AdaTE BV controller: NADE over the combined surrogates, with part ``exploration``
    of the steered BV's importance function on the gap between the learned Q_AV and the
    combination; records the batch's dense data."""

    def __init__(self, ndd: NDD, epsilon: float = 0.1, surrogates: tuple[IDMMobil, ...] = SURROGATES,
                 coefficients: np.ndarray | None = None, learner: DenseCriticality | None = None, exploration: float = 0.2):
        if coefficients is None:  # nothing learned yet: NADE over the surrogates at equal weights
            coefficients = np.concatenate([[0.0], np.full(len(surrogates), 1.0 / len(surrogates))])
        self.coefficients = np.asarray(coefficients, dtype=float)
        super().__init__(ndd, epsilon=epsilon, surrogates=surrogates, betas=self.coefficients[1:])
        if not 0.0 <= exploration <= 1.0:
            raise ValueError(f"exploration must be in [0, 1], got {exploration}")
        self.learner = learner if learner is not None else DenseCriticality(ndd.maneuvers)
        self.exploration = exploration

    def start(self, batch: Batch) -> None:
        super().start(batch)
        self.data = DecisionData()

    def decide(self, sim, speed, gap, range_rate, gap_left, gap_right, uniforms):
        p = self.ndd.probabilities(speed, gap, range_rate, gap_left, gap_right)  # (tests, BVs, maneuvers)
        maneuvers = sample_maneuvers(p, uniforms)
        per_surrogate, candidate = self.surrogate_challenges(sim)  # (surrogates, tests, K, maneuvers), (tests, K)
        combination = self.coefficients[0] + np.tensordot(self.betas, per_surrogate, axes=1)
        exposure = np.take_along_axis(p, np.maximum(candidate, 0)[..., None], axis=1)
        criticality = np.where(candidate[..., None] >= 0, exposure * combination, 0.0)
        flagged = np.where(candidate[..., None] >= 0, per_surrogate.max(axis=0), 0.0).sum(axis=-1) > 0  # (tests, K)
        totals = np.where(flagged, criticality.sum(axis=-1), 0.0)
        best = totals.argmax(axis=-1)
        which = np.flatnonzero(totals[np.arange(sim.tests), best] > 0)  # critical states: some surrogate flags a maneuver
        if which.size == 0:
            return maneuvers
        picked = np.arange(which.size)
        bv = candidate[which, best[which]]
        p_bv = p[which, bv]
        crit = criticality[which, best[which]]
        cells = self._cells(sim, which, bv)[:, None] + np.arange(self.ndd.maneuvers)[None, :]
        c = combination[which, best[which]]
        gap_weight = p_bv * np.abs(self.learner.values(cells, c) - c)
        q = self._mixture(p_bv, crit, gap_weight)
        drawn = sample_maneuvers(q, uniforms[which, bv])
        maneuvers[which, bv] = drawn
        ratio = p_bv[picked, drawn] / q[picked, drawn]
        target = self._target_rows(sim, which)
        self.weights[target] *= ratio
        self.controlled[target] += 1
        self.data.add(target, sim.step_count, cells[picked, drawn], per_surrogate[:, which, best[which], drawn].T, ratio)
        return maneuvers

    def _mixture(self, p: np.ndarray, criticality: np.ndarray, gap_weight: np.ndarray) -> np.ndarray:
        """The defensive mixture of the combination's and the gap's importance functions and the NDD."""
        eta = np.where(gap_weight.sum(axis=-1, keepdims=True) > 0, self.exploration, 0.0)
        gap_part = gap_weight / np.maximum(gap_weight.sum(axis=-1, keepdims=True), 1e-300)
        adversarial = (1.0 - eta) * criticality / criticality.sum(axis=-1, keepdims=True) + eta * gap_part
        return (1.0 - self.epsilon) * adversarial + self.epsilon * p

    def _cells(self, sim: Batch, which: np.ndarray, bv: np.ndarray) -> np.ndarray:
        vehicle = bv + 1
        return self.learner.state_cells(sim.lane[which, vehicle] - sim.lane[which, 0], sim.x[which, vehicle] - sim.x[which, 0],
                                        sim.v[which, vehicle] - sim.v[which, 0], sim.v[which, 0])


class AdaTELearner:
    """AdaTE's state between batches: the learned Q_AV, every critical pair seen so far (its
    cell and surrogate indicators) and the coefficients fitted on them."""

    def __init__(self, ndd: NDD, surrogates: tuple[IDMMobil, ...] = SURROGATES, epsilon: float = 0.1,
                 exploration: float = 0.2, horizon: int | None = None):
        self.ndd, self.surrogates, self.epsilon, self.exploration = ndd, surrogates, epsilon, exploration
        self.horizon = horizon
        self.q = DenseCriticality(ndd.maneuvers)
        self.coefficients = np.concatenate([[0.0], np.full(len(surrogates), 1.0 / len(surrogates))])
        self.cells: list[np.ndarray] = []
        self.indicators: list[np.ndarray] = []

    def controller(self) -> AdaTEBVs:
        """The next batch's BV controller, fixed for the whole batch (exact weights)."""
        return AdaTEBVs(self.ndd, self.epsilon, self.surrogates, self.coefficients.copy(), self.q.copy(), self.exploration)

    def observe(self, controller: AdaTEBVs, batch: Batch) -> np.ndarray:
        """Learn from a finished batch's critical decisions and refit the coefficients; the new ones."""
        rows, steps, cells, indicators, ratios = controller.data.arrays()
        if rows.size:
            crash_step = batch.steps - 1  # a crashed test's last step is the crash
            self.q.observe(cells, monte_carlo_targets(rows, steps, ratios, batch.crashed, crash_step, self.horizon))
            self.cells.append(cells)
            self.indicators.append(indicators)
        if self.cells:
            cells_seen = np.concatenate(self.cells)
            indicators_seen = np.concatenate(self.indicators)
            learned = self.q.sums[cells_seen] / np.maximum(self.q.counts[cells_seen], 1.0)
            if np.any(learned > 0):  # until the AV has crashed in a critical state, NADE over equal surrogates
                self.coefficients = fit_coefficients(np.hstack([np.ones((len(cells_seen), 1)), indicators_seen]), learned)
        return self.coefficients


@dataclass
class AdaTERun:
    outcomes: Outcomes
    coefficients: list[np.ndarray] = field(default_factory=list)  # each batch's (beta_0, beta_1, ...)


def run_adate(tests: int, policy: Policy, ndd: NDD, road: Road = Road(), seed: int = 0, batch_size: int = 2048,
              epsilon: float = 0.1, exploration: float = 0.2, horizon: int | None = None) -> AdaTERun:
    """``tests`` AdaTE tests in batches, learning between them; test ``i`` is drawn from
    ``(seed, i // batch_size)`` like every testing mode's."""
    learner = AdaTELearner(ndd, epsilon=epsilon, exploration=exploration, horizon=horizon)
    crashed, weights, steps, coefficients = [], [], [], []
    for index, start in enumerate(range(0, tests, batch_size)):
        controller = learner.controller()
        batch, _ = play_batch(min(batch_size, tests - start), policy, controller, road, seed, index)
        coefficients.append(controller.coefficients.copy())
        crashed.append(batch.crashed.copy())
        weights.append(controller.weights.copy())
        steps.append(batch.steps.copy())
        learner.observe(controller, batch)
    return AdaTERun(Outcomes(np.concatenate(crashed), np.concatenate(weights), np.concatenate(steps)), coefficients)
