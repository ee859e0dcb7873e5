"""`gymarena dataset record`: Minari datasets played as gymarena eval plays, with their origin."""

from __future__ import annotations

import json
import sys
import types

import pytest

pytest.importorskip("minari")

from gymarena.datasets import load_transitions
from gymarena.errors import GymarenaError
from gymarena.recording import record_dataset
from gymarena.runner import EvalRequest, evaluate


@pytest.fixture(autouse=True)
def minari_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))


def test_a_recorded_dataset_holds_the_episodes_eval_plays_and_says_where_they_come_from(store):
    dataset = record_dataset("classic/CartPole-v1", "random", "cartpole/random-v0", (0, 1), 3, say=lambda _: None)
    result = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), seeds=(0, 1), episodes=3), store)
    evaluated = sorted(store.episodes(result.run.id), key=lambda r: (r.seed, r.episode))
    recorded = list(dataset.iterate_episodes())
    assert [float(e.rewards.sum()) for e in recorded] == pytest.approx([r.episode_return for r in evaluated])
    assert [len(e.actions) for e in recorded] == [r.length for r in evaluated]
    metadata = dataset.storage.metadata
    assert metadata["gymarena_protocol_hash"] == result.run.protocol.tasks[0].hash
    assert json.loads(metadata["gymarena_seeds"]) == [0, 1]
    assert json.loads(metadata["gymarena_agent"])["reference"] == "random"
    assert "python" in json.loads(metadata["gymarena_provenance"])
    assert load_transitions("cartpole/random-v0").observations.shape[0] == sum(r.length for r in evaluated)


def test_recording_refuses_what_it_cannot_do():
    record_dataset("classic/CartPole-v1", "random", "cartpole/random-v0", (0,), 1, say=lambda _: None)
    with pytest.raises(GymarenaError, match="a dataset 'cartpole/random-v0' exists already"):
        record_dataset("classic/CartPole-v1", "random", "cartpole/random-v0", (0,), 1, say=lambda _: None)
    with pytest.raises(GymarenaError, match="not a plain single-agent task"):
        record_dataset("social/Impostor-5p1i-v0", "random", "social/random-v0", (0,), 1, say=lambda _: None)


def test_minigrid_episodes_are_recorded_as_the_policy_view_while_the_agent_sees_the_whole_observation(monkeypatch):
    seen = []

    class Watching:
        def __init__(self, task, observation_space, action_space):
            self.action_space = action_space

        def reset(self, seed=None):
            self.action_space.seed(seed)

        def act(self, observation):
            seen.append(observation)
            return self.action_space.sample()

    module = types.ModuleType("watching_agent")
    module.Watching = Watching
    monkeypatch.setitem(sys.modules, "watching_agent", module)
    dataset = record_dataset("minigrid/Empty-8x8-v0", "watching_agent:Watching", "empty/watching-v0", (0,), 1, say=lambda _: None)
    assert "mission" in seen[0]  # the agent got the dict
    episode = next(dataset.iterate_episodes())
    assert episode.observations.shape == (len(seen) + 1, 147)
    assert (episode.observations[0] == seen[0]["image"].reshape(-1)).all()
    assert "image" in dataset.storage.metadata["gymarena_observation"]
