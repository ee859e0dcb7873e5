"""`gymarena report`: files a reader can use, numbers that match the metrics, clear exclusions."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import agent_ref
from scipy import stats
from typer.testing import CliRunner

from gymarena.cli import app
from gymarena.reports import write_report
from gymarena.runner import EvalRequest, evaluate

TASKS = ("classic/CartPole-v1", "minigrid/DoorKey-5x5-v0")


@pytest.fixture
def two_runs(store):
    random = evaluate(EvalRequest(tasks=TASKS, seeds=(0, 1, 2, 3), episodes=2), store)
    first_action = evaluate(EvalRequest(tasks=TASKS, seeds=(0, 1, 2, 3), episodes=2, agent=agent_ref("FirstActionAgent")), store)
    return random.run.id, first_action.run.id


def _rows(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_report_writes_tables_and_labelled_figures(store, two_runs, tmp_path):
    report = write_report(store, two_runs, tmp_path / "out", reps=2000)
    names = {p.name for p in report.files}
    for stem in ("aggregates", "performance_profile", "probability_of_improvement"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
        assert (tmp_path / "out" / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"report.md", "tasks.csv", "aggregates.csv"} <= names
    svg = (tmp_path / "out" / "aggregates.svg").read_text()
    assert "stratified-bootstrap" in svg and "normalised score (0 = random, 1 = reference)" in svg
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "## Aggregate performance" in markdown and "![Performance profile](performance_profile.png)" in markdown
    assert len(_rows(tmp_path / "out" / "tasks.csv")) == 4  # 2 runs x 2 tasks


def test_aggregates_are_the_metrics_of_per_seed_normalised_scores(store, two_runs, tmp_path):
    write_report(store, two_runs, tmp_path, reps=2000)
    rows = {(r["run"], r["metric"]): r for r in _rows(tmp_path / "aggregates.csv")}
    run = store.get_run(two_runs[0])
    columns = []
    for task in run.protocol:
        refs = task.spec.scores
        episodes = [r for r in store.episodes(run.id) if r.task_id == task.task_id]
        per_seed = [np.mean([e.episode_return for e in episodes if e.seed == s]) for s in (0, 1, 2, 3)]
        columns.append((np.array(per_seed) - refs.random) / (refs.reference - refs.random))
    matrix = np.column_stack(columns)
    assert float(rows[(str(run.id), "iqm")]["point"]) == pytest.approx(stats.trim_mean(matrix, 0.25, axis=None))
    assert float(rows[(str(run.id), "mean")]["point"]) == pytest.approx(matrix.mean())
    for metric in ("iqm", "mean", "median", "optimality_gap"):
        row = rows[(str(run.id), metric)]
        assert float(row["ci_low"]) <= float(row["point"]) <= float(row["ci_high"])


def test_the_same_runs_give_the_same_report(store, two_runs, tmp_path):
    write_report(store, two_runs, tmp_path / "a", reps=2000)
    write_report(store, two_runs, tmp_path / "b", reps=2000)
    assert (tmp_path / "a" / "aggregates.csv").read_text() == (tmp_path / "b" / "aggregates.csv").read_text()


def test_tasks_under_other_protocols_are_left_out_with_the_reason(store, tmp_path):
    one = evaluate(EvalRequest(tasks=TASKS, seeds=(0, 1), episodes=2), store)
    other = evaluate(EvalRequest(tasks=(TASKS[0],), seeds=(5, 6), episodes=2), store)
    report = write_report(store, [one.run.id, other.run.id], tmp_path, reps=500)
    assert report.comparison.tasks == []
    assert "protocols differ" in report.comparison.excluded["classic/CartPole-v1"]
    assert "not evaluated by run" in report.comparison.excluded["minigrid/DoorKey-5x5-v0"]
    assert "## Tasks left out of the aggregates" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "aggregates.png").exists()
    # item 3: runs that share nothing still get a figure: every run's per-task scores
    assert (tmp_path / "task_scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "task_scores.svg").read_text()
    assert all(task in svg for task in TASKS) and "interval over seeds" in svg
    assert "![Per-task scores](task_scores.png)" in (tmp_path / "report.md").read_text()


def test_report_of_a_sweep_draws_the_fas_curves(store, tmp_path):
    suite = tmp_path / "sweep.toml"
    suite.write_text(
        'name = "sweep"\nversion = 1\nseeds = [0]\nepisodes = 1\ndecision_intervals = [1, 2, 4]\n'
        '[[tasks]]\nid = "classic/Pendulum-v1"\nfas = { r_max = 1350, offset = 1550, source = "test" }\n'
    )
    run = evaluate(EvalRequest(suite=str(suite)), store)
    report = write_report(store, [run.run.id], tmp_path / "out", reps=500)
    assert {"fas_curves.png", "fas_curves.svg"} <= {p.name for p in report.files}
    assert "| classic/Pendulum-v1 | run" in (tmp_path / "out" / "report.md").read_text()


def test_report_cli_lists_files_and_refuses_unknown_runs(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "--task", TASKS[0], "--seeds", "0-2", "--episodes", "2", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["report", "1", "--out", str(tmp_path / "rep"), "--reps", "500", "--db", db])
    assert result.exit_code == 0, result.output
    assert "report.md" in result.output and (tmp_path / "rep" / "aggregates.png").exists()
    missing = runner.invoke(app, ["report", "7", "--out", str(tmp_path / "rep"), "--db", db])
    assert missing.exit_code == 1 and "there is no run 7" in missing.output
