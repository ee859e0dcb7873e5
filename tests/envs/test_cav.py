"""CAV testing: NDD files, the simulator's crash detection, NDE and NADE sampling, weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gymarena.envs.cav import sim
from gymarena.envs.cav.avs import AVS
from gymarena.envs.cav.make_ndd import build
from gymarena.envs.cav.nade import AdversarialBVs
from gymarena.envs.cav.ndd import NDD, NDDError, load_ndd, ndd_from_json
from gymarena.envs.cav.testing import NaturalisticBVs, run_tests, sample_maneuvers


def tiny_ndd(probabilities=(0.2, 0.3, 0.5), lane_change=0.0) -> NDD:
    """Three accelerations (-4, 0, 2) with the same probabilities in every state."""
    row = np.array(probabilities)
    return NDD(np.array([-4.0, 0.0, 2.0]), np.array([0.0, 50.0]), np.array([0.0, 200.0]), np.array([-20.0, 20.0]),
               row[None, :], row[None, None, None, :], 120.0, np.array([-1e4, 1e4]), np.array([lane_change]))


def one_test(x, lane, v, road=sim.Road(lanes=2, vehicles_per_lane=1)) -> sim.Batch:
    return sim.Batch(road, np.array([x], float), np.array([lane]), np.array([v], float), np.zeros((1, len(x))),
                     np.random.default_rng(0))


def test_the_default_ndd_file_is_the_documented_model_and_loads():
    ndd = load_ndd()
    rebuilt = build()
    assert np.allclose(ndd.car_following, rebuilt.car_following, atol=1e-9)
    assert ndd.maneuver_names()[:3] == ["left", "right", "a=-4"]
    p = ndd.probabilities(np.array([30.0]), np.array([np.inf]), np.array([0.0]), np.array([np.nan]), np.array([50.0]))
    assert p.shape == (1, ndd.maneuvers) and p[0, 0] == 0 and p[0, 1] > 0 and p.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("free_flow"), "the field 'free_flow' is missing"),
    (lambda d: d.update(format="ndd/0"), "'format' must be 'gymarena-ndd/1'"),
    (lambda d: d.update(free_flow=d["free_flow"][1:]), r"'free_flow' must have shape \(21, 7\)"),
    (lambda d: d["free_flow"][3].__setitem__(0, 0.9), r"every row of 'free_flow' must sum to 1; the row at index \[3\]"),
    (lambda d: d.update(speed_edges=[0, 10, 5]), "'speed_edges' must be a list of at least 2 strictly increasing bin edges"),
    (lambda d: d["lane_change"].update(probability=[0.1]), "one value per gap bin"),
    (lambda d: d.update(free_flow_range=-3), "'free_flow_range' must be a positive distance"),
])
def test_bad_ndd_files_get_clear_errors(tmp_path, change, message):
    data = build().to_json()
    change(data)
    with pytest.raises(NDDError, match=message):
        ndd_from_json(json.loads(json.dumps(data)))


def test_unreadable_ndd_files_say_why(tmp_path):
    with pytest.raises(NDDError, match="cannot read the NDD file"):
        load_ndd(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(NDDError, match="is not JSON"):
        load_ndd(tmp_path / "broken.json")


def test_a_crash_is_an_overlap_in_one_lane_and_nothing_else():
    def run(bv_x, bv_lane):
        batch = one_test([0.0, bv_x], [0, bv_lane], [20.0, 20.0])
        sim.step(batch, lambda o: (np.zeros(len(o)), np.zeros(len(o), int)), NaturalisticBVs(tiny_ndd((0.0, 1.0, 0.0))))
        return bool(batch.crashed[0]), bool(batch.active[0])

    assert run(4.9, 0) == (True, False)  # bodies 5 m long, 4.9 m apart: overlap
    assert run(5.1, 0) == (False, True)
    assert run(0.0, 1) == (False, True)  # side by side in two lanes


def test_nade_with_epsilon_one_is_nde_trajectory_for_trajectory():
    ndd = load_ndd()
    nde = run_tests(600, AVS["idm"], NaturalisticBVs(ndd), seed=5, batch_size=300)
    nade = run_tests(600, AVS["idm"], AdversarialBVs(ndd, epsilon=1.0), seed=5, batch_size=300)
    assert np.array_equal(nde.crashed, nade.crashed) and np.array_equal(nde.steps, nade.steps)
    assert np.allclose(nade.weights, 1.0)


class ScriptedChallenge(AdversarialBVs):
    """NADE whose challenge is given: only hard braking (-4) of BV 1 crashes the AV."""

    def surrogate_challenges(self, batch):
        challenge = np.zeros((1, batch.tests, 1, self.ndd.maneuvers))
        challenge[:, :, 0, 2] = 1.0  # maneuver 2 = the first acceleration bin, -4
        return challenge, np.zeros((batch.tests, 1), dtype=np.int64)


def test_importance_weights_are_exact_on_a_scripted_three_decision_scenario():
    """p = (left 0, right 0, -4: 0.2, 0: 0.3, +2: 0.5); criticality only on -4, so with
    eps = 0.1, q = 0.9 * [1, 0, 0] + 0.1 * p = (0.92, 0.03, 0.05) over the accelerations.
    Uniforms 0.5, 0.93, 0.99 draw -4, 0 and +2 from q: weight = (0.2/0.92)(0.3/0.03)(0.5/0.05)."""
    ndd = tiny_ndd()
    controller = ScriptedChallenge(ndd, epsilon=0.1)
    batch = one_test([0.0, 100.0], [0, 1], [20.0, 20.0])
    controller.start(batch)
    drawn = []
    for uniform in (0.5, 0.93, 0.99):
        states = sim.bv_states(batch)
        view = sim._subset(batch, np.array([0]))
        drawn.append(int(controller.decide(view, *states, uniforms=np.array([[uniform]]))[0, 0]))
    assert drawn == [2, 3, 4]
    assert controller.weights[0] == pytest.approx((0.2 / 0.92) * (0.3 / 0.03) * (0.5 / 0.05), rel=1e-12)
    assert controller.controlled[0] == 3


def test_inverse_cdf_sampling_follows_the_probabilities():
    rng = np.random.default_rng(0)
    p = np.array([0.1, 0.0, 0.6, 0.3])
    draws = sample_maneuvers(np.broadcast_to(p, (200000, 4)), rng.random(200000))
    assert np.allclose(np.bincount(draws, minlength=4) / 200000, p, atol=0.005)


def test_nde_and_nade_estimates_agree_for_a_frequent_crash():
    """A cautious AV crashes often enough that both estimates are tight in a CI-sized run:
    NADE must not be biased (its weights undo the steering)."""
    ndd = load_ndd()
    nde = run_tests(40000, AVS["cautious"], NaturalisticBVs(ndd), seed=11)
    nade = run_tests(4000, AVS["cautious"], AdversarialBVs(ndd), seed=12, batch_size=2000)
    mu_nde, mu_nade = nde.values.mean(), nade.values.mean()
    se = np.sqrt(nde.values.var() / nde.values.size + nade.values.var() / nade.values.size)
    assert nde.crashed.sum() > 30 and nade.crashed.sum() > nde.crashed.mean() * 4000 * 5  # NADE finds crashes far more often
    assert abs(mu_nde - mu_nade) < 3.5 * se, (mu_nde, mu_nade, se)


def test_the_qp_returns_simplex_coefficients_and_recovers_known_ones():
    from gymarena.envs.cav.adaptive import fit_betas

    rng = np.random.default_rng(0)
    features = rng.random((400, 3))
    truth = np.array([0.2, 0.0, 0.8])
    beta = fit_betas(features, features @ truth + rng.normal(0, 0.01, 400))
    assert np.allclose(beta, truth, atol=0.02) and beta.sum() == pytest.approx(1.0) and np.all(beta >= 0)
    # a target outside the hull of the features still gets simplex coefficients
    beta = fit_betas(features, 3.0 * features[:, 1])
    assert beta.sum() == pytest.approx(1.0) and np.all(beta >= 0) and beta[1] > 0.9
    with pytest.raises(ValueError, match="features must be"):
        fit_betas(features, np.zeros(5))


def test_adaptive_testing_refits_betas_between_batches():
    from gymarena.envs.cav.adaptive import run_adaptive

    run = run_adaptive(1200, AVS["cautious"], load_ndd(), seed=1, batch_size=400)
    assert len(run.betas) == 3 and np.allclose(run.betas[0], 1 / 3)
    assert not np.allclose(run.betas[1], run.betas[0])  # refitted on the first batch's critical decisions
    assert all(b.sum() == pytest.approx(1.0) and np.all(b >= 0) for b in run.betas)
    assert run.outcomes.crashed.size == 1200 and np.all(run.outcomes.weights > 0)
