"""AdaTE: the dense learner of Q_AV, the QP on the learned target, unbiased estimates, the ACC AV."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.envs.cav.acc import ACC
from gymarena.envs.cav.adate import DenseCriticality, fit_coefficients, monte_carlo_targets, run_adate
from gymarena.envs.cav.avs import AVS, OBSERVATION_SIZE, column
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.testing import NaturalisticBVs, run_tests


def scripted_tests(n: int, rng: np.random.Generator, p_brake: float = 0.3, q_brake: float = 0.9):
    """A two-decision scenario with a known criticality. Decision 1 (step 0, cell A): a BV
    pulls in ahead. Decision 2 (step 10): the BV brakes (cell B_brake; probability p_brake
    naturally, steered to q_brake) and the AV crashes at step 14, or it keeps its speed
    (cell B_keep) and nothing happens. So Q(A) = p_brake, Q(B_brake) = 1, Q(B_keep) = 0."""
    brake = rng.random(n) < q_brake
    rows = np.repeat(np.arange(n), 2)
    steps = np.tile([0, 10], n)
    cells = np.empty(2 * n, dtype=np.int64)
    cells[0::2] = 0
    cells[1::2] = np.where(brake, 1, 2)
    ratios = np.ones(2 * n)
    ratios[1::2] = np.where(brake, p_brake / q_brake, (1 - p_brake) / (1 - q_brake))
    return rows, steps, cells, ratios, brake, np.where(brake, 14, 399)


def test_the_dense_learner_recovers_a_known_criticality_with_off_policy_monte_carlo_targets():
    rows, steps, cells, ratios, crashed, crash_step = scripted_tests(20000, np.random.default_rng(0))
    targets = monte_carlo_targets(rows, steps, ratios, crashed, crash_step, horizon=20)
    # the first decision's target is corrected by the steered second decision's ratio: unbiased for the NDD's 0.3
    assert set(np.round(targets[0::2], 6)) == {0.0, round(0.3 / 0.9, 6)}
    learner = DenseCriticality(maneuvers=1, prior=5.0)
    learner.observe(cells, targets)
    values = learner.values(np.array([0, 1, 2]), combination=np.array([1.0, 1.0, 1.0]))  # a prior far from the truth
    assert values == pytest.approx([0.3, 1.0, 0.0], abs=0.02)
    # a crash beyond the horizon is not the decision's; a crash before a decision is not its either
    late = monte_carlo_targets(np.array([0, 0]), np.array([0, 10]), np.array([1.0, 0.5]), np.array([True]),
                               np.array([25]), horizon=20)
    assert late.tolist() == [0.0, 1.0]
    # an unseen cell has no gap: it is the combination
    assert learner.values(np.array([3]), np.array([0.25])) == pytest.approx([0.25])


def test_the_qp_fits_nonnegative_coefficients_on_the_learned_scale():
    rng = np.random.default_rng(1)
    indicators = (rng.random((3000, 3)) < 0.4).astype(float)
    truth = np.array([0.0, 0.02, 0.005])  # crash probabilities: far from the simplex
    beta = fit_coefficients(indicators, indicators @ truth + rng.normal(0, 0.002, 3000))
    assert beta == pytest.approx(truth, abs=1e-3) and np.all(beta >= 0)
    # the importance function depends only on beta's direction, which the simplex would distort
    assert beta[1] / beta[2] == pytest.approx(4.0, rel=0.15)
    assert fit_coefficients(indicators, np.zeros(3000)) == pytest.approx([1 / 3] * 3)  # nothing learned: equal
    assert fit_coefficients(np.zeros((0, 3)), np.zeros(0)) == pytest.approx([1 / 3] * 3)
    with pytest.raises(ValueError, match="indicators must be"):
        fit_coefficients(indicators, np.zeros(5))


def test_adate_estimates_agree_with_nde_and_learn_between_batches():
    ndd = load_ndd()
    nde = run_tests(40000, AVS["cautious"], NaturalisticBVs(ndd), seed=11)
    run = run_adate(4000, AVS["cautious"], ndd, seed=12, batch_size=1000)
    mu_nde, mu_adate = nde.values.mean(), run.outcomes.values.mean()
    se = np.sqrt(nde.values.var() / nde.values.size + run.outcomes.values.var() / run.outcomes.values.size)
    assert nde.crashed.sum() > 30 and abs(mu_nde - mu_adate) < 3.5 * se, (mu_nde, mu_adate, se)
    first, second, last = run.coefficients[0], run.coefficients[1], run.coefficients[-1]
    assert first == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3]) and not np.allclose(second, first)  # refitted after batch 0
    # the cautious AV is the cautious surrogate: its coefficient leads once something is learned
    assert last[1:].argmax() == 0 and 0 < last[0] < last[1]
    assert run.outcomes.crashed.sum() > 20 * nde.crashed.mean() * 4000  # crashes found far more often than under NDE


def test_the_acc_av_keeps_its_lane_and_follows_its_leader_linearly():
    observations = np.zeros((3, OBSERVATION_SIZE))
    observations[:, column("speed")] = 30.0
    observations[:, column("has_left")] = 1.0
    observations[:, column("lead_gap")] = [1000.0, 60.0, 10.0]
    observations[:, column("lead_speed")] = [30.0, 30.0, 25.0]
    acceleration, lane_change = ACC(observations)
    assert lane_change.tolist() == [0, 0, 0]  # never changes lanes, even with a free left lane
    assert acceleration[0] == pytest.approx(0.4 * 3.0)  # cruise control towards 33 m/s
    gap_term = 0.23 * (60.0 - 3.0 - 1.1 * 30.0)
    assert acceleration[1] == pytest.approx(min(1.2, gap_term))
    assert acceleration[2] == -4.0  # the linear law's demand beyond the actuator's limit
