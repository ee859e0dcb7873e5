"""Family-specific behaviour: metrics on records, seeding, and the scripted baselines."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gymarena
from gymarena.results import ResultsStore
from gymarena.runner import EvalRequest, evaluate
from gymarena.views import run_scores


@pytest.fixture
def store(sqlite_url):
    """SQLite only: these tests are about simulators, which the database does not change."""
    with ResultsStore(sqlite_url) as opened:
        yield opened


def test_metaworld_goal_variation_follows_the_episode_seed():
    env = gymarena.make("metaworld/pick-place-v3")
    first, _ = env.reset(seed=11)
    variation = env.get_wrapper_attr("variation")
    env.reset(seed=12)
    again, _ = env.reset(seed=11)  # after another episode: same goal, same start
    assert env.get_wrapper_attr("variation") == variation
    assert np.array_equal(first, again)
    assert env.observation_space.contains(first)  # the goal is observed, and inside the space


def test_metaworld_expert_succeeds_and_records_its_metrics(store):
    result = evaluate(EvalRequest(tasks=("metaworld/reach-v3", "metaworld/drawer-close-v3"), seeds=(0,), episodes=3,
                                  agent="scripted"), store)
    records = store.episodes(result.run.id)
    assert all(r.success and r.terminated for r in records)  # episodes end on success
    assert all(r.extra["success_step"] == r.length and r.extra["goal_variation"] in range(50) for r in records)
    scores = run_scores(store, result.run)
    assert all(s.normalised.point == 1.0 and s.success.point == 1.0 for s in scores)  # success-rate scale


def test_scripted_agent_names_the_families_it_covers(store):
    from gymarena.errors import AgentLoadError

    with pytest.raises(AgentLoadError, match=r"no scripted baseline for classic tasks .* families with one: highway, mario, metaworld, nethack, sc2, social, traffic"):
        evaluate(EvalRequest(tasks=("classic/CartPole-v1",), seeds=(0,), episodes=1, agent="scripted"), store)


def test_highway_idm_mobil_baseline_drives_safely_and_metrics_add_up(store):
    result = evaluate(EvalRequest(tasks=("highway/HighwayFast-v0",), seeds=(0, 1), episodes=2, agent="scripted"), store)
    records = store.episodes(result.run.id)
    assert all(r.success and r.extra["safe"] and not r.extra["crashed"] for r in records)
    for record in records:  # 30 one-second decisions at ~20-30 m/s
        assert record.length == 30 and 500 < record.extra["distance"] < 1000
        assert record.extra["distance"] == pytest.approx(record.extra["mean_speed"] * 30, rel=0.1)
    random = evaluate(EvalRequest(tasks=("highway/HighwayFast-v0",), seeds=(0, 1), episodes=2), store)
    assert sum(r.success for r in store.episodes(random.run.id)) < len(records)


@pytest.mark.parametrize("task", ["highway/Roundabout-v1", "highway/Intersection-v1"])
def test_highway_path_drivers_are_safer_than_random_and_still_drive(store, task):
    outcomes = {}
    for agent in ("random", "scripted"):
        result = evaluate(EvalRequest(tasks=(task,), seeds=(0, 1, 2, 3, 4), episodes=2, agent=agent), store)
        outcomes[agent] = store.episodes(result.run.id)
    safe = {agent: sum(r.success for r in records) for agent, records in outcomes.items()}
    assert safe["scripted"] >= safe["random"] + 3, safe
    assert np.mean([r.extra["distance"] for r in outcomes["scripted"]]) > 40  # it drives, it does not just stop


def test_highway_action_space_stays_seeded_across_resets():
    env = gymarena.make("highway/HighwayFast-v0")
    space = env.action_space
    env.reset(seed=1)
    assert env.action_space is space  # highway-env makes a new one at every reset; the adapter keeps this one


def test_traffic_runs_on_libsumo_replays_seeds_and_stores_signal_metrics(store, capfd):
    request = EvalRequest(tasks=("traffic/SingleIntersection-v0",), seeds=(0,), episodes=1, agent="scripted")
    first = store.episodes(evaluate(request, store).run.id)
    again = store.episodes(evaluate(EvalRequest(tasks=request.tasks, seeds=(0,), episodes=1, agent="scripted",
                                                fresh=True), store).run.id)
    assert [r.outcome_fields() for r in first] == [r.outcome_fields() for r in again]
    (record,) = first
    assert record.length == 720  # one hour, a decision every 5 s
    assert set(record.extra) == {"mean_waiting_time", "mean_speed", "mean_stopped", "throughput"}
    assert record.extra["throughput"] > 1000
    assert "libsumo" not in capfd.readouterr().out  # stdout stays for results


SHORT_GRID = '''
name = "grid-short"
version = 1
seeds = [0, 1]
episodes = 2
[[tasks]]
id = "traffic/Grid2x2Short-v0"
env_id = "2x2grid/2x2.rou.xml"
agents = "multi"
kwargs.num_seconds = 300
'''


def _short_grid(tmp_path) -> str:
    path = tmp_path / "grid.toml"
    path.write_text(SHORT_GRID)
    return str(path)


def test_multi_agent_traffic_records_each_signals_return_identically_on_every_backend(store, tmp_path):
    suite = _short_grid(tmp_path)
    local = evaluate(EvalRequest(suite=suite, agent="scripted", backend="local"), store)
    spread = evaluate(EvalRequest(suite=suite, agent="scripted", workers=2, fresh=True), store)
    records = store.episodes(local.run.id)
    assert [r.outcome_fields() for r in records] == [r.outcome_fields() for r in store.episodes(spread.run.id)]
    for record in records:
        assert set(record.agent_returns) == {"1", "2", "5", "6"}  # the grid's four signals
        assert record.episode_return == pytest.approx(sum(record.agent_returns.values()))
        assert record.length == 60 and record.truncated and not record.terminated  # 300 s, a decision every 5 s
        assert set(record.extra) == {"mean_waiting_time", "mean_speed", "mean_stopped", "throughput"}
    random = store.episodes(evaluate(EvalRequest(suite=suite), store).run.id)
    assert len({tuple(r.agent_returns.values()) for r in random}) == len(random)  # episode seeds differ


class _Silent:
    """Answers for one signal only: the runner must name the ones left without an action."""

    def __init__(self, task, observation_spaces, action_spaces):
        self.first = sorted(action_spaces)[0]

    def reset(self, seed=None):
        pass

    def act(self, observations):
        return {self.first: 0}


def test_multi_agent_actions_missing_for_some_agents_are_named(store, tmp_path):
    from gymarena.errors import InvalidActionError

    agent_file = tmp_path / "silent.py"
    agent_file.write_text(inspect.getsource(_Silent))
    with pytest.raises(InvalidActionError, match=r"no action for 2, 5, 6 on traffic/Grid2x2Short-v0 \(seed 0, episode 0, step 0\)"):
        evaluate(EvalRequest(suite=_short_grid(tmp_path), agent=f"{agent_file}:_Silent"), store)


def test_a_highway_task_drives_the_same_whatever_ran_before_it_in_the_process():
    """highway-env's intersection sets its drivers' IDM constants on their class at every
    reset (its constructor resets too): Merge, and the scripted driver, which reads them,
    drove differently after it. Each in a fresh process: the intersection made first, or not."""
    import subprocess
    import sys

    code = ("import json, sys; from gymarena.fingerprints.rollout import record; from gymarena.tasks import get_task\n"
            "first = sys.argv[1:]\n"
            "[record(get_task(t), 'random', seeds=(0,), steps=5) for t in first]\n"
            "print(json.dumps(record(get_task('highway/Merge-v1'), 'random', seeds=(0,), steps=15).steps))")
    alone, after = (subprocess.run([sys.executable, "-c", code, *first], capture_output=True, text=True, check=True).stdout
                    for first in ([], ["highway/Intersection-v1"]))
    assert after == alone
