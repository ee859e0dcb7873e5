"""Super Mario Bros in its own runtime: the real NES emulator, driven from this environment."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from conftest import installed_runtime

import gymarena
from gymarena.tasks import get_task
from gymarena.wrappers import FAMILIES, make_env


@pytest.fixture(scope="module")
def mario_runtime():
    return installed_runtime("mario")


def _task(task_id: str, steps: int | None = None):
    task = get_task(task_id)
    return task if steps is None else dataclasses.replace(task, max_episode_steps=steps)


def _play(env, actions, seed=0):
    observation, info = env.reset(seed=seed)
    frames, infos = [observation], [info]
    for action in actions:
        observation, _reward, terminated, truncated, info = env.step(action)
        frames.append(observation)
        infos.append(info)
        if terminated or truncated:
            break
    return frames, infos


def test_a_stage_plays_from_the_main_environment_through_gymnasium(mario_runtime):
    env = gymarena.make("mario/SuperMarioBros-1-1-v0")
    try:
        assert env.observation_space.shape == (240, 256, 3) and env.observation_space.dtype == np.uint8
        assert env.action_space.n == 7  # nes-py's SIMPLE_MOVEMENT
        observation, info = env.reset(seed=0)
        assert observation.shape == (240, 256, 3) and info["stage"] == "1-1"
        for _ in range(10):
            observation, reward, _terminated, _truncated, info = env.step(3)  # right + B
        assert info["x_pos"] > 40 and reward > 0 and info["world"] == 1 and info["stage"] == "1-1"
    finally:
        env.close()


def test_the_emulator_replays_a_stage_identically(mario_runtime):
    actions = [3] * 30 + [4] * 10 + [3] * 30
    first, second = make_env(get_task("mario/SuperMarioBros-1-2-v0")), make_env(get_task("mario/SuperMarioBros-1-2-v0"))
    try:
        frames_a, infos_a = _play(first, actions, seed=0)
        frames_b, infos_b = _play(second, actions, seed=5)  # a fixed stage does not depend on the seed
        assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b, strict=True))
        assert [i.get("x_pos") for i in infos_a] == [i.get("x_pos") for i in infos_b]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("actions,count", [("right_only", 5), ("simple", 7), ("complex", 12)])
def test_action_sets_are_task_parameters(mario_runtime, actions, count):
    env = make_env(get_task("mario/SuperMarioBros-1-1-v0"), actions=actions)
    try:
        assert env.action_space.n == count
    finally:
        env.close()


def test_an_unknown_action_set_is_a_clear_error(mario_runtime):
    with pytest.raises(Exception, match="unknown Mario action set 'diagonal'"):
        make_env(get_task("mario/SuperMarioBros-1-1-v0"), actions="diagonal")


def test_random_stage_tasks_draw_the_stage_from_the_seed(mario_runtime):
    env = make_env(get_task("mario/SuperMarioBrosRandomStages-World1-v0"))
    try:
        stages = [env.reset(seed=seed)[1]["stage"] for seed in range(12)]
        again = [env.reset(seed=seed)[1]["stage"] for seed in range(12)]
    finally:
        env.close()
    assert stages == again
    assert set(stages) <= {"1-1", "1-2", "1-3", "1-4"} and len(set(stages)) >= 3


def test_an_episode_ends_with_its_metrics(mario_runtime):
    env = make_env(get_task("mario/SuperMarioBros-1-1-v0"))
    try:
        _, infos = _play(env, [3] * 400)  # running right without jumping: the first Goomba wins
    finally:
        env.close()
    metrics = infos[-1]["gymarena_metrics"]
    assert set(metrics) == {"distance", "flag", "score", "time_left", "coins", "stage"}
    assert metrics["distance"] == max(i.get("x_pos", 0) for i in infos) > 200
    assert metrics["flag"] is False and metrics["stage"] == "1-1" and 0 < metrics["time_left"] <= 400


def test_the_rom_digest_and_the_runtime_versions_enter_the_protocol(mario_runtime):
    versions = FAMILIES["mario"].simulator_versions()
    assert re.fullmatch(r"[0-9a-f]{64}", versions["super-mario-bros.nes sha256"])
    assert versions["gym-super-mario-bros"] == mario_runtime.installed["gym-super-mario-bros"]
    assert versions["numpy"] == mario_runtime.installed["numpy"]  # the runtime's numpy, not this one's


def test_the_scripted_baseline_runs_further_than_random(mario_runtime, store):
    """On 1-4 (short episodes) over five seeds: run-and-jump clears the first lava pits."""
    from gymarena.runner import EvalRequest, evaluate

    distances = {}
    for agent in ("random", "scripted"):
        result = evaluate(EvalRequest(tasks=("mario/SuperMarioBros-1-4-v0",), seeds=(0, 1, 2, 3, 4), episodes=1,
                                      agent=agent), store)
        assert result.run.status == "complete"
        distances[agent] = np.mean([r.extra["distance"] for r in store.episodes(result.run.id)])
    assert distances["scripted"] > distances["random"] + 100, distances
