"""The ray backend on a local Ray cluster: the same records as the local backends, a killed
worker's chunk retried with nothing stored twice or lost, and resume across backends."""

from __future__ import annotations

import pytest
from conftest import agent_ref

from gymarena.errors import AgentError
from gymarena.runner import EvalRequest, evaluate

ray = pytest.importorskip("ray")

TASKS = ("classic/CartPole-v1", "minigrid/DoorKey-5x5-v0")


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _outcomes(store, run_id):
    return sorted((r.task_id, r.seed, r.episode, r.outcome_fields()) for r in store.episodes(run_id))


def test_batched_play_on_ray_stores_the_unbatched_records(store):
    request = {"tasks": TASKS, "seeds": (0, 1, 2), "episodes": 3, "agent": agent_ref("SlotRandom"), "fresh": True}
    batched = evaluate(EvalRequest(**request, backend="ray", workers=2, batch=4), store)
    local = evaluate(EvalRequest(**request), store)
    assert batched.run.status == local.run.status == "complete"
    assert _outcomes(store, batched.run.id) == _outcomes(store, local.run.id)


def test_ray_stores_the_same_episodes_as_the_local_backend(store):
    request = {"tasks": TASKS, "seeds": (0, 1), "episodes": 3, "agent": agent_ref("make_random"), "fresh": True}
    on_ray = evaluate(EvalRequest(**request, backend="ray", workers=2), store)
    local = evaluate(EvalRequest(**request, backend="local"), store)
    assert on_ray.run.status == local.run.status == "complete"
    assert _outcomes(store, on_ray.run.id) == _outcomes(store, local.run.id)


ONCE = '''
import os
import numpy as np
from pathlib import Path

MARKER = Path({marker!r})


class FailsOnce:
    """Fails at the start of its episode {episode}, once (a marker file remembers it); later
    attempts, on a retried chunk or a resumed run, play normally."""

    def __init__(self, task, observation_space, action_space):
        self.space = action_space
        self.episodes = 0

    def reset(self, seed=None):
        self.episodes += 1
        self.rng = np.random.default_rng(seed)
        if self.episodes == {episode} and not MARKER.exists():
            MARKER.write_text("failed")
            {failure}

    def act(self, observation):
        return int(self.rng.integers(self.space.n))
'''
KILL_THE_WORKER = "os.kill(os.getpid(), 9)"
RAISE = "raise RuntimeError('policy network exploded')"


def fails_once(tmp_path, failure: str, episode: int) -> tuple[str, object]:
    """(agent reference, marker path) of a FailsOnce agent written into tmp_path."""
    marker = tmp_path / "failed"
    agent_file = tmp_path / "fails_once.py"
    agent_file.write_text(ONCE.format(marker=str(marker), episode=episode, failure=failure))
    return f"{agent_file}:FailsOnce", marker


def test_a_killed_worker_is_retried_and_nothing_is_stored_twice_or_lost(store, tmp_path):
    agent, marker = fails_once(tmp_path, KILL_THE_WORKER, episode=2)
    request = {"tasks": ("classic/CartPole-v1",), "seeds": (0, 1, 2), "episodes": 4, "fresh": True}
    result = evaluate(EvalRequest(**request, agent=agent, backend="ray", workers=2), store)
    assert marker.exists(), "the test agent never killed its worker"
    assert result.run.status == "complete"
    records = store.episodes(result.run.id)
    keys = [(r.seed, r.episode) for r in records]
    assert len(keys) == len(set(keys)) == 12 and store.get_run(result.run.id).episode_count == 12
    seeded = evaluate(EvalRequest(**request, agent=agent_ref("make_random"), backend="local"), store)
    assert [r.outcome_fields() for r in sorted(records, key=lambda r: (r.seed, r.episode))] == \
        [r.outcome_fields() for r in sorted(store.episodes(seeded.run.id), key=lambda r: (r.seed, r.episode))]


def test_a_run_stopped_on_ray_resumes_on_another_backend(store, tmp_path):
    agent, _ = fails_once(tmp_path, RAISE, episode=3)
    request = {"tasks": TASKS, "seeds": (0, 1), "episodes": 3, "fresh": True, "agent": agent}
    with pytest.raises(AgentError, match="policy network exploded"):
        evaluate(EvalRequest(**request, backend="ray", workers=1), store)
    (run,) = store.list_runs()
    assert run.status == "failed" and 0 < run.episode_count < 12
    resumed = evaluate(EvalRequest(resume=run.id, backend="local"), store)
    assert resumed.run.status == "complete" and store.get_run(run.id).episode_count == 12


def test_address_needs_the_ray_backend():
    from gymarena.errors import RunConfigError

    with pytest.raises(RunConfigError, match=r"^address names a Ray cluster: use it with backend ray$"):
        EvalRequest(tasks=TASKS, address="auto")
