"""The task registry, TaskSpec rules, success rules and protocol hashes."""

from __future__ import annotations

import gymnasium
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

import gymarena
from gymarena.errors import UnknownTaskError
from gymarena.success import EpisodeOutcome, episode_succeeded
from gymarena.tasks import TASK_ID_PATTERN, TaskSpec, all_tasks, get_task

# Tasks without score references, each saying why in its catalog description.
UNSCORED = {"nethack/Gold-v0", "nethack/Eat-v0", "nethack/Gold-v1", "nethack/Eat-v1", "traffic/TwoWaySingleIntersection-v0", "social/Impostor-5p1i-v0",
            "social/Impostor-Randomized-v0", "social/Impostor-NoDiscussion-v0", "social/Impostor-7p2i-v0",
            "cav/Highway2Lane-NDE-v0", "cav/Highway2Lane-NADE-v0", "cav/Highway2Lane-Adaptive-v0",
            "cav/Highway2Lane-AdaTE-v0"}


def test_every_task_id_follows_the_grammar_and_carries_score_references():
    tasks = all_tasks()
    assert {t.family for t in tasks} >= {"classic", "minigrid", "mujoco", "metaworld", "nethack", "highway", "traffic"}
    for task in tasks:
        match = TASK_ID_PATTERN.match(task.id)
        assert match and match["family"] == task.family
        if task.id in UNSCORED:
            assert task.scores is None and "No score references" in task.description
            continue
        assert task.scores is not None, task.id
        assert task.scores.random_source and task.scores.reference_source
        assert task.scores.reference > task.scores.random, task.id


def test_misspelt_id_suggests_the_close_one():
    with pytest.raises(UnknownTaskError) as info:
        get_task("minigrid/DoorKy-8x8-v0")
    assert "did you mean 'minigrid/DoorKey-8x8-v0'" in str(info.value)


def test_bare_name_suggests_the_namespaced_id():
    with pytest.raises(UnknownTaskError, match="classic/CartPole-v1"):
        get_task("CartPole")


def test_ids_work_with_gymnasium_make_after_import():
    env = gymnasium.make("minigrid/DoorKey-8x8-v0")
    assert env.unwrapped.max_steps == 640
    env.close()


def test_make_applies_the_task_protocol():
    env = gymarena.make("classic/CartPole-v1")
    assert env.spec.max_episode_steps == 500
    env.close()


def test_invalid_specs_are_rejected():
    with pytest.raises(ValueError, match="family/Name-vN"):
        TaskSpec(id="CartPole-v1", family="classic", env_id="CartPole-v1", extra="classic")
    with pytest.raises(ValueError, match="success rule"):
        TaskSpec(id="classic/X-v1", family="classic", env_id="X", extra="classic", success="return ~ 3")


def test_spec_json_round_trip():
    spec = get_task("mujoco/Hopper-v5")
    assert TaskSpec.from_json_dict(spec.to_json_dict()) == spec


def _outcome(**fields):
    base = {"episode_return": 10.0, "final_reward": 1.0, "length": 20, "terminated": True, "truncated": False, "final_info": {}}
    return EpisodeOutcome(**{**base, **fields})


@pytest.mark.parametrize(
    "rule, outcome, expected",
    [
        ("none", _outcome(), None),
        ("terminated", _outcome(), True),
        ("terminated", _outcome(terminated=False, truncated=True), False),
        ("return >= 10", _outcome(), True),
        ("return >= 10.5", _outcome(), False),
        ("final_reward > 0", _outcome(final_reward=0.0), False),
        ("length < 21", _outcome(), True),
        ("info.is_success", _outcome(final_info={"is_success": 1}), True),
        ("info.is_success", _outcome(), False),
    ],
)
def test_success_rules(rule, outcome, expected):
    assert episode_succeeded(rule, outcome) is expected


def test_a_missing_simulator_names_its_extra(monkeypatch):
    import importlib.util

    from gymarena.errors import MissingExtraError

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mujoco" else find_spec(name, *a))
    with pytest.raises(MissingExtraError) as info:
        gymarena.make("mujoco/Ant-v5")
    assert "pip install 'gymarena[mujoco]'" in str(info.value)
    assert "mujoco/Ant-v5" in [t.id for t in all_tasks()]  # still listed


def test_an_entry_point_task_gets_the_same_protocol():
    spec = TaskSpec(
        id="classic/CartPoleByEntryPoint-v0", family="classic", extra="classic",
        env_id="gymnasium.envs.classic_control.cartpole:CartPoleEnv", max_episode_steps=37,
    )
    env = gymarena.make(spec)
    assert env.spec.id == spec.id and env.spec.max_episode_steps == 37
    assert isinstance(env.unwrapped, CartPoleEnv)
    env.close()


# -- reward ranges: what a server checks uploaded returns against ------------------------

def test_every_task_of_a_registered_suite_declares_its_reward_range():
    from gymarena.suites import list_suites
    from gymarena.tasks import reward_range

    lacking = sorted({t.id for suite in list_suites() for t in suite.tasks if reward_range(t.id) is None})
    assert lacking == []


def test_the_reward_ranges_admit_every_published_episode():
    """The ranges refuse what a task cannot produce, never a real episode: every episode of
    every published baseline run lies inside its task's range."""
    import gzip
    import json
    from pathlib import Path

    import gymarena.baselines
    from gymarena.tasks import reward_range

    checked = 0
    for path in sorted((Path(gymarena.baselines.__file__).parent / "published").glob("*.json.gz")):
        for episode in json.loads(gzip.decompress(path.read_bytes()))["episodes"]:
            rewards = reward_range(episode["task_id"])
            assert rewards is not None, episode["task_id"]
            assert rewards.allows(episode["episode_return"], episode["length"]), (path.name, episode)
            checked += 1
    assert checked > 1_000


def test_a_malformed_reward_range_is_reported_at_its_key(tmp_path):
    from gymarena.catalog import read_catalog
    from gymarena.errors import SuiteFormatError

    path = tmp_path / "bad.toml"
    path.write_text('family = "classic"\nreward_range = [1, 0]\nreward_range_source = "x"\n'
                    '[[tasks]]\nid = "classic/X-v0"\nenv_id = "CartPole-v1"\n')
    with pytest.raises(SuiteFormatError, match=r"reward_range.*low <= high"):
        read_catalog(path)
