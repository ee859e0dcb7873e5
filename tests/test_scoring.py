"""The one per-task score of a run: its definition from per-seed means, and every face
(`gymarena results --json`, the web API, the report's tasks.csv) showing the same numbers."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gymarena.metrics import bootstrap_ci
from gymarena.metrics.fas import fas_over_seeds
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import SeedMean
from gymarena.scoring import SCORE_SEED, score_run, score_task
from gymarena.tasks import FasRefs, ScoreRefs, TaskSpec

SPEC = TaskSpec("t/X-v0", "t", "X-v0", "t", episodes=2, success="return >= 5",
                scores=ScoreRefs(0.0, 10.0, "test", "test"))
TASK = TaskProtocol(SPEC, (0, 1, 2))


def _means(returns_by_seed: dict[int, list[float]], interval: int = 1, failed: dict[int, int] | None = None) -> list[SeedMean]:
    failed = failed or {}
    rows = []
    for seed, returns in returns_by_seed.items():
        values = np.array(returns)
        rows.append(SeedMean(0, SPEC.id, seed, interval, len(returns) + failed.get(seed, 0), failed.get(seed, 0),
                             len(returns), float(values.mean()) if returns else float("nan"),
                             float((values ** 2).mean()) if returns else float("nan"),
                             float((values >= 5).mean()) if returns else None))
    return rows


def test_a_score_is_the_mean_over_seeds_with_an_interval_over_seeds():
    returns = {0: [2.0, 4.0], 1: [6.0, 8.0], 2: [9.0, 9.0]}
    score = score_task(TASK, _means(returns), np.random.default_rng(SCORE_SEED))
    per_seed = np.array([3.0, 7.0, 9.0])
    assert score.seeds == 3 and score.episodes == score.scored == score.expected_episodes == 6
    assert score.mean_return.point == pytest.approx(per_seed.mean())
    # the interval resamples seeds, with the task's own generator
    assert (score.mean_return.low, score.mean_return.high) == bootstrap_ci(per_seed, np.random.default_rng(SCORE_SEED))
    assert score.return_std == pytest.approx(np.std([2.0, 4.0, 6.0, 8.0, 9.0, 9.0]))  # of the episodes, pooled
    assert score.normalised.point == pytest.approx(per_seed.mean() / 10)
    assert score.success.point == pytest.approx(np.mean([0.0, 1.0, 1.0]))
    assert score.normalised.low <= score.normalised.point <= score.normalised.high


def test_one_seed_has_no_interval_and_a_crashed_seed_no_score():
    one = score_task(TASK, _means({0: [2.0, 4.0]}), np.random.default_rng(0))
    assert one.mean_return.point == 3.0 and one.mean_return.low is None and one.normalised.high is None
    crashed = score_task(TASK, _means({0: [2.0, 4.0], 1: []}, failed={1: 2}), np.random.default_rng(0))
    assert crashed.seeds == 1 and crashed.failed == 2 and crashed.episodes == 4 and crashed.scored == 2
    empty = score_task(TASK, [], np.random.default_rng(0))
    assert empty.mean_return is None and empty.normalised is None and empty.episodes == 0


def test_a_sweep_adds_fas_from_the_seeds_means_at_every_interval():
    spec = dataclasses.replace(SPEC, decision_intervals=(1, 2), fas=FasRefs(r_max=10.0, offset=0.0, source="test"))
    task = TaskProtocol(spec, (0, 1))
    means = _means({0: [4.0, 6.0], 1: [8.0, 8.0]}, 1) + _means({0: [2.0, 2.0], 1: [4.0, 6.0]}, 2)
    (score,) = score_run(RunProtocol((task,)), means)
    expected = fas_over_seeds({0: {1: 5.0, 2: 2.0}, 1: {1: 8.0, 2: 5.0}}, [1, 2], 10.0, 0.0)
    assert (score.fas.point, score.fas.std, [r for _, r in score.fas.curve]) == pytest.approx(expected)
    assert score.mean_return.point == 6.5  # read at the native interval
    assert score.episodes == score.expected_episodes == 8


def test_each_task_draws_its_interval_alone():
    other = TaskProtocol(dataclasses.replace(SPEC, id="t/Y-v0"), (0, 1, 2))
    means = _means({0: [2.0], 1: [6.0], 2: [9.0]})
    alone = score_run(RunProtocol((TASK,)), means)[0]
    behind_another = score_run(RunProtocol((other, TASK)), means)[1]
    assert alone == behind_another


def test_cli_json_web_api_and_report_give_one_score_per_task(db_url, tmp_path):
    from fastapi.testclient import TestClient

    from gymarena.leaderboard.app import create_app
    from gymarena.reports import write_report
    from gymarena.results import ResultsStore
    from gymarena.runner import EvalRequest, evaluate

    with ResultsStore(db_url) as store:
        run = evaluate(EvalRequest(suite="quickstart", episodes=3), store).run
        write_report(store, [run.id], tmp_path / "report", reps=200)
    cli = subprocess.run([sys.executable, "-m", "gymarena", "results", "--run", str(run.id), "--json", "--db", db_url],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)["runs"][0]["scores"]
    with TestClient(create_app(db_url, reps=200)) as client:
        from_api = client.get(f"/api/runs/{run.id}").json()["summary"]
    assert from_cli == from_api
    assert [s["task"] for s in from_cli] == ["classic/CartPole-v1", "minigrid/DoorKey-5x5-v0"]
    assert all(s["seeds"] == 3 and s["normalised"]["low"] is not None for s in from_cli)
    with (tmp_path / "report" / "tasks.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for row, score in zip(rows, from_cli, strict=True):
        assert row["task"] == score["task"]
        for column, value in (("normalised", score["normalised"]["point"]), ("normalised_low", score["normalised"]["low"]),
                              ("normalised_high", score["normalised"]["high"]), ("mean_return", score["mean_return"]["point"]),
                              ("mean_return_low", score["mean_return"]["low"]), ("return_std", score["return_std"]),
                              ("success", (score["success"] or {}).get("point"))):
            assert (float(row[column]) if row[column] else None) == value, column


def test_score_tables_say_what_plus_minus_is_and_how_many_episodes_a_sweep_scores():
    from gymarena.scoring import Estimate, FasScore, TaskScore
    from gymarena.views import FAS_COLUMN, RETURN_COLUMN, score_table_columns, score_table_row

    score = TaskScore("mujoco/Hopper-v5", "0" * 64, seeds=2, episodes=16, expected_episodes=16, scored=4, failed=0,
                      mean_return=Estimate(10.0, 8.0, 12.0), return_std=1.5, normalised=None, success=None,
                      fas=FasScore(0.5, 0.1, ((1, 10.0), (2, 9.0))))
    row = score_table_row(score)
    assert RETURN_COLUMN == "return (mean ± std)" and row[RETURN_COLUMN] == "10 ± 1.5"
    assert row["episodes"] == "16 (4 at the native interval)" and row[FAS_COLUMN] == "0.5 ± 0.1"
    assert FAS_COLUMN in score_table_columns([row])
