"""A run's life as a newcomer meets it, through the real commands: typos refused before
anything is stored, read-only commands that never create a database, no debris from runs
that never started, a finished eval that is not stored twice, a killed one shown as
interrupted and resumed at once, a live one not shared, and removing runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import agent_ref

from gymarena.results import ResultsStore


def gymarena(*args: str, db: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gymarena", *args] + (["--db", db] if db is not None else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def _runs(url: str) -> list[tuple[int, str, int]]:
    with ResultsStore(url) as store:
        return [(r.id, r.status, r.episode_count) for r in store.list_runs()]


def _one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == [lines[-1]] and text in lines[-1] and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("seeds, message", [
    ("0-100000000", "100,000,001 seeds, over the limit of 10,000"),
    ("99999999999999999999999", "over the largest seed"),
    ("9" * 5000, "over the largest seed"),
    ("", "--seeds is empty"),
])
def test_a_seed_typo_is_one_line_and_touches_no_database(tmp_path, seeds, message):
    existing = f"sqlite:///{tmp_path / 'kept.sqlite'}"
    assert gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "1", db=existing).returncode == 0
    before = _runs(existing)
    _one_line_error(gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", seeds, db=existing), message)
    assert _runs(existing) == before
    fresh = tmp_path / "never.sqlite"
    _one_line_error(gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", seeds, db=str(fresh)), message)
    assert not fresh.exists()


def test_an_empty_db_is_refused_and_read_only_commands_never_create_one(tmp_path):
    _one_line_error(gymarena("results", db=""), "--db is empty")
    typo = tmp_path / "typo-dir" / "x.sqlite"
    for args in (["results"], ["leaderboard", "--suite", "quickstart"], ["report", "1"],
                 ["runs", "prune", "--yes"], ["admin", "hide-run", "1", "--reason", "x"]):
        _one_line_error(gymarena(*args, db=f"sqlite:///{typo}"), "there is no results database at")
    assert not typo.parent.exists()


def test_version():
    from gymarena import __version__

    result = gymarena("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gymarena {__version__}"


def test_a_run_that_fails_before_its_first_episode_stores_nothing(sqlite_url, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("class A:\n    def __init__(self, *spaces):\n        raise ValueError('no weights')\n"
                      "    def reset(self, seed=None):\n        pass\n    def act(self, observation):\n        return 0\n")
    _one_line_error(gymarena("eval", "--task", "classic/CartPole-v1", "--agent", f"{broken}:A", db=sqlite_url), "no weights")
    _one_line_error(gymarena("eval", "--task", "mujoco/NoSuch-v5", db=sqlite_url), "unknown task")
    assert _runs(sqlite_url) == []
    assert gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "1", db=sqlite_url).returncode == 0
    assert [run for run, _, _ in _runs(sqlite_url)] == [1]  # ids do not shift


def test_a_finished_eval_is_not_stored_twice(sqlite_url):
    args = ("eval", "--task", "classic/CartPole-v1", "--seeds", "0-1", "--episodes", "2")
    assert gymarena(*args, db=sqlite_url).returncode == 0
    again = gymarena(*args, db=sqlite_url)
    assert again.returncode == 0 and "run 1 already holds these results" in again.stderr
    assert _runs(sqlite_url) == [(1, "complete", 4)]
    assert gymarena(*args, "--fresh", db=sqlite_url).returncode == 0
    assert [status for _, status, _ in _runs(sqlite_url)] == ["complete", "complete"]


def _start_slow_eval(url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gymarena", "eval", "--task", "classic/CartPole-v1", "--seeds", "0-1",
                             "--episodes", "200", "--agent", agent_ref("SlowRandom"), "--db", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "GYMARENA_TEST_AGENT_SLEEP": "0.05"})


def _wait_for_episodes(url: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while not (runs := _runs(url)) or runs[0][2] < count:
        assert time.monotonic() < deadline, runs
        time.sleep(0.2)


def test_a_live_run_is_not_shared_and_a_killed_one_is_interrupted_and_resumed_at_once(db_url):
    first = _start_slow_eval(db_url)
    try:
        _wait_for_episodes(db_url, 5)
        second = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0-1", "--episodes", "200",
                          "--agent", agent_ref("SlowRandom"), db=db_url)
        _one_line_error(second, "run 1 is being recorded right now by another process")
        assert _runs(db_url)[0][1] == "running"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    ((run, status, stored),) = _runs(db_url)
    assert status == "interrupted" and stored > 0
    listed = gymarena("results", db=db_url)
    assert "interrupted" in listed.stdout
    resumed = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0-1", "--episodes", "200",
                       "--agent", agent_ref("SlowRandom"), db=db_url, env={"GYMARENA_TEST_AGENT_SLEEP": "0"})
    assert resumed.returncode == 0 and f"resumed run {run}: {stored} episodes were already stored" in resumed.stderr
    assert _runs(db_url) == [(run, "complete", 400)]


def test_runs_are_deleted_with_their_episodes_and_prune_takes_failed_and_interrupted_ones(sqlite_url):
    assert gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "2", db=sqlite_url).returncode == 0
    failed = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "1", "--episodes", "4",
                      "--agent", agent_ref("RaisesAtStep"), db=sqlite_url)
    assert failed.returncode == 1
    assert [(run, status) for run, status, _ in _runs(sqlite_url)] == [(1, "complete"), (2, "failed")]
    _one_line_error(gymarena("runs", "prune", db=sqlite_url), "add --yes")  # no terminal to ask at
    pruned = gymarena("runs", "prune", "--yes", db=sqlite_url)
    assert pruned.returncode == 0 and "deleted 1 run" in pruned.stderr
    assert [run for run, _, _ in _runs(sqlite_url)] == [1]
    _one_line_error(gymarena("runs", "delete", "7", "--yes", db=sqlite_url), "there is no run 7")
    assert gymarena("runs", "delete", "1", "--yes", db=sqlite_url).returncode == 0
    assert _runs(sqlite_url) == []
    with ResultsStore(sqlite_url) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM episodes").scalar() == 0
        assert connection.exec_driver_sql("SELECT count(*) FROM seed_means").scalar() == 0


# -- no tracebacks on bad input -------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["dataset", "record", "--task", "classic/CartPole-v1", "--id", "bad id!", "--episodes", "1"],
     "dataset id 'bad id!' is malformed"),
    (["dataset", "record", "--task", "classic/CartPole-v1", "--id", "badid", "--episodes", "1"],
     "dataset id 'badid' is malformed: write it as [namespace/]name-vN"),  # Minari raises TypeError here
])
def test_bad_input_without_a_database_is_one_line(args, message):
    _one_line_error(gymarena(*args), message)


def test_bad_input_with_a_database_is_one_line(sqlite_url, tmp_path):
    assert gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "1", db=sqlite_url).returncode == 0
    a_file = tmp_path / "taken.txt"
    a_file.write_text("")
    _one_line_error(gymarena("report", "1", "--out", str(a_file), db=sqlite_url), "give --out a directory")
    _one_line_error(gymarena("cav", "test", "--agent", "idmm", "--tests", "10", db=sqlite_url),
                    "there is no built-in AV 'idmm': did you mean 'idm'?")


def test_an_unreachable_ray_cluster_is_one_line(monkeypatch):
    import ray

    from gymarena.errors import GymarenaError
    from gymarena.runner import ray_backend

    def refuse(**options):
        raise ConnectionError("ray client connection timeout")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(GymarenaError, match="cannot connect to the Ray cluster at 'ray://head:10001'"):
        ray_backend.connect("ray://head:10001", 1)
    import importlib.util

    assert importlib.util.find_spec("grpc") is not None  # the ray extra brings what Ray Client needs


def test_an_agent_that_cannot_play_a_task_says_so_before_any_episode(sqlite_url, tmp_path):
    module = tmp_path / "partial.py"
    module.write_text(
        "class Only:\n"
        "    def check_task(self, task):\n"
        "        if task.id != 'classic/CartPole-v1':\n"
        "            raise ValueError(f'no checkpoint for {task.id}')\n"
        "    def __call__(self, task, observation_space, action_space):\n"
        "        return Agent(action_space)\n\n"
        "class Agent:\n"
        "    def __init__(self, space):\n        self.space = space\n"
        "    def reset(self, seed=None):\n        pass\n"
        "    def act(self, observation):\n        return 0\n\n"
        "make_agent = Only()\n")
    result = gymarena("eval", "--suite", "quickstart", "--agent", f"{module}:make_agent", db=sqlite_url)
    _one_line_error(result, "cannot play minigrid/DoorKey-5x5-v0: no checkpoint for minigrid/DoorKey-5x5-v0")
    assert _runs(sqlite_url) == []


def test_the_ray_backend_prints_only_what_eval_prints(sqlite_url):
    pytest.importorskip("ray")
    result = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "1", "--backend", "ray",
                      "--workers", "1", db=sqlite_url)
    assert result.returncode == 0, result.stderr
    leaked = [line for line in result.stderr.splitlines() if " INFO " in line or " WARNING " in line]
    assert leaked == []


def test_debug_shows_the_agents_own_traceback(sqlite_url, tmp_path):
    module = tmp_path / "boom.py"
    module.write_text("class Boom:\n    def reset(self, seed=None):\n        pass\n\n    def act(self, observation):\n"
                      "        return self.helper()\n\n    def helper(self):\n        raise RuntimeError('boom')\n")
    args = ("eval", "--task", "classic/CartPole-v1", "--agent", f"{module}:Boom", "--seeds", "0", "--episodes", "1")
    plain = gymarena(*args, db=sqlite_url)
    _one_line_error(plain, f"boom (at {module}:9 in helper)")
    debugged = gymarena("--debug", *args, db=sqlite_url)
    assert debugged.returncode == 1 and f'File "{module}", line 9, in helper' in debugged.stderr
    assert debugged.stderr.strip().splitlines()[-1].startswith("error:")


def test_a_suite_file_that_is_not_utf8_is_one_line(sqlite_url, tmp_path):
    suite = tmp_path / "latin1.toml"
    suite.write_bytes('name = "x"\nversion = 1\n# caf\xe9\nseeds = [0]\n[[tasks]]\nid = "classic/CartPole-v1"\n'.encode("latin-1"))
    _one_line_error(gymarena("eval", "--suite", str(suite), db=sqlite_url), "not UTF-8 text")


def test_ctrl_c_while_recording_a_dataset_says_nothing_was_written(tmp_path):
    pytest.importorskip("minari")
    process = subprocess.Popen([sys.executable, "-m", "gymarena", "dataset", "record", "--task", "classic/CartPole-v1",
                                "--agent", agent_ref("SlowRandom"), "--episodes", "1000", "--id", "cartpole/slow-v0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "MINARI_DATASETS_PATH": str(tmp_path / "datasets"),
                                    "GYMARENA_TEST_AGENT_SLEEP": "0.05"})
    time.sleep(12)  # well into the 50 s of play, past the imports even on a busy machine
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted: nothing was written" in stderr, stderr
    assert not (tmp_path / "datasets" / "cartpole" / "slow-v0").exists()


# -- deadlines of local agents (item 8) -----------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_an_agent_that_hangs_in_act_fails_the_run_naming_its_step(sqlite_url, workers):
    result = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "3", "--episodes", "3", "--workers", str(workers),
                      "--agent", agent_ref("HangsInAct"), "--step-seconds", "1", db=sqlite_url)
    # The agent hangs in the second episode *it* plays; with two workers that is episode 1 or
    # episode 2 of the seed, whichever worker gets there first.
    episodes = ["episode 1"] if workers == 1 else ["episode 1", "episode 2"]
    _one_line_error(result, "did not answer within --step-seconds 1 on classic/CartPole-v1 (seed 3, ")
    assert any(f"{episode}, step 3)" in result.stderr for episode in episodes), result.stderr
    assert [status for _, status, _ in _runs(sqlite_url)] == ["failed"]


def test_an_episode_deadline_fails_the_run_naming_its_episode(sqlite_url):
    result = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "2",
                      "--agent", agent_ref("HangsInAct"), "--step-seconds", "0", "--episode-seconds", "1.5", db=sqlite_url)
    _one_line_error(result, "an episode of classic/CartPole-v1 (seed 0, episode 1, step 3) took longer than --episode-seconds 1.5")


def test_ctrl_c_names_the_run_to_resume_only_when_one_was_kept(sqlite_url):
    """Interrupted at once, nothing was stored and the run was deleted: no --resume hint for it."""
    command = [sys.executable, "-m", "gymarena", "eval", "--task", "classic/CartPole-v1", "--seeds", "0-1", "--episodes", "50",
               "--agent", agent_ref("SlowRandom"), "--db", sqlite_url]
    for sleep, kept in (("30", False), ("0.05", True)):
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "GYMARENA_TEST_AGENT_SLEEP": sleep})
        with ResultsStore(sqlite_url) as store:
            eventually = time.monotonic() + 120
            while not (store.list_runs() and (not kept or store.list_runs()[-1].episode_count > 0)):
                assert time.monotonic() < eventually
                time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        if kept:
            (run,) = _runs(sqlite_url)
            assert f"--resume {run[0]}" in stderr and run[1] == "interrupted"
        else:
            assert "nothing was kept" in stderr and "--resume" not in stderr and _runs(sqlite_url) == []


# -- rough edges a new user hit (item 9) -----------------------------------------------------

def test_a_mistyped_task_leaves_no_database_behind(tmp_path):
    database = tmp_path / "results.sqlite"
    _one_line_error(gymarena("eval", "--task", "classic/CartPol-v1", db=str(database)), "did you mean 'classic/CartPole-v1'")
    assert not database.exists()


def test_the_unknown_suite_error_names_each_suite_once():
    result = gymarena("eval", "--suite", "quikstart")
    _one_line_error(result, "did you mean 'quickstart'?")
    known = result.stderr.split("(known: ")[1].split(";")[0].split(", ")
    assert len(known) == len(set(known)) and "metaworld-mt10" in known


def test_cav_compare_without_runs_is_one_line_and_cav_test_names_its_database(sqlite_url):
    _one_line_error(gymarena("cav", "compare", db=sqlite_url), "give two testing runs to compare")
    tested = gymarena("cav", "test", "--tests", "64", "--batch-size", "64", db=sqlite_url)
    assert tested.returncode == 0 and "results database: sqlite:///" in tested.stderr, tested.stderr


def test_third_party_noise_is_not_printed(tmp_path):
    """Meta-World's scripted policies warned "Constant(s) may be too high" at every clipped action."""
    result = gymarena("eval", "--task", "metaworld/MT10-door-open-v3", "--agent", "scripted", "--seeds", "0", "--episodes", "1",
                      db=str(tmp_path / "r.sqlite"))
    assert result.returncode == 0 and "Constant(s)" not in result.stderr, result.stderr
