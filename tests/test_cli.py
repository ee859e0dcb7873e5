"""The gymarena command, run as a user runs it: real subprocesses, exit codes, output."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import agent_ref
from typer.main import get_command

from gymarena.cli import app
from gymarena.results import ResultsStore


def gymarena(*args: str, db: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gymarena", *args] + (["--db", db] if db else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def _leaf_commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            assert command.help, name
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_has_help_text():
    commands = dict(_leaf_commands(get_command(app)))
    assert set(commands) == {
        ("list",), ("eval",), ("results",), ("dataset", "stats"), ("dataset", "record"), ("dataset", "make-suite"),
        ("baselines", "list"), ("baselines", "train"), ("baselines", "evaluate"), ("baselines", "publish"), ("report",), ("leaderboard",), ("serve",),
        ("admin", "create-token"), ("admin", "revoke-token"), ("admin", "rotate-seeds"), ("admin", "hide-run"),
        ("admin", "unhide-run"), ("runs", "delete"), ("runs", "prune"), ("submit", "results"),
        ("submit", "agent"), ("worker",), ("install",), ("cav", "test"), ("cav", "compare"), ("cav", "replay"), ("check",),
    }
    for path, command in commands.items():
        assert command.help and len(command.help) > 20, path
        for parameter in command.params:
            assert parameter.help, f"{path} {parameter.name}"
        result = gymarena(*path, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


# Commands that only act (start a server, build a runtime, revoke a token, hide a run) show no data.
WITHOUT_DATA = {("serve",), ("install",), ("admin", "revoke-token"), ("admin", "hide-run"), ("admin", "unhide-run"),
                ("runs", "delete"), ("runs", "prune")}
TABULAR = {("list",), ("eval",), ("results",), ("leaderboard",), ("dataset", "make-suite"), ("dataset", "stats"),
           ("baselines", "list"), ("check",)}


def test_every_command_that_shows_data_takes_the_shared_output_options():
    commands = dict(_leaf_commands(get_command(app)))
    helps = {}
    for path, command in commands.items():
        options = {option for parameter in command.params for option in parameter.opts}
        flags = {p.opts[0]: p.help for p in command.params if p.opts[0] in ("--json", "--csv")}
        helps.update({(flag, path): text for flag, text in flags.items()})
        assert ("--json" in options) == (path not in WITHOUT_DATA), path
        assert ("--csv" in options) == (path in TABULAR), path
    for flag in ("--json", "--csv"):  # one definition: one help text everywhere
        assert len({text for (f, _), text in helps.items() if f == flag}) == 1


def test_json_and_csv_output_parse(sqlite_url):
    from typer.testing import CliRunner

    runner = CliRunner()
    evaluated = runner.invoke(app, ["eval", "--task", "classic/CartPole-v1", "--seeds", "0-1", "--episodes", "2", "--csv",
                                    "--db", sqlite_url])
    assert evaluated.exit_code == 0, evaluated.output
    (row, *_) = csv.DictReader(io.StringIO(evaluated.stdout))
    assert row["task"] == "classic/CartPole-v1" and row["seeds"] == "2"
    for args in (["results", "--json"], ["results", "--run", "1", "--json"], ["list", "--json"], ["baselines", "list", "--json"],
                 ["leaderboard", "--suite", "quickstart", "--json", "--reps", "100"]):
        result = runner.invoke(app, [*args, *([] if args[0] == "baselines" else ["--db", sqlite_url])])
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)
    both = runner.invoke(app, ["results", "--json", "--csv", "--db", sqlite_url])
    assert both.exit_code == 2 and "choose one of --json and --csv" in both.output


def test_list_shows_tasks_suites_and_install_hints():
    result = gymarena("list", "--json")
    assert result.returncode == 0
    listing = json.loads(result.stdout)
    ids = {t["id"] for t in listing["tasks"]}
    assert {"classic/CartPole-v1", "minigrid/DoorKey-8x8-v0", "mujoco/Walker2d-v5"} <= ids
    assert {"quickstart@1", "minigrid-core@1", "mujoco-core@1"} <= {s["suite"] for s in listing["suites"]}


def _without_mujoco(*args: str, columns: int = 80) -> subprocess.CompletedProcess:
    """Run the CLI in a process where the mujoco module cannot be found."""
    code = (
        "import importlib.util, sys;"
        "find = importlib.util.find_spec;"
        "importlib.util.find_spec = lambda name, *a: None if name == 'mujoco' else find(name, *a);"
        "from gymarena.cli import app; app(sys.argv[1:])"
    )
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env)


def test_list_names_the_extra_of_a_missing_simulator():
    result = _without_mujoco("list", "--csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["mujoco/Ant-v5"]["available"] == "False"
    assert rows["mujoco/Ant-v5"]["reason"] == "needs mujoco: pip install 'gymarena[mujoco]'"
    assert rows["classic/CartPole-v1"]["available"] == "True"
    table = _without_mujoco("list", columns=250).stdout
    assert "needs mujoco: pip install 'gymarena[mujoco]'" in table  # brackets are not markup


def test_eval_of_a_missing_simulator_names_the_extra(sqlite_url):
    result = _without_mujoco("eval", "--task", "mujoco/Hopper-v5", "--db", sqlite_url)
    assert result.returncode == 1
    assert "install it with: pip install 'gymarena[mujoco]'" in result.stderr


def test_eval_then_results_json_round_trips_the_numbers(sqlite_url):
    evaluated = gymarena("eval", "--suite", "quickstart", "--agent", "random", "--seeds", "0-1", "--episodes", "3", "--json", db=sqlite_url)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "results database: sqlite:///" in evaluated.stderr
    run = json.loads(evaluated.stdout)
    assert run["status"] == "complete" and len(run["episodes"]) == 12
    stored = json.loads(gymarena("results", "--json", db=sqlite_url).stdout)
    (again,) = stored["runs"]
    assert again["episodes"] == run["episodes"]
    assert again["scores"] == run["scores"]
    mean = sum(e["episode_return"] for e in run["episodes"] if e["task_id"] == "classic/CartPole-v1") / 6
    assert again["scores"][0]["mean_return"]["point"] == pytest.approx(mean)  # equal quotas: the episodes' mean
    table = gymarena("results", "--run", str(run["id"]), db=sqlite_url)
    assert table.returncode == 0 and "classic/CartPole-v1" in table.stdout
    rows = list(csv.DictReader(io.StringIO(gymarena("results", "--csv", db=sqlite_url).stdout)))
    assert [r["task"] for r in rows] == ["classic/CartPole-v1", "minigrid/DoorKey-5x5-v0"]
    assert float(rows[0]["mean_return"]) == pytest.approx(mean)


def test_eval_and_results_on_any_database_url(db_url):
    evaluated = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0-2", "--episodes", "2", "--json", db=db_url)
    assert evaluated.returncode == 0, evaluated.stderr
    (stored,) = json.loads(gymarena("results", "--json", db=db_url).stdout)["runs"]
    assert stored["episodes"] == json.loads(evaluated.stdout)["episodes"] and len(stored["episodes"]) == 6


def test_the_readme_example_agent_with_workers(sqlite_url):
    example = Path(__file__).parent.parent / "examples" / "agents.py"
    result = gymarena(
        "eval", "--task", "minigrid/DoorKey-8x8-v0", "--agent", f"{example}:make_agent",
        "--seeds", "0-4", "--episodes", "2", "--workers", "2", "--json", db=sqlite_url,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["episodes"]) == 10 and payload["agent"]["name"] == "make_agent"


def test_the_readme_batched_example_agent_stores_the_unbatched_episodes(sqlite_url):
    example = Path(__file__).parent.parent / "examples" / "agents.py"
    runs = []
    for batch in ("1", "8"):
        result = gymarena("eval", "--task", "classic/Pendulum-v1", "--task", "classic/CartPole-v1", "--agent",
                          f"{example}:BatchedLinear", "--seeds", "0-2", "--episodes", "3", "--batch", batch,
                          "--fresh", "--json", db=sqlite_url)
        assert result.returncode == 0, result.stderr
        runs.append([(e["task_id"], e["seed"], e["episode"], e["episode_return"], e["length"])
                     for e in json.loads(result.stdout)["episodes"]])
    assert runs[0] == runs[1] and len(runs[0]) == 18


def test_batch_says_which_tasks_it_plays_one_at_a_time(sqlite_url):
    result = gymarena("eval", "--task", "social/Impostor-5p1i-v0", "--task", "classic/CartPole-v1", "--seeds", "0",
                      "--episodes", "1", "--batch", "4", db=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert "played one episode at a time despite --batch: social/Impostor-5p1i-v0 (multi-agent)" in result.stderr


def _database_state(url: str) -> list:
    with ResultsStore(url) as store:
        return [(r.id, r.status, r.episode_count) for r in store.list_runs()]


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "--task", "minigrid/DoorKy-8x8-v0"], "error: unknown task 'minigrid/DoorKy-8x8-v0'; did you mean 'minigrid/DoorKey-8x8-v0'"),
        (["eval", "--suite", "nosuchsuite"], "error: unknown suite 'nosuchsuite'"),
        (["eval", "--suite", "quickstart", "--agent", "nosuchpkg.mod:make_agent"], "error: agent module 'nosuchpkg.mod' of reference"),
        (["eval", "--suite", "quickstart", "--seeds", "5-1"], "error: seeds '5-1': the range '5-1' is empty"),
        (["eval"], "error: give either --suite NAME or one or more --task ID"),
        (["results", "--run", "999"], "error: there is no run 999"),
    ],
)
def test_bad_input_is_one_clear_line_and_leaves_the_database_alone(sqlite_url, args, message):
    gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "1", db=sqlite_url)
    before = _database_state(sqlite_url)
    result = gymarena(*args, db=sqlite_url)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in result.stderr
    assert _database_state(sqlite_url) == before


def test_malformed_suite_file(tmp_path, sqlite_url):
    suite = tmp_path / "broken.toml"
    suite.write_text('name = "b"\nversion = 1\nseeds = "0-4"\n[[tasks]]\nid = "classic/CartPole-v1"\n')
    result = gymarena("eval", "--suite", str(suite), db=sqlite_url)
    assert result.returncode == 1
    assert f"error: {suite}: key 'seeds': expected a non-empty list of non-negative integers, got '0-4'" in result.stderr


def test_agent_raising_and_invalid_action_exit_non_zero_with_the_run_marked_failed(sqlite_url):
    raised = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "4", "--agent", agent_ref("RaisesAtStep"), db=sqlite_url)
    assert raised.returncode == 1 and "policy network exploded" in raised.stderr.splitlines()[-1]
    invalid = gymarena("eval", "--task", "classic/CartPole-v1", "--seeds", "3", "--episodes", "1", "--agent", agent_ref("OutOfSpace"), db=sqlite_url)
    assert invalid.returncode == 1
    assert "(seed 3, episode 0, step 2): 7 is not in Discrete(2)" in invalid.stderr
    assert _database_state(sqlite_url) == [(1, "failed", 2)]  # the second failed before its first episode


def test_help_shows_the_extras_to_install():
    assert "pip install 'gymarena[server]'" in " ".join(gymarena("serve", "--help").stdout.split())


def test_unwritable_database_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = gymarena("eval", "--suite", "quickstart", db=str(blocker / "results.sqlite"))
    assert result.returncode == 1
    assert "error: cannot create the directory" in result.stderr and "--db" in result.stderr


def test_identical_evals_started_together_all_succeed(db_url):
    command = [sys.executable, "-m", "gymarena", "eval", "--task", "classic/CartPole-v1", "--seeds", "0", "--episodes", "2",
               "--fresh", "--db", db_url]
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=180)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    with ResultsStore(db_url) as store:
        runs = store.list_runs()
    assert len(runs) == 3 and len({r.agent for r in runs}) == 1
    assert all(r.status == "complete" and r.episode_count == 2 for r in runs)


@pytest.mark.parametrize("columns", [80, 120])
def test_tables_read_on_narrow_terminals_without_splitting_a_number(sqlite_url, columns):
    """Item 4: at 80 columns numbers were split across lines inside cells. Every line now
    fits the terminal and every cell's text stands whole on one line."""
    from gymarena.output import _cell

    assert gymarena("eval", "--suite", "quickstart", db=sqlite_url).returncode == 0
    for args in (["results", "--run", "1"], ["results"], ["leaderboard", "--suite", "quickstart", "--reps", "200"]):
        shown = gymarena(*args, db=sqlite_url, env={"COLUMNS": str(columns)}).stdout
        # its CSV holds the table's cells (`results` alone: every run's scores, another table)
        table = [] if args == ["results"] else list(csv.DictReader(io.StringIO(gymarena(*args, "--csv", db=sqlite_url).stdout)))
        assert shown and (table or args == ["results"])
        assert max(len(line) for line in shown.splitlines()) <= columns, shown
        for row in table:
            for value in row.values():
                try:
                    text = _cell(float(value)) if value and not value.isdigit() else value
                except ValueError:
                    text = value
                assert any(text in line for line in shown.splitlines()), (args, text, shown)


def test_a_library_error_names_the_field_and_the_cli_names_the_option():
    """EvalRequest is called from Python too: its errors name its fields there, options here."""
    from gymarena.errors import RunConfigError
    from gymarena.runner import EvalRequest

    with pytest.raises(RunConfigError) as caught:
        EvalRequest(suite="quickstart", workers=0)
    assert str(caught.value) == "workers must be at least 1, got 0"
    with pytest.raises(RunConfigError) as caught:
        EvalRequest()
    assert str(caught.value) == "give either suite NAME or one or more tasks ID"
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["eval", "--suite", "quickstart", "--workers", "0"])
    assert result.exit_code == 1 and "error: --workers must be at least 1, got 0" in result.output
