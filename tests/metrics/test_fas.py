"""FAS: the metric as the paper's notebook computes it, and the decision-interval sweep."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import agent_ref, leave_run
from sqlalchemy import text

from gymarena.metrics.fas import FAS_GRID, fas_over_seeds, frequency_averaged_score, returns_by_interval
from gymarena.runner import EvalRequest, evaluate
from gymarena.suites import load_suite
from gymarena.views import run_scores


def test_the_paper_grid_has_sixteen_lengths_from_one_to_thirty():
    assert FAS_GRID == (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)


def test_full_marks_at_every_length_give_twenty_nine_thirtieths():
    assert frequency_averaged_score(FAS_GRID, [3600.0] * 16, r_max=3600) == pytest.approx(29 / 30)


def test_non_uniform_grid_is_integrated_with_the_trapezoid_rule():
    returns = np.linspace(1000.0, 100.0, 16) ** 1.1
    trapezoids = sum((FAS_GRID[i + 1] - FAS_GRID[i]) * (returns[i] + returns[i + 1]) / 2 for i in range(15))
    assert frequency_averaged_score(FAS_GRID, returns, r_max=5000) == pytest.approx(trapezoids / (5000 * 30))
    trapz = getattr(np, "trapezoid", None) or np.trapz
    assert frequency_averaged_score(FAS_GRID, returns, r_max=5000) == trapz(returns, FAS_GRID) / (5000 * 30)


def test_constant_return_with_the_reacher_offset():
    # R(l) = -5 everywhere, c = 65, R_max = 60: (60 x 29) / (60 x 30).
    assert frequency_averaged_score(FAS_GRID, [-5.0] * 16, r_max=60, offset=65) == pytest.approx(29 / 30)
    assert frequency_averaged_score([1, 2, 4], [-20.0] * 3, r_max=60, offset=65) == pytest.approx(45 * 3 / (60 * 4))


def test_bad_curves_are_refused():
    with pytest.raises(ValueError, match="two or more"):
        frequency_averaged_score([1], [1.0], r_max=1)
    with pytest.raises(ValueError, match="increase"):
        frequency_averaged_score([2, 1], [1.0, 1.0], r_max=1)


def test_fas_is_averaged_over_seeds_with_complete_curves_only():
    curves = returns_by_interval([(0, 1, 10.0), (0, 1, 20.0), (0, 2, 10.0), (1, 1, 30.0), (1, 2, 30.0), (2, 1, 5.0)])
    assert curves[0] == {1: 15.0, 2: 10.0}
    mean, std, curve = fas_over_seeds(curves, [1, 2], r_max=30)
    per_seed = [(15 + 10) / 2 / 60, 30 / 60]  # seed 2 has no l=2 yet: left out
    assert mean == pytest.approx(np.mean(per_seed)) and std == pytest.approx(np.std(per_seed))
    assert curve == pytest.approx([22.5, 20.0])


def test_mujoco_fas_suite_carries_the_notebook_references():
    suite = load_suite("mujoco-fas")
    assert {t.decision_intervals for t in suite.tasks} == {FAS_GRID}
    by_id = {t.id: t.fas for t in suite.tasks}
    assert (by_id["mujoco/Reacher-v5"].r_max, by_id["mujoco/Reacher-v5"].offset) == (60, 65)
    assert (by_id["classic/Pendulum-v1"].r_max, by_id["classic/Pendulum-v1"].offset) == (1350, 1550)
    assert by_id["mujoco/Humanoid-v5"].r_max == 10500
    assert all("v2" in refs.source for refs in by_id.values())


SWEEP_SUITE = """
name = "fas-test"
version = 1
seeds = [0, 1]
episodes = 2
decision_intervals = [1, 4, 30]

[[tasks]]
id = "classic/Pendulum-v1"
fas = {{ r_max = 1350, offset = 1550, source = "test" }}
"""


@pytest.fixture
def sweep_suite(tmp_path):
    path = tmp_path / "fas-test.toml"
    path.write_text(SWEEP_SUITE.format())
    return str(path)


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_plays_every_interval_and_scores_a_constant_agent_exactly(store, sweep_suite, workers):
    result = evaluate(EvalRequest(suite=sweep_suite, agent=agent_ref("ZeroTorque"), workers=workers), store)
    records = store.episodes(result.run.id)
    assert len(records) == 2 * 3 * 2
    assert {(r.seed, r.decision_interval, r.episode) for r in records} == {
        (s, interval, e) for s in (0, 1) for interval in (1, 4, 30) for e in (0, 1)
    }
    assert all(r.length == 200 for r in records)  # l=30 ends mid-sequence at the time limit
    # No torque: the same episode seed gives the same return at every interval.
    for seed in (0, 1):
        for episode in (0, 1):
            returns = {r.episode_return for r in records if (r.seed, r.episode) == (seed, episode)}
            assert len(returns) == 1
    score = run_scores(store, result.run)[0]
    per_seed = [np.mean([rec.episode_return for rec in records if rec.seed == s]) for s in (0, 1)]
    assert score.fas.point == pytest.approx(np.mean([(r + 1550) * 29 / (1350 * 30) for r in per_seed]))
    assert score.episodes == score.expected_episodes == 12


def test_act_sequence_is_asked_once_per_interval_steps(store, sweep_suite, tmp_path, monkeypatch):
    log = tmp_path / "decisions.txt"
    monkeypatch.setenv("GYMARENA_TEST_DECISIONS", str(log))
    evaluate(EvalRequest(suite=sweep_suite, agent=agent_ref("PlansSequences"), seeds=(0,), episodes=1), store)
    decisions = [int(line) for line in log.read_text().split()]
    # 200 steps: 200 decisions at l=1 (act), 50 at l=4 and 7 at l=30 (act_sequence).
    assert (decisions.count(1), decisions.count(4), decisions.count(30)) == (200, 50, 7)


def test_a_sweep_resumes_the_intervals_it_did_not_finish(store, sweep_suite):
    request = EvalRequest(suite=sweep_suite, agent="random")
    first = evaluate(request, store)
    before = {(r.seed, r.decision_interval, r.episode): r.episode_return for r in store.episodes(first.run.id)}
    assert {k.decision_interval for k in store.finished_keys(first.run.id)} == {1, 4, 30}
    with store.engine.begin() as connection:  # as if the run had been killed before l=30
        connection.execute(text("DELETE FROM episodes WHERE decision_interval = 30"))
    leave_run(store, first.run.id, "interrupted")
    again = evaluate(request, store)
    assert again.resumed and again.skipped == 8 and again.played == 4
    after = {(r.seed, r.decision_interval, r.episode): r.episode_return for r in store.episodes(first.run.id)}
    assert after == before
