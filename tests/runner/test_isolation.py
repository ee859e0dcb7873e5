"""Crash isolation: a simulator that aborts its process costs one episode, not the run."""

from __future__ import annotations

import pytest

from gymarena.protocol import episode_seed
from gymarena.runner import EvalRequest, evaluate
from gymarena.runner.plan import plan_request
from gymarena.views import run_scores

SUITE = """
name = "crash-test"
version = 1
seeds = [0]
episodes = 4

[[tasks]]
id = "classic/Aborts-v0"
env_id = "crashing:AbortsInOneEpisode"
kwargs.abort_seed = {seed}
max_episode_steps = 10
"""


@pytest.fixture
def crash_suite(tmp_path):
    path = tmp_path / "crash.toml"
    path.write_text(SUITE.format(seed=episode_seed(0, 1)))  # episode 1 of seed 0 aborts
    return str(path)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_aborting_simulator_fails_only_its_episode(store, crash_suite, workers):
    result = evaluate(EvalRequest(suite=crash_suite, backend="isolated", workers=workers), store)
    assert result.run.status == "complete"
    records = {r.episode: r for r in store.episodes(result.run.id)}
    assert sorted(records) == [0, 1, 2, 3]
    assert "the simulator process died (SIGABRT)" in records[1].error
    assert all(records[e].error is None and records[e].length == 10 for e in (0, 2, 3))
    score = run_scores(store, result.run)[0]
    assert score.failed == 1 and score.episodes == 4 and score.scored == 3  # the crashed episode is not scored
    assert score.mean_return.point == 10.0


def test_crash_prone_families_default_to_the_isolated_backend():
    nethack = EvalRequest(tasks=("nethack/Score-v1",))
    assert nethack.backend_for(plan_request(nethack)) == "isolated"
    cartpole = EvalRequest(tasks=("classic/CartPole-v1",), workers=2)
    assert cartpole.backend_for(plan_request(cartpole)) == "processes"
    chosen = EvalRequest(tasks=("nethack/Score-v1",), backend="local")
    assert chosen.backend_for(plan_request(chosen)) == "local"


def test_agent_errors_still_fail_the_run_on_the_isolated_backend(store):
    from conftest import agent_ref

    from gymarena.errors import AgentError

    request = EvalRequest(tasks=("classic/CartPole-v1",), seeds=(0,), episodes=5, agent=agent_ref("RaisesAtStep"),
                          backend="isolated")
    with pytest.raises(AgentError, match="policy network exploded"):
        evaluate(request, store)
    (run,) = store.list_runs()
    assert run.status == "failed" and len(store.episodes(run.id)) == 2
