"""Batched play (--batch): the same stored records as unbatched play on every backend, a
fixed quota whatever the episode lengths, and errors that name the slot's episode."""

from __future__ import annotations

import pytest
from conftest import agent_ref
from test_trials import TRIAL_SUITE

from gymarena.errors import AgentError, AgentLoadError, InvalidActionError, RunConfigError
from gymarena.runner import EvalRequest, evaluate

CARTPOLE = ("classic/CartPole-v1",)
MIXED = ("classic/CartPole-v1", "minigrid/DoorKey-5x5-v0", "classic/Pendulum-v1")


def outcomes(store, run_id):
    """A run's stored episodes without their timing, in key order."""
    return sorted((r.task_id, r.seed, r.episode, sorted(r.outcome_fields().items())) for r in store.episodes(run_id))


def same_records(store, request: dict, **batched) -> tuple:
    one = evaluate(EvalRequest(**request, fresh=True), store)
    many = evaluate(EvalRequest(**request, fresh=True, **batched), store)
    assert one.run.status == many.run.status == "complete"
    assert outcomes(store, many.run.id) == outcomes(store, one.run.id)
    return one, many


@pytest.mark.parametrize("agent", ["random", agent_ref("SlotRandom")])
def test_batched_play_stores_the_unbatched_records(store, agent):
    # 3 seeds x 5 episodes on 4 slots: slots are refilled unevenly, and the last ones idle
    request = {"tasks": MIXED, "seeds": (0, 1, 2), "episodes": 5, "agent": agent}
    _, many = same_records(store, request, batch=4)
    assert many.run.episode_count == 45 and many.unbatched == {}
    assert store.get_run(many.run.id).provenance["evaluation"]["batch"] == 4


def test_a_stateful_agent_is_told_each_slots_episode_start(store):
    request = {"tasks": ("classic/CartPole-v1", "classic/Pendulum-v1"), "seeds": (0, 1), "episodes": 7,
               "agent": agent_ref("Counting")}
    same_records(store, request, batch=5)
    same_records(store, request, batch=64)  # more slots than episodes: one slot per episode


def test_batched_play_on_the_processes_backend(store):
    request = {"tasks": MIXED, "seeds": (0, 1, 2), "episodes": 4, "agent": agent_ref("SlotRandom")}
    same_records(store, request, batch=3, workers=2)


def test_each_episode_is_played_once_and_shares_of_time_add_up(store):
    import time

    started = time.perf_counter()
    result = evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0, 1, 2, 3), episodes=25, batch=8), store)
    elapsed = time.perf_counter() - started
    records = store.episodes(result.run.id)
    assert sorted((r.seed, r.episode) for r in records) == [(s, e) for s in range(4) for e in range(25)]
    assert sum(r.wall_seconds for r in records) < elapsed  # shares of one lockstep, not 8 overlapping clocks


UNBATCHABLE = TRIAL_SUITE.replace('name = "trials"', 'name = "unbatchable"') + """
[[tasks]]
id = "classic/Pendulum-v1"
decision_intervals = [1, 3]
[[tasks]]
id = "social/Impostor-5p1i-v0"
[[tasks]]
id = "classic/CartPole-v1"
"""


def test_tasks_that_cannot_be_batched_are_played_one_at_a_time(store, tmp_path):
    suite = tmp_path / "unbatchable.toml"
    suite.write_text(UNBATCHABLE)
    _, many = same_records(store, {"suite": str(suite)}, batch=4)
    assert many.unbatched == {"classic/CartPoleTrials-v1": "played in trials",
                              "classic/Pendulum-v1": "at decision intervals above 1",
                              "social/Impostor-5p1i-v0": "multi-agent"}
    assert {r.decision_interval for r in store.episodes(many.run.id)} == {1, 3}


def test_an_invalid_action_names_the_slots_episode(store):
    with pytest.raises(InvalidActionError, match=r"CartPole-v1 \(seed 1, episode 2, step 4\): 7 is not in Discrete\(2\)"):
        evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0, 1), episodes=4, agent=agent_ref("BatchOutOfSpace"), batch=3),
                 store)


def test_an_agent_error_in_act_batch_names_the_agent_and_the_slots(store):
    with pytest.raises(AgentError, match=r"raised ValueError in act_batch on classic/CartPole-v1 \(slot 0: seed 0, "
                                         r"episode \d+, step \d+; .*: batched forward pass failed"):
        evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=6, agent=agent_ref("BatchRaises"), batch=3), store)


def test_act_batch_must_answer_every_row(store):
    with pytest.raises(AgentError, match="returned 2 actions from act_batch on classic/CartPole-v1 for a batch of 3"):
        evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=6, agent=agent_ref("BatchTooFew"), batch=3), store)


def test_batch_needs_an_agent_with_act_batch(store):
    with pytest.raises(AgentLoadError, match="has no act_batch\\(observations\\), which --batch needs"):
        evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=2, agent=agent_ref("FirstActionAgent"), batch=2),
                 store)
    assert store.list_runs() == []  # nothing played: nothing kept


def test_batch_size_and_backend_are_checked():
    with pytest.raises(RunConfigError, match=r"^batch must be between 1 and 1,024, got 0"):
        EvalRequest(tasks=CARTPOLE, batch=0)
    with pytest.raises(RunConfigError, match="the isolated backend plays one episode per worker message"):
        EvalRequest(tasks=CARTPOLE, batch=2, backend="isolated")


def test_crash_prone_families_refuse_batch_on_their_default_backend(store):
    pytest.importorskip("nle")
    with pytest.raises(RunConfigError, match="nethack tasks run on the isolated backend by default, and it plays"):
        evaluate(EvalRequest(tasks=("nethack/Score-v0",), batch=2), store)


def test_device_goes_to_factories_that_take_one(store, tmp_path, monkeypatch):
    log = tmp_path / "devices"
    monkeypatch.setenv("GYMARENA_TEST_DEVICE", str(log))
    evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=1, agent=agent_ref("make_on_device"), device="cpu"),
             store)
    evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=1, agent=agent_ref("make_on_device"), fresh=True), store)
    assert log.read_text().split() == ["cpu", "default"]


def test_device_names_are_checked(store):
    from gymarena.devices import cuda_available

    with pytest.raises(RunConfigError, match="device 'gpu' is not one of cpu, cuda, cuda:N, auto"):
        EvalRequest(tasks=CARTPOLE, device="gpu")
    if not cuda_available():
        with pytest.raises(RunConfigError, match="torch sees no CUDA device here"):
            evaluate(EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=1, device="cuda"), store)
