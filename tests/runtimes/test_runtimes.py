"""Isolated simulator runtimes: the env server behind RemoteEnv plays exactly what the
env in this process plays, its failures are clear, and ``gymarena install`` builds a
virtual environment whose env server runs a task."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

from gymarena import get_task
from gymarena.errors import SimulatorCrashed, SimulatorError
from gymarena.runtimes.registry import RuntimeMissingError
from gymarena.runtimes.remote_env import RemoteEnv
from gymarena.wrappers import make_env, make_local_env


def _flat(observation):
    if isinstance(observation, dict):
        return [np.asarray(observation[k]) for k in sorted(observation) if k != "mission"] + [observation.get("mission")]
    return [np.asarray(observation)]


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(_flat(a), _flat(b)))


@pytest.mark.parametrize("task_id", ["classic/CartPole-v1", "minigrid/DoorKey-5x5-v0"])
def test_a_remote_env_plays_the_same_episodes_as_one_in_this_process(task_id):
    task = get_task(task_id)
    remote, local = RemoteEnv(task, sys.executable), make_local_env(task)
    try:
        assert remote.observation_space == local.observation_space or task.family == "minigrid"  # MissionSpace -> Text
        assert remote.action_space == local.action_space
        rng = np.random.default_rng(0)
        for seed in (3, 4):
            (first, _), (expected, _) = remote.reset(seed=seed), local.reset(seed=seed)
            assert _same(first, expected)
            done = False
            while not done:
                action = int(rng.integers(local.action_space.n))
                got, want = remote.step(action), local.step(action)
                assert _same(got[0], want[0]) and got[1:4] == want[1:4]
                assert isinstance(got[4], dict)
                done = got[2] or got[3]
    finally:
        remote.close()
        local.close()


def test_a_simulator_error_comes_back_as_one_and_the_env_goes_on():
    remote = RemoteEnv(get_task("classic/CartPole-v1"), sys.executable)
    try:
        remote.reset(seed=0)
        with pytest.raises(SimulatorError, match="in step"):
            remote.step(7)  # not in Discrete(2): CartPole asserts
        assert remote.step(1)[0].shape == (4,)
    finally:
        remote.close()


def test_a_dead_simulator_process_is_a_clear_error():
    remote = RemoteEnv(get_task("classic/CartPole-v1"), sys.executable)
    remote.reset(seed=0)
    os.kill(remote._process.pid, signal.SIGKILL)
    with pytest.raises(SimulatorCrashed, match=r"died \(SIGKILL\) during step"):
        remote.step(0)
    with pytest.raises(SimulatorError, match="closed"):
        remote.reset(seed=1)
    remote.close()  # closing a dead env is fine


def test_isolated_without_a_runtime_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GYMARENA_RUNTIMES", str(tmp_path))
    with pytest.raises(RuntimeMissingError, match="gymarena install classic"):
        make_env(get_task("classic/CartPole-v1"), isolated=True)


@pytest.mark.slow
def test_install_builds_a_runtime_whose_env_server_plays_a_task(tmp_path, monkeypatch):
    from gymarena.runtimes.install import install_runtime
    from gymarena.runtimes.registry import load_runtime

    monkeypatch.setenv("GYMARENA_RUNTIMES", str(tmp_path))
    said = []
    runtime = install_runtime("classic", say=said.append)
    assert load_runtime("classic") == runtime and runtime.python.startswith(str(tmp_path))
    assert "sqlalchemy" in runtime.installed and any(r.startswith("gymnasium==") for r in runtime.requirements)
    env = make_env(get_task("classic/CartPole-v1"), isolated=True)
    try:
        assert os.path.realpath(env.server_prefix) == os.path.realpath(runtime.root)  # not this environment
        observation, _ = env.reset(seed=0)
        local_observation, _ = make_local_env(get_task("classic/CartPole-v1")).reset(seed=0)
        assert np.array_equal(observation, local_observation)
    finally:
        env.close()


def _runtime_of_this_interpreter(root, family: str, search_path: str = "") -> None:
    """A recorded runtime whose interpreter is this one (``search_path`` added to its
    module path): what the runner does with a runtime, without building a virtual
    environment (the install test does that)."""
    from gymarena.runtimes.registry import Runtime, write_record

    home = root / family
    home.mkdir(parents=True)
    python = home / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{search_path}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    write_record(Runtime(family, str(home), str(python), sys.version.split()[0], [], {}, "now"))


@pytest.mark.parametrize("backend,workers,batch", [("local", 1, 1), ("processes", 2, 1), ("local", 1, 3)])
def test_an_isolated_evaluation_stores_the_same_episodes(store, tmp_path, monkeypatch, backend, workers, batch):
    from gymarena.runner import EvalRequest, evaluate

    monkeypatch.setenv("GYMARENA_RUNTIMES", str(tmp_path))
    _runtime_of_this_interpreter(tmp_path, "minigrid")
    request = {"tasks": ("minigrid/DoorKey-5x5-v0",), "seeds": (0, 1), "episodes": 2, "backend": backend, "workers": workers,
                   "fresh": True}
    isolated = evaluate(EvalRequest(**request, isolated=True, batch=batch), store)
    in_process = evaluate(EvalRequest(**request, isolated=False), store)
    assert isolated.run.status == in_process.run.status == "complete"
    assert [r.outcome_fields() for r in store.episodes(isolated.run.id)] == \
        [r.outcome_fields() for r in store.episodes(in_process.run.id)]  # plan order, whatever order they ended in


@pytest.mark.parametrize("batch", [1, 3])
def test_a_dying_env_server_fails_its_episode_and_the_run_goes_on(store, tmp_path, monkeypatch, batch):
    from conftest import ENVS_DIR
    from test_isolation import SUITE

    from gymarena.protocol import episode_seed
    from gymarena.runner import EvalRequest, evaluate

    monkeypatch.setenv("GYMARENA_RUNTIMES", str(tmp_path))
    _runtime_of_this_interpreter(tmp_path, "classic", search_path=str(ENVS_DIR))
    suite = tmp_path / "crash.toml"
    suite.write_text(SUITE.format(seed=episode_seed(0, 1)))  # episode 1 aborts its process
    result = evaluate(EvalRequest(suite=str(suite), backend="local", isolated=True, batch=batch), store)
    assert result.run.status == "complete"
    records = {r.episode: r for r in store.episodes(result.run.id)}
    assert "the simulator process died (SIGABRT)" in records[1].error
    assert all(records[e].error is None and records[e].length == 10 for e in (0, 2, 3))


def test_an_isolated_family_is_listed_and_versioned_by_its_runtime(tmp_path, monkeypatch):
    """A family that runs isolated by default is available once its runtime is installed,
    and the versions in its protocol are those its runtime reports, where its simulator runs."""
    import dataclasses

    from gymarena.errors import SimulatorError
    from gymarena.runtimes.registry import Runtime, write_record
    from gymarena.wrappers import FAMILIES

    monkeypatch.setenv("GYMARENA_RUNTIMES", str(tmp_path))
    family = dataclasses.replace(FAMILIES["classic"], isolated=True)
    assert family.availability() == (False, "runs in a runtime of its own: gymarena install classic")
    assert family.simulator_versions() == {"gymnasium": "not installed"}
    _runtime_of_this_interpreter(tmp_path, "classic")
    assert family.availability() == (True, "")
    assert family.simulator_versions() == FAMILIES["classic"].local_simulator_versions()
    write_record(Runtime("classic", str(tmp_path / "classic"), "/bin/false", "3.11", [], {}, "now"))
    with pytest.raises(SimulatorError, match="run `gymarena install classic` again"):
        family.simulator_versions()
