"""`gymarena cav test|compare|replay`: testing runs stored in the results database."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gymarena.cli import app
from gymarena.results import ResultsStore

runner = CliRunner()


def cav(*args: str):
    return runner.invoke(app, ["cav", *args])


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cav.sqlite")


def test_a_testing_run_stores_every_test_with_its_outcome(db):
    result = cav("test", "--agent", "cautious", "--mode", "nade", "--tests", "1500", "--batch-size", "500", "--db", db)
    assert result.exit_code == 0, result.output
    assert "run 1: 1,500 tests" in result.output and "crash rate" in result.output
    with ResultsStore(f"sqlite:///{db}") as store:
        run = store.get_run(1)
        records = store.episodes(1)
    assert run.status == "complete" and run.config["mode"] == "nade" and run.agent.reference == "cav:cautious"
    summary = run.summary
    assert summary["tests"] == 1500 and summary["ci90"][0] <= summary["crash_rate"] <= summary["ci90"][1]
    assert summary["crashes"] == sum(r.extra["crash"] for r in store_records(db)) and summary["rhw_path"][-1][0] == 1500
    assert run.protocol.task_ids == ["cav/Highway2Lane-NADE-v0"]
    assert len(records) == 1500 and {r.extra["batch"] for r in records} == {0, 1, 2}
    crashed = [r for r in records if r.extra["crash"]]
    assert crashed and all(r.extra["outcome"] == r.extra["weight"] and r.success is False for r in crashed)
    assert all(r.extra["outcome"] == 0 for r in records if not r.extra["crash"])


def store_records(db):
    with ResultsStore(f"sqlite:///{db}") as store:
        return store.episodes(1)


def test_until_rhw_stops_once_precise_enough(db):
    result = cav("test", "--agent", "cautious", "--mode", "nade", "--tests", "40000", "--until-rhw", "0.5",
                 "--batch-size", "1000", "--db", db)
    assert result.exit_code == 0, result.output
    with ResultsStore(f"sqlite:///{db}") as store:
        tests = len(store.episodes(1))
    assert tests < 40000 and tests % 1000 == 0
    rhw = float(result.output.split("relative half-width ")[-1].split(",")[0])
    assert rhw <= 0.5


def test_compare_and_replay_a_crash(db, tmp_path):
    assert cav("test", "--agent", "cautious", "--mode", "nde", "--tests", "6000", "--db", db).exit_code == 0
    assert cav("test", "--agent", "cautious", "--mode", "nade", "--tests", "2000", "--db", db).exit_code == 0
    result = cav("compare", "1", "2", "--reps", "50", "--plot", str(tmp_path / "rhw.png"), "--db", db)
    assert result.exit_code == 0, result.output
    assert "standard errors" in result.output and "efficiency of run 2 over run 1" in result.output
    assert (tmp_path / "rhw.png").stat().st_size > 1000
    result = cav("replay", "2", "--out", str(tmp_path / "crash.gif"), "--db", db)
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(tmp_path / "crash.gif") as gif:
        assert gif.n_frames > 5
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert np.any(np.all(last == (230, 40, 40), axis=-1))  # the AV drawn red: it crashed


def test_an_adate_run_is_stored_compared_with_nde_and_its_crash_replays(db, tmp_path):
    assert cav("test", "--agent", "acc", "--mode", "nde", "--tests", "8000", "--db", db).exit_code == 0
    result = cav("test", "--agent", "acc", "--mode", "adate", "--tests", "3000", "--batch-size", "1000", "--db", db)
    assert result.exit_code == 0, result.output
    with ResultsStore(f"sqlite:///{db}") as store:
        run = store.get_run(2)
        records = sorted(store.episodes(2), key=lambda r: r.episode)
    assert run.config["mode"] == "adate" and run.protocol.task_ids == ["cav/Highway2Lane-AdaTE-v0"]
    assert "cav AdaTE sha256" in run.protocol.tasks[0].simulator_versions and run.agent.reference == "cav:acc"
    betas = [tuple(r.extra["betas"]) for r in records]
    assert betas[0] == pytest.approx((0, 1 / 3, 1 / 3, 1 / 3)) and len(set(betas)) == 3  # one set per batch, refitted
    result = cav("compare", "1", "2", "--reps", "50", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    import json

    comparison = json.loads(result.output)
    assert comparison["agree"] is True, comparison
    # a crash of the last batch replays: the batches before it are played again to restore what AdaTE had learned
    last = next(r for r in reversed(records) if r.extra["crash"] and r.extra["batch"] == 2)
    result = cav("replay", "2", "--test", str(last.episode), "--out", str(tmp_path / "crash.png"), "--db", db)
    assert result.exit_code == 0, result.output


def test_bad_input_is_a_clear_error(db, tmp_path):
    assert "unknown testing mode 'fast'" in cav("test", "--mode", "fast", "--db", db).output
    bad = tmp_path / "ndd.json"
    bad.write_text('{"format": "gymarena-ndd/1"}')
    assert "the field 'acceleration_bins' is missing" in cav("test", "--ndd", str(bad), "--tests", "10", "--db", db).output
    assert "is not a CAV testing run" in cav("replay", "7", "--db", db).output


BATCH_AGENT = '''
import numpy as np

class AlwaysBrake:
    """An AV that brakes hard whatever happens: its own act_batch runs vectorised."""

    def __init__(self, task, observation_space, action_space):
        pass

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return np.array([-4.0, 0.0])

    def act_batch(self, observations):
        return np.full(len(observations), -4.0), np.zeros(len(observations), dtype=int)
'''


def test_a_users_av_is_tested_through_its_agent_reference(db, tmp_path):
    (tmp_path / "myav.py").write_text(BATCH_AGENT)
    result = cav("test", "--agent", f"{tmp_path / 'myav.py'}:AlwaysBrake", "--tests", "300", "--db", db)
    assert result.exit_code == 0, result.output
    with ResultsStore(f"sqlite:///{db}") as store:
        records = store.episodes(1)
    assert len(records) == 300
    assert all(r.extra["distance"] < 150 for r in records)  # stopped within v^2 / 8 m: the user's AV drove
    assert all(r.extra["crash"] or r.truncated for r in records)  # never finished the segment


@pytest.mark.parametrize("answer", ['"fast"', '{"accelerate": 1}', "[1.0]"])
def test_an_act_only_av_answering_nonsense_is_the_avs_error(db, tmp_path, answer):
    """An act-only AV answering a string or a dict was reported as the worker's error."""
    (tmp_path / "odd.py").write_text(f"class Odd:\n    def reset(self, seed=None):\n        pass\n\n"
                                     f"    def act(self, observation):\n        return {answer}\n")
    result = cav("test", "--agent", f"{tmp_path / 'odd.py'}:Odd", "--tests", "8", "--db", db)
    assert result.exit_code == 1 and "the AV's act must return [acceleration, lane change], two numbers" in result.output


def _tests_stored(url: str) -> int:
    try:
        with ResultsStore(url) as store:
            return sum(run.episode_count for run in store.list_runs())
    except Exception:  # the database is being created
        return 0


@pytest.mark.parametrize("mode", ["nade", "adaptive", "adate"])
def test_an_interrupted_testing_run_continues_where_it_stopped_and_matches_an_unbroken_one(tmp_path, mode):
    import os
    import signal
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'cav.sqlite'}"
    args = ["cav", "test", "--agent", "aggressive", "--mode", mode, "--tests", "12000", "--batch-size", "1500", "--db", url]
    process = subprocess.Popen([sys.executable, "-m", "gymarena", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while _tests_stored(url) < 3000:  # two batches: past the adaptive mode's first fit
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "run the same `gymarena cav test` again to continue" in stderr, stderr
    with ResultsStore(url) as store:
        (run,) = store.list_runs()
    assert run.status == "interrupted" and 0 < run.episode_count < 12000
    resumed = cav(*args[1:])
    assert resumed.exit_code == 0 and f"continuing run {run.id}: {run.episode_count:,} tests are stored" in resumed.output
    again = cav(*args[1:])
    assert f"run {run.id} already holds these tests" in again.output
    unbroken = cav(*args[1:], "--fresh")
    with ResultsStore(url) as store:
        first, second = (store.get_run(r.id) for r in store.list_runs())
        outcomes = [[e.extra["outcome"] for e in sorted(store.episodes(r.id), key=lambda e: e.episode)] for r in (first, second)]
    assert unbroken.exit_code == 0 and first.status == second.status == "complete"
    assert outcomes[0] == outcomes[1] and first.summary["crash_rate"] == second.summary["crash_rate"]


def test_nde_intervals_respect_zero_and_compare_never_prints_inf_or_nan(db):
    assert cav("test", "--agent", "cautious", "--mode", "nde", "--tests", "3000", "--db", db).exit_code == 0
    assert cav("test", "--agent", "cautious", "--mode", "nde", "--tests", "2000", "--seed", "1", "--db", db).exit_code == 0
    with ResultsStore(f"sqlite:///{db}") as store:
        summaries = [run.summary for run in store.list_runs()]
    for summary in summaries:
        low, high = summary["ci90"]
        assert 0 <= low <= summary["crash_rate"] <= high and high > 0  # Wilson: no crash still bounds the rate above
    compared = cav("compare", "1", "2", "--db", db)
    assert compared.exit_code == 0, compared.output
    assert not any(word in compared.output for word in ("inf", "nan", "RuntimeWarning")), compared.output
