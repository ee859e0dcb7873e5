"""Suite rankings: IQM with intervals, rank intervals, improvement over the next agent,
runs under other protocols kept apart, suite ranking keys, and the CLI table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from leaderboard_data import BALANCER_SOURCE, play_both, tiny_suite
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
    assert [(e.agent, e.runs, e.superseded) for e in ranking.entries] == [("make_agent", 1, 0), ("random", 1, 1)]


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


CHECKPOINT = BALANCER_SOURCE  # one "trained checkpoint": a balancer whose gain differs from run to run


def _checkpoints(directory, gains=(0.5, 0.05, 0.0)) -> list[str]:
    references = []
    for index, gain in enumerate(gains):
        path = directory / f"checkpoint{index}.py"
        path.write_text(CHECKPOINT.format(gain=gain))
        references.append(f"{path}:make_agent")
    return references


def test_an_algorithm_is_ranked_over_its_training_runs_with_its_ci_over_runs(store, tmp_path):
    """rliable's unit: each checkpoint's run is one training run; the entry's matrix is runs
    x tasks (each run's mean over its seeds), and its CI resamples runs."""
    from gymarena.leaderboard.ranking import RANKING_SEED
    from gymarena.metrics import aggregate
    from gymarena.records import AlgorithmIdentity

    suite = tiny_suite(tmp_path)
    algorithm = AlgorithmIdentity("balancer", "1")
    run_ids = [evaluate(EvalRequest(suite=suite, agent=ref, algorithm=algorithm), store).run.id
               for ref in _checkpoints(tmp_path)]
    evaluate(EvalRequest(suite=suite, agent="random"), store)
    evaluate(EvalRequest(suite=suite, agent=_checkpoints(tmp_path)[0], algorithm=algorithm, fresh=True), store)
    ranking = leaderboard(store, suite, reps=300)
    entry = next(e for e in ranking.entries if e.algorithm)
    assert (entry.agent, entry.runs, entry.unit, entry.superseded) == ("balancer", 3, "runs", 1)
    assert len(entry.run_ids) == 3 and set(entry.run_ids) & set(run_ids) == set(run_ids[1:])  # newest of checkpoint 0
    assert entry.seeds == 3 * 4
    scores = {task: [] for task in ranking.tasks}
    for run_id in entry.run_ids:
        for task in ranking.tasks:
            scores[task].append(np.mean(_seed_scores(store, run_id, task)))
    matrix = np.array([scores[task] for task in ranking.tasks]).T  # runs x tasks
    assert entry.iqm.point == pytest.approx(aggregate.aggregate_iqm(matrix))
    assert entry.task_scores == pytest.approx({task: float(np.mean(scores[task])) for task in ranking.tasks})
    others = [e for e in ranking.entries if not e.algorithm]
    assert [(e.agent, e.runs, e.unit) for e in others] == [("random", 1, "seeds")]
    assert RANKING_SEED == 0


def _seed_scores(store, run_id, task_id):
    from gymarena.scoring import seed_scores

    run = store.get_run(run_id)
    return seed_scores(run.protocol.task(task_id), store.seed_means([run_id]))


def test_another_owners_runs_never_join_an_algorithm_entry(store, tmp_path):
    import dataclasses

    from gymarena.agents import load_agent
    from gymarena.records import AlgorithmIdentity
    from gymarena.runner import RunOrigin

    suite = tiny_suite(tmp_path)
    algorithm = AlgorithmIdentity("balancer", "1")
    first, second, third = _checkpoints(tmp_path)
    for reference in (first, second):
        evaluate(EvalRequest(suite=suite, agent=reference, algorithm=algorithm), store)
    intruder = dataclasses.replace(load_agent(third), owner="mallory")
    evaluate(EvalRequest(suite=suite), store, origin=RunOrigin(intruder, "local", algorithm=algorithm))
    ranking = leaderboard(store, suite, reps=200)
    assert sorted((e.owner, e.runs) for e in ranking.entries) == [("", 2), ("mallory", 1)]


def test_an_algorithm_entry_with_a_broken_run_is_unranked_naming_the_run(store, tmp_path):
    from gymarena.records import AlgorithmIdentity

    suite = tiny_suite(tmp_path)
    algorithm = AlgorithmIdentity("balancer", "1")
    first, broken = _checkpoints(tmp_path, gains=(0.5, 0.0))
    ids = [evaluate(EvalRequest(suite=suite, agent=ref, algorithm=algorithm), store).run.id for ref in (first, broken)]
    from sqlalchemy import text

    with store.engine.begin() as connection:  # a stored mean that is not a number
        connection.execute(text("UPDATE seed_means SET mean_return = 'nan' WHERE run_id = :run"), {"run": ids[1]})
    ranking = leaderboard(store, suite, reps=200)
    assert ranking.entries == [] and len(ranking.unranked) == 1
    assert ranking.unranked[0].agent == "balancer@1" and f"run {ids[1]}:" in ranking.unranked[0].reason


def test_the_leaderboard_says_what_each_ci_is_over(sqlite_url, tmp_path):
    suite = tiny_suite(tmp_path)
    runner = CliRunner()
    for reference in _checkpoints(tmp_path):
        result = runner.invoke(app, ["eval", "--suite", suite, "--agent", reference, "--algorithm", "balancer@1",
                                     "--db", sqlite_url])
        assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["eval", "--suite", suite, "--db", sqlite_url]).exit_code == 0
    shown = runner.invoke(app, ["leaderboard", "--suite", suite, "--json", "--reps", "200", "--db", sqlite_url])
    entries = json.loads(shown.stdout)["entries"]
    assert sorted((e["agent"], e["runs"], e["ci_over"]) for e in entries) == [("balancer", 3, "runs"),
                                                                              ("random", 1, "seeds")]
    table = runner.invoke(app, ["leaderboard", "--suite", suite, "--reps", "200", "--db", sqlite_url]).stdout
    assert "3 runs" in table and "4 seeds" in table
    bad = runner.invoke(app, ["eval", "--suite", suite, "--algorithm", "@1", "--db", sqlite_url])
    assert bad.exit_code != 0 and "--algorithm is NAME or NAME@VERSION" in bad.output
