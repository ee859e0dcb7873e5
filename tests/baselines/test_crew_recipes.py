"""The crew recipes: `gymarena baselines train` trains them on a tiny budget, their
checkpoints play as `gymarena.baselines.trained:social_...` agents, the ablation bench
trains the same checkpoints, and `gymarena baselines evaluate` plays them on the social
boards."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from gymarena.agents import load_agent
from gymarena.baselines.catalog import train_recipes
from gymarena.cli import app as cli
from gymarena.errors import AgentLoadError
from gymarena.results import open_store
from gymarena.runner import EvalRequest, evaluate
from gymarena.tasks import get_task

TASK = "social/Impostor-5p1i-v0"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "social.py"
quiet = lambda line: None  # noqa: E731


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty checkpoint root, and no shipped checkpoints (these tests train their own)."""
    from gymarena.baselines import training

    monkeypatch.setenv("GYMARENA_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.setattr(training, "SHIPPED_ROOT", tmp_path / "nothing-shipped")
    return tmp_path / "baselines"


def test_a_crew_recipe_trains_from_the_cli_and_plays_as_its_agent(root, sqlite_url):
    runner = CliRunner()
    trained = runner.invoke(cli, ["baselines", "train", "social-speaking", "--seeds", "2", "--steps", "32", "--json"])
    assert trained.exit_code == 0, trained.output
    checkpoint = root / "social-speaking" / "seed2" / "policy.pt"
    assert json.loads(trained.stdout)["checkpoints"] == [str(checkpoint)]
    record = json.loads((checkpoint.parent / "training.json").read_text())
    assert record["games"] == 32 and record["args"]["condition"] == "speaking" and record["seed"] == 2
    assert 0 <= record["crew_win"] <= 1 and record["score"] == record["crew_win"] and "python" in record["provenance"]
    listed = {row["recipe"]: row for row in json.loads(runner.invoke(cli, ["baselines", "list", "--json"]).stdout)}
    assert listed["social-speaking"]["checkpoints"] == "2" and listed["social-speaking"]["budget"] == "20,000 games"
    assert listed["ppo-cartpole"]["budget"] == "100,000 steps" and listed["social-win"]["checkpoints"] == "-"

    request = EvalRequest(tasks=(TASK,), agent="gymarena.baselines.trained:social_speaking_seed2", seeds=(0, 1),
                          episodes=2, fresh=True)
    with open_store(sqlite_url) as store:
        runs = [evaluate(request, store).run for _ in range(2)]
        games = [[(r.seed, r.episode, r.agent_returns, r.length) for r in store.episodes(run.id)]
                 for run in runs]
    assert all(run.status == "complete" for run in runs) and len(games[0]) == 4
    assert games[0] == games[1]  # the sampled policy's draws come from the episode seeds


def test_a_retrained_crew_is_another_agent_and_a_missing_one_says_how_to_train_it(root):
    missing = load_agent("gymarena.baselines.trained:social_win_seed5")
    with pytest.raises(AgentLoadError, match="gymarena baselines train social-win --seeds 5"):
        missing.factory(get_task(TASK), None, None)
    train_recipes(["social-win"], False, (5,), 32, None, say=quiet)
    first = load_agent("gymarena.baselines.trained:social_win_seed5").content_hash
    assert load_agent("gymarena.baselines.trained:social_win_seed5").content_hash == first
    train_recipes(["social-win"], False, (5,), 64, None, say=quiet)
    assert load_agent("gymarena.baselines.trained:social_win_seed5").content_hash != first


def test_the_ablation_bench_trains_the_recipes_own_checkpoints(root, tmp_path):
    spec = importlib.util.spec_from_file_location("social_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    _, metrics = bench.train_and_evaluate("listening", 1, 32, [10**6], tmp_path / "bench")
    assert len(metrics) == 2  # one held-out game against each impostor
    [by_recipe] = train_recipes(["social-listening"], False, (1,), 32, None, say=quiet)
    by_bench = tmp_path / "bench" / "social-listening" / "seed1" / "policy.pt"
    states = [torch.load(path, weights_only=True) for path in (by_bench, by_recipe)]
    assert states[0]["args"] == states[1]["args"]
    assert all(torch.equal(states[0]["state"][k], states[1]["state"][k]) for k in states[0]["state"])


def test_crew_checkpoints_are_evaluated_and_published_on_the_social_boards(root, sqlite_url, tmp_path):
    from gymarena.baselines.algorithms import get_recipe
    from gymarena.baselines.crew import identity
    from gymarena.baselines.publish import evaluate_baselines
    from gymarena.leaderboard.social import social_board

    train_recipes(["social-win"], False, (0,), 32, None, say=quiet)
    said: list[str] = []
    with open_store(sqlite_url) as store:
        run_ids = evaluate_baselines(store, ["crew"], [0], tmp_path / "export", say=said.append)
        assert len(run_ids) == 2  # social-win on both boards; the untrained recipes are skipped
        assert any("skipped social_speaking_seed0 on social-core@2: no checkpoint of social-speaking" in line
                   for line in said)
        runs = [store.get_run(run_id) for run_id in run_ids]
        assert {run.suite for run in runs} == {"social-core@1", "social-core@2"}
        assert all(run.status == "complete" and run.algorithm == identity(get_recipe("social-win")) for run in runs)
        board = social_board(store, "social-core@2", reps=20)
        assert [e.agent for e in board.entries] == ["social_win_seed0"]
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == [
        "social-win-seed0-social-core-1.json.gz", "social-win-seed0-social-core-2.json.gz"]
