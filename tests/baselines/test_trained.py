"""Trained baselines: recipes train to checkpoints that evaluate as agents, with identities."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from gymarena.agents import load_agent
from gymarena.baselines.algorithms import get_recipe, recipes
from gymarena.baselines.catalog import train_recipes
from gymarena.baselines.observations import policy_view
from gymarena.baselines.training import TRAINING_FILE, ActionRepeat
from gymarena.errors import AgentLoadError, GymarenaError
from gymarena.runner import EvalRequest, evaluate
from gymarena.tasks import get_task


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("GYMARENA_BASELINES", str(tmp_path / "baselines"))
    return tmp_path / "baselines"


def quiet(_: str) -> None:
    pass


def test_every_recipe_names_a_known_task_and_states_its_budget_and_wall_time():
    for recipe in recipes().values():
        get_task(recipe.task)
        assert recipe.budget > 0 and recipe.unit in ("steps", "games")
        assert recipe.unit in recipe.about and ("min" in recipe.about or " s " in recipe.about), recipe.name


def test_a_trained_checkpoint_evaluates_as_a_file_and_as_the_algorithms_agent(root, store):
    [checkpoint] = train_recipes(["ppo-cartpole"], False, (3,), 512, None, say=quiet)
    assert checkpoint == root / "ppo-cartpole" / "seed3" / "model.zip"
    record = json.loads((checkpoint.parent / TRAINING_FILE).read_text())
    assert record["total_steps"] == 512 and record["seed"] == 3 and record["wall_seconds"] >= 0
    assert record["args"]["n_steps"] == 32 and "python" in record["provenance"]

    by_file = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), agent=str(checkpoint), seeds=(0, 1), episodes=2), store)
    by_recipe = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), agent="gymarena.baselines.trained:ppo_seed3",
                                     seeds=(0, 1), episodes=2), store)
    returns = [[r.episode_return for r in store.episodes(result.run.id)] for result in (by_file, by_recipe)]
    assert returns[0] == returns[1]  # the same greedy policy
    assert record["greedy_return"] != 0


def test_a_retrained_checkpoint_is_a_different_agent(root):
    train_recipes(["ppo-cartpole"], False, (0,), 256, None, say=quiet)
    first = load_agent("gymarena.baselines.trained:ppo").content_hash
    assert load_agent("gymarena.baselines.trained:ppo").content_hash == first
    train_recipes(["ppo-cartpole"], False, (0,), 512, None, say=quiet)
    assert load_agent("gymarena.baselines.trained:ppo").content_hash != first


def test_minigrid_policies_see_the_flattened_image_and_a_text_only_space_is_refused():
    space = gym.spaces.Dict({"image": gym.spaces.Box(0, 255, (7, 7, 3), np.uint8), "direction": gym.spaces.Discrete(4)})
    view = policy_view(space)
    assert view.space.shape == (147,)
    observation = {"image": np.arange(147, dtype=np.uint8).reshape(7, 7, 3), "direction": 2}
    assert np.array_equal(view.transform(observation), np.arange(147))
    with pytest.raises(GymarenaError, match="observes"):
        policy_view(gym.spaces.Dict({"mission": gym.spaces.Text(10)}))


def test_a_minigrid_recipe_trains_and_plays_from_the_dict_observation(root, store):
    train_recipes(["ppo-minigrid-empty"], False, (0,), 256, None, say=quiet)
    result = evaluate(EvalRequest(tasks=("minigrid/Empty-8x8-v0",), agent="gymarena.baselines.trained:ppo",
                                  seeds=(0,), episodes=1), store)
    assert result.run.status == "complete"


def outcomes(store, run_id):
    return sorted((r.task_id, r.seed, r.episode, sorted(r.outcome_fields().items())) for r in store.episodes(run_id))


@pytest.mark.parametrize("device", [None, "cpu", "auto"])
def test_checkpoints_predict_in_batches_with_the_records_of_unbatched_play(root, store, device):
    train_recipes(["ppo-cartpole", "ppo-minigrid-empty"], False, (0,), 256, None, say=quiet)
    request = {"tasks": ("classic/CartPole-v1", "minigrid/Empty-8x8-v0"), "agent": "gymarena.baselines.trained:ppo",
               "seeds": (0, 1), "episodes": 3, "fresh": True}
    one = evaluate(EvalRequest(**request), store)
    batched = evaluate(EvalRequest(**request, batch=4, device=device), store)
    assert outcomes(store, batched.run.id) == outcomes(store, one.run.id)
    [checkpoint] = train_recipes(["ppo-cartpole"], False, (1,), 256, None, say=quiet)
    by_file = evaluate(EvalRequest(**(request | {"tasks": ("classic/CartPole-v1",), "agent": str(checkpoint)}),
                                   batch=3, device=device), store)
    assert by_file.run.status == "complete"


@pytest.mark.skipif(not __import__("gymarena.devices").devices.cuda_available(), reason="needs a CUDA device")
def test_checkpoints_play_on_a_cuda_device(root, store):
    train_recipes(["ppo-cartpole"], False, (0,), 256, None, say=quiet)
    result = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), agent="gymarena.baselines.trained:ppo", seeds=(0,),
                                  episodes=4, batch=4, device="cuda"), store)
    assert result.run.status == "complete"
    assert store.get_run(result.run.id).provenance["evaluation"]["device"] == "cuda"


def test_clear_errors_for_missing_checkpoints_wrong_tasks_and_bad_requests(root, tmp_path, store):
    with pytest.raises(AgentLoadError, match="train it with `gymarena baselines train ppo-cartpole --seeds 1`"):
        load_agent("gymarena.baselines.trained:ppo_seed1").make(get_task("classic/CartPole-v1"), None, None)
    with pytest.raises(AgentLoadError, match="no ppo recipe for classic/Pendulum-v1"):
        load_agent("gymarena.baselines.trained:ppo").make(get_task("classic/Pendulum-v1"), None, None)
    [checkpoint] = train_recipes(["ppo-cartpole"], False, (0,), 256, None, say=quiet)
    agent = load_agent(str(checkpoint))
    with pytest.raises(AgentLoadError, match="was trained on observations"):
        agent.make(get_task("mujoco/Hopper-v5"), gym.spaces.Box(-1, 1, (11,)), gym.spaces.Box(-1, 1, (3,)))
    with pytest.raises(AgentLoadError, match="does not exist"):
        load_agent(str(tmp_path / "nothing.zip"))
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(AgentLoadError, match="not a Stable-Baselines3 checkpoint"):
        load_agent(str(tmp_path / "junk.zip"))
    with pytest.raises(GymarenaError, match="name the recipes to train, or give all_recipes"):
        train_recipes([], False, (0,), None, None, say=quiet)
    with pytest.raises(GymarenaError, match="no baseline recipe 'ppo-pong'"):
        get_recipe("ppo-pong")


class SixSteps(gym.Env):
    """Reward 1 per step, terminated after the sixth."""

    observation_space = gym.spaces.Discrete(7)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.t = 0
        return 0, {}

    def step(self, action):
        self.t += 1
        return self.t, 1.0, self.t == 6, False, {}


def test_action_repeat_sums_rewards_and_stops_at_the_end_of_the_episode():
    env = ActionRepeat(SixSteps(), 4)
    env.reset(seed=0)
    assert env.step(0)[:3] == (4, 4.0, False)
    assert env.step(0)[:3] == (6, 2.0, True)


def test_baseline_runs_export_and_publish_once_into_a_fresh_database(root, tmp_path, store, sqlite_url):
    from gymarena.baselines.publish import evaluate_baselines, publish
    from gymarena.leaderboard.ranking import leaderboard
    from gymarena.results import open_store

    train_recipes(["ppo-cartpole", "ppo-minigrid-doorkey"], False, (0,), 256, None, say=quiet)
    said = []
    [run_id] = evaluate_baselines(store, ["ppo"], (0,), tmp_path / "published", say=said.append)
    assert store.get_run(run_id).suite == "quickstart@1"  # PPO has a recipe for each of its tasks
    assert any("skipped ppo_seed0 on minigrid/Empty-8x8-v0: no checkpoint of ppo-minigrid-empty" in line for line in said)
    [document] = (tmp_path / "published").iterdir()
    assert document.name == "ppo-seed0-quickstart.json.gz"

    with open_store(sqlite_url.replace(".db", "-fresh.db")) as fresh:
        [published] = publish(fresh, tmp_path / "published", say=quiet)
        assert publish(fresh, tmp_path / "published", say=quiet) == [published]  # not stored twice
        run = fresh.get_run(published)
        original = store.get_run(run_id)
        assert run.status == "complete" and run.kind == "imported" and run.protocol_hash == original.protocol_hash
        assert run.agent.content_hash == original.agent.content_hash
        assert [r.episode_return for r in fresh.episodes(published)] == [r.episode_return for r in store.episodes(run_id)]
        assert run.algorithm == original.algorithm and run.algorithm.name == "PPO"  # the document names it
        ranking = leaderboard(fresh, "quickstart", reps=200)
        assert [(entry.agent, entry.runs) for entry in ranking.entries] == [("PPO", 1)]


def test_the_published_baseline_runs_load_into_a_fresh_database_and_rank_on_quickstart(sqlite_url):
    from gymarena.baselines import crew
    from gymarena.baselines.algorithms import ALGORITHM_MODULES, baseline_algorithm
    from gymarena.baselines.publish import (
        BOARD_REFERENCES,
        PUBLISHED_DIR,
        board_document_name,
        document_name,
        evaluation_requests,
        publish,
    )
    from gymarena.leaderboard.algorithms import algorithms_page
    from gymarena.leaderboard.ranking import leaderboard
    from gymarena.leaderboard.social import social_board
    from gymarena.results import open_store

    documents = sorted(PUBLISHED_DIR.glob("*.json.gz"))
    expected = {document_name(request) for algorithm in ALGORITHM_MODULES for seed in range(3)
                for request in evaluation_requests(algorithm, seed)}
    expected |= {board_document_name(suite, reference) for suite, references in BOARD_REFERENCES.items()
                 for reference in references}
    assert {d.name for d in documents} == expected  # every recipe, 3 training seeds, published
    with open_store(sqlite_url) as store:
        run_ids = publish(store, say=quiet)
        assert len(set(run_ids)) == len(documents)
        runs = [store.get_run(run_id) for run_id in run_ids]
        assert all(run.status == "complete" and run.episode_count > 0 for run in runs)
        # each training seed's checkpoint is one training run of its algorithm, as the recipes are today
        for algorithm in ("ppo", "dqn", "sac"):
            assert {run.algorithm for run in runs if run.agent.name.startswith(algorithm)} == {baseline_algorithm(algorithm)}
        for recipe in crew.RECIPES:  # and each crew recipe's, of its condition
            agent = recipe.name.replace("-", "_")
            assert {run.algorithm for run in runs if run.agent.name.startswith(agent)} == {crew.identity(recipe)}
        # the social boards' reference players, ranked there out of the box, and the trained crews beside them
        social = social_board(store, "social-core@1", reps=50)
        assert {e.pool_member for e in social.entries} == {"scripted", "scripted-deaf", "random", None}
        assert {e.agent for e in social.entries if e.pool_member is None} == {
            f"{recipe.name.replace('-', '_')}_seed{seed}" for recipe in crew.RECIPES for seed in range(3)}
        second = social_board(store, "social-core@2", reps=50)
        assert {e.pool_member for e in second.entries} == {"scripted", "scripted-deaf", "random", "hunter", "crew-win",
                                                           "crew-speaking", None}
        # an algorithm entry each, over its three training runs wherever they were evaluated
        algorithms = algorithms_page(store, reps=200)["algorithms"]
        assert [a["name"] for a in algorithms] == ["CREW-PPO-LISTENING", "CREW-PPO-SPEAKING", "CREW-PPO-WIN", "DQN",
                                                   "PPO", "SAC"]
        assert all(subject["runs"] == 3 for a in algorithms for subject in a["subjects"])
        sac = {subject["subject"]: subject for subject in algorithms[-1]["subjects"]}
        assert set(sac) == {"mujoco/Hopper-v5", "mujoco/InvertedPendulum-v5"}
        hopper = sac["mujoco/Hopper-v5"]["iqm"]
        assert hopper["low"] <= hopper["point"] <= hopper["high"]  # a CI over the three runs
        ranking = leaderboard(store, "quickstart", reps=200)
        # ranked when this machine's simulator versions are the publisher's, listed apart (with the difference) if not
        if ranking.entries:
            assert sorted((e.agent, e.runs, e.unit) for e in ranking.entries) == [
                ("DQN", 3, "runs"), ("PPO", 3, "runs")]
        else:
            agents = {a for group in ranking.apart for a in group.agents}
            assert {f"{algorithm}_seed{seed}" for algorithm in ("ppo", "dqn") for seed in range(3)} <= agents


def test_training_says_how_far_it_is_and_runs_torch_on_one_thread_by_default(root, monkeypatch):
    import torch

    from gymarena.baselines import training

    monkeypatch.setattr(training, "PROGRESS_SECONDS", 0.0)  # a line at every step
    monkeypatch.delenv(training.TORCH_THREADS_ENV, raising=False)
    lines: list[str] = []
    train_recipes(["ppo-cartpole"], False, (0,), 512, None, say=lines.append)
    assert lines[0] == "ppo-cartpole seed 0: training 512 steps on 1 torch thread(s)" and torch.get_num_threads() == 1
    progress = [line for line in lines if "/512 steps" in line]
    assert progress and "about" in progress[-1] and "s left" in progress[-1]
    assert any("mean return" in line for line in progress)  # CartPole episodes end within 512 steps
