"""The runner: quotas, seeding, backends, resume, and failures that keep the store consistent."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import agent_ref, leave_run

from gymarena import __version__
from gymarena.errors import AgentError, InvalidActionError, RunConfigError, SimulatorError
from gymarena.protocol import episode_seed
from gymarena.runner import EvalRequest, evaluate, parse_seeds

CARTPOLE = ("classic/CartPole-v1",)


def test_parse_seeds():
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("0,3,7") == (0, 3, 7)
    assert parse_seeds("0-1, 10") == (0, 1, 10)
    for bad in ("a", "4-2", "1,1", "1-"):
        with pytest.raises(RunConfigError):
            parse_seeds(bad)


def test_episode_seeds_are_distinct_streams():
    seeds = {episode_seed(s, e) for s in range(20) for e in range(50)}
    assert len(seeds) == 1000


def test_fixed_quota_per_seed_regardless_of_episode_length(store):
    result = evaluate(EvalRequest(tasks=(*CARTPOLE, "minigrid/Empty-8x8-v0"), seeds=(0, 1, 2), episodes=4), store)
    records = store.episodes(result.run.id)
    counts = {}
    for record in records:
        counts[(record.task_id, record.seed)] = counts.get((record.task_id, record.seed), 0) + 1
    assert set(counts.values()) == {4} and len(counts) == 6
    assert result.run.status == "complete" and result.run.episode_count == 24
    cartpole = [r for r in records if r.task_id == "classic/CartPole-v1"]
    assert len({r.length for r in cartpole}) > 1  # lengths vary, quotas do not


def test_same_seeds_same_records_across_backends(sqlite_url):
    from gymarena.results import ResultsStore

    request = {"tasks": ("minigrid/DoorKey-5x5-v0", "mujoco/Hopper-v5"), "seeds": (0, 1), "episodes": 3, "fresh": True}
    with ResultsStore(sqlite_url) as store:
        local = evaluate(EvalRequest(**request), store)
        processes = evaluate(EvalRequest(**request, workers=2), store)
        local_records, process_records = store.episodes(local.run.id), store.episodes(processes.run.id)
    assert local.run.id != processes.run.id and len(local_records) == 12
    assert [r.outcome_fields() for r in local_records] == [r.outcome_fields() for r in process_records]
    assert local.run.protocol_hash == processes.run.protocol_hash


def test_a_second_identical_eval_resumes_an_unfinished_run(store):
    request = EvalRequest(tasks=CARTPOLE, seeds=(0, 1), episodes=3)
    first = evaluate(request, store)
    leave_run(store, first.run.id, "interrupted")  # as a killed process leaves it
    again = evaluate(request, store)
    assert again.resumed and again.run.id == first.run.id
    assert again.skipped == 6 and again.played == 0
    assert again.run.status == "complete"
    done = evaluate(request, store)  # a complete run is shown, nothing is stored again
    assert done.already_complete and done.run.id == first.run.id and done.played == 0
    fresh = evaluate(dataclasses.replace(request, fresh=True), store)
    assert not fresh.resumed and fresh.run.id != first.run.id and len(store.list_runs()) == 2


def test_resume_by_id_rejects_other_options():
    with pytest.raises(RunConfigError, match=r"^resume continues the run with its stored config; drop tasks"):
        EvalRequest(tasks=CARTPOLE, resume=3)
    with pytest.raises(RunConfigError, match="drop agent"):
        EvalRequest(agent="pkg:make_agent", resume=3)


def test_agent_raising_fails_the_run_and_keeps_finished_episodes(store):
    request = EvalRequest(tasks=CARTPOLE, seeds=(0,), episodes=5, agent=agent_ref("RaisesAtStep"))
    with pytest.raises(AgentError) as info:
        evaluate(request, store)
    message = str(info.value)
    assert "raised RuntimeError on classic/CartPole-v1 (seed 0, episode 2, step 4): policy network exploded" in message
    (run,) = store.list_runs()
    assert run.status == "failed" and "policy network exploded" in run.error
    assert sorted(r.episode for r in store.episodes(run.id)) == [0, 1]


def test_invalid_action_names_task_seed_step_and_action(store):
    request = EvalRequest(tasks=CARTPOLE, seeds=(4,), episodes=1, agent=agent_ref("OutOfSpace"))
    with pytest.raises(InvalidActionError) as info:
        evaluate(request, store)
    assert "classic/CartPole-v1 (seed 4, episode 0, step 2): 7 is not in Discrete(2)" in str(info.value)
    assert store.list_runs() == []  # failed before its first episode: nothing to keep


def test_agent_errors_cross_worker_processes(store):
    request = EvalRequest(tasks=CARTPOLE, seeds=(0, 1), episodes=3, agent=agent_ref("OutOfSpace"), workers=2)
    with pytest.raises(InvalidActionError, match="7 is not in Discrete"):
        evaluate(request, store)


def test_float64_actions_are_accepted_for_float32_boxes(store):
    result = evaluate(EvalRequest(tasks=("mujoco/InvertedPendulum-v5",), seeds=(0,), episodes=2, agent=agent_ref("make_random")), store)
    assert result.run.status == "complete"


def test_run_provenance_and_protocol(store):
    result = evaluate(EvalRequest(tasks=("minigrid/Empty-8x8-v0",), seeds=(0,), episodes=1), store)
    provenance = result.run.provenance
    assert provenance["gymarena"] == __version__ and provenance["python"].startswith("3.")
    assert provenance["packages"]["minigrid"] != "missing" and provenance["cpu"]
    (task,) = result.run.protocol
    assert task.simulator_versions["minigrid"] == provenance["packages"]["minigrid"]
    assert len(task.hash) == 64 and result.run.protocol_hash == result.run.protocol.hash


def test_resume_by_id_continues_and_refuses_changed_agent_code(store, tmp_path):
    agent_file = tmp_path / "mine.py"
    agent_file.write_text("from gymarena.agents import RandomAgent as make_agent\n")
    request = EvalRequest(tasks=CARTPOLE, seeds=(0, 1), episodes=2, agent=f"{agent_file}:make_agent")
    first = evaluate(request, store)
    leave_run(store, first.run.id, "failed")
    resumed = evaluate(EvalRequest(resume=first.run.id), store)
    assert resumed.resumed and resumed.run.id == first.run.id and resumed.run.status == "complete"
    with pytest.raises(RunConfigError, match="already complete"):
        evaluate(EvalRequest(resume=first.run.id), store)
    leave_run(store, first.run.id, "failed")
    agent_file.write_text("from gymarena.agents import RandomAgent as make_agent\n# edited\n")
    with pytest.raises(RunConfigError, match=r"code of agent .* changed since the run started"):
        evaluate(EvalRequest(resume=first.run.id), store)
    with pytest.raises(RunConfigError, match="there is no run 999"):
        evaluate(EvalRequest(resume=999), store)


def test_a_worker_that_dies_fails_the_run_instead_of_hanging_it(store):
    request = EvalRequest(tasks=CARTPOLE, seeds=(0, 1, 2), episodes=4, agent=agent_ref("KillsItsProcess"), workers=2)
    with pytest.raises(SimulatorError, match="a worker process died"):
        evaluate(request, store)
    (run,) = store.list_runs()
    assert run.status == "failed" and "worker process died" in run.error


def test_a_script_without_the_main_guard_gets_the_hint_not_a_hang(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    script.write_text(
        "import gymarena\n"
        "from gymarena.results import open_store\n"
        f"store = open_store({db!r})\n"
        "gymarena.evaluate(gymarena.EvalRequest(tasks=('classic/CartPole-v1',), seeds=(0, 1), episodes=2, workers=2), store)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode != 0
    assert 'guard the call with `if __name__ == "__main__":`' in result.stderr
