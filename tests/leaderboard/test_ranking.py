"""Suite rankings: IQM with intervals, rank intervals, improvement over the next agent,
runs under other protocols kept apart, suite ranking keys, and the CLI table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from leaderboard_data import play_both, tiny_suite
from typer.testing import CliRunner

from gymarena.cli import app
from gymarena.leaderboard import leaderboard
from gymarena.runner import EvalRequest, evaluate


def test_agents_are_ranked_by_iqm_with_intervals_and_improvement_over_the_next(store, tmp_path):
    suite = tiny_suite(tmp_path)
    play_both(store, suite, tmp_path)
    ranking = leaderboard(store, suite, reps=500)
    assert ranking.tasks == ["classic/CartPole-v1", "classic/CartPoleShort-v1"]  # Acrobot has no references
    assert any("classic/Acrobot-v1" in note for note in ranking.notes)
    best, worst = ranking.entries
    assert best.agent == "make_agent" and worst.agent == "random"
    assert (best.rank, worst.rank) == (1, 2) and best.rank_low == 1 and worst.rank_high == 2
    assert best.iqm.low <= best.iqm.point <= best.iqm.high and best.iqm.point > worst.iqm.high
    assert best.poi_next.point == pytest.approx(1.0) and worst.poi_next is None
    assert best.seeds == 4 and best.episodes == 3 * 4 * 3
    assert best.success_rate == pytest.approx(1.0)  # the short task's rule; balanced to its 50 steps
    assert set(best.task_scores) == set(ranking.tasks)


def test_runs_under_another_protocol_are_listed_apart_with_what_differs(store, tmp_path):
    suite = tiny_suite(tmp_path)
    play_both(store, suite, tmp_path)
    evaluate(EvalRequest(suite=suite, episodes=2), store)
    evaluate(EvalRequest(suite=suite, seeds=(7, 8)), store)
    ranking = leaderboard(store, suite, reps=200)
    assert len(ranking.entries) == 2
    differences = sorted(" ".join(group.differences) for group in ranking.apart)
    assert "2 episodes per seed instead of 3" in differences[0]
    assert "seeds [7, 8] instead of [0, 1, 2, 3]" in differences[1]


def test_each_agent_counts_once_by_its_newest_run(store, tmp_path):
    suite = tiny_suite(tmp_path)
    play_both(store, suite, tmp_path)
    evaluate(EvalRequest(suite=suite, fresh=True), store)
    ranking = leaderboard(store, suite, reps=200)
    assert [(e.agent, e.runs) for e in ranking.entries] == [("make_agent", 1), ("random", 2)]


def test_suite_ranking_keys_decide_the_order(store, tmp_path):
    suite = tiny_suite(tmp_path, 'ranking = ["mean:return"]')
    play_both(store, suite, tmp_path)
    ranking = leaderboard(store, suite, reps=200)
    best, worst = ranking.entries
    assert best.agent == "make_agent" and best.rank_low is None  # the bootstrap interval is for IQM only
    assert best.ranking_values[0] > worst.ranking_values[0]


def test_per_seed_means_leave_out_adaptation_episodes(store, tmp_path):
    path = tmp_path / "trials.toml"
    path.write_text('name = "t"\nversion = 1\nseeds = [0]\nepisodes = 2\n[[tasks]]\nid = "classic/CartPoleTrials-v1"\n'
                    'env_id = "CartPole-v1"\ntrial = { adaptation = 2, evaluation = 1 }\n')
    run = evaluate(EvalRequest(suite=str(path)), store).run
    (mean,) = store.seed_means([run.id])
    evaluation = [r.episode_return for r in store.episodes(run.id) if r.phase == "evaluation"]
    assert mean.episodes == 2 and mean.mean_return == pytest.approx(np.mean(evaluation))


def test_leaderboard_command_prints_the_ranking(sqlite_url, tmp_path):
    from gymarena.results import ResultsStore

    suite = tiny_suite(tmp_path)
    with ResultsStore(sqlite_url) as store:
        play_both(store, suite, tmp_path)
    runner = CliRunner()
    table = runner.invoke(app, ["leaderboard", "--suite", suite, "--db", sqlite_url, "--reps", "200"])
    assert table.exit_code == 0, table.output
    assert "tiny@1: ranked by iqm:normalised" in table.output and "1 [1-1]" in table.output
    payload = json.loads(runner.invoke(app, ["leaderboard", "--suite", suite, "--db", sqlite_url, "--json", "--reps", "200"]).stdout)
    assert [e["agent"] for e in payload["entries"]] == ["make_agent", "random"]
    assert payload["entries"][0]["rank_interval"] == [1, 1]
