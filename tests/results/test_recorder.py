"""The run recorder: every run is created, filled and ended through it, and always ends
with its status and reason; one-shot recordings are all or nothing."""

from __future__ import annotations

import pytest

from gymarena.errors import GymarenaError, MissingExtraError
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import AgentIdentity, EpisodeRecord
from gymarena.results import ResultsStore, RunStart
from gymarena.tasks import get_task

PROTOCOL = RunProtocol((TaskProtocol(get_task("classic/CartPole-v1").with_episodes(3), (0,), {"gymnasium": "1.2.0"}),))
START = RunStart(AgentIdentity("a", "pkg:a", "1", "0" * 64), PROTOCOL, {"seeds": [0]}, {"python": "3"})


def _record(episode: int) -> EpisodeRecord:
    return EpisodeRecord("classic/CartPole-v1", 0, episode, 7, float(episode), 10, None, True, False, 10, 0.01)


@pytest.mark.parametrize("raised, status, error", [
    (GymarenaError("the simulator went away"), "failed", "the simulator went away"),
    (TypeError("bad operand"), "failed", "TypeError: bad operand"),
    (KeyboardInterrupt(), "interrupted", "interrupted by the user"),
])
def test_a_run_always_ends_with_its_status_and_the_reason(store, raised, status, error):
    with pytest.raises(type(raised)), store.recording(START) as run:
        run.put(_record(0))
        raise raised
    stored = store.get_run(run.run_id)
    assert (stored.status, stored.error, stored.episode_count) == (status, error, 1)


def test_a_finished_block_completes_the_run_with_its_summary_and_seed_means(store):
    with store.recording(START) as run:
        run.add([_record(0), _record(1), _record(2)])
        run.summary = {"estimate": 1.0}
    stored = store.get_run(run.run_id)
    assert stored.status == "complete" and stored.error is None and stored.summary == {"estimate": 1.0}
    assert stored.protocol == PROTOCOL and stored.protocol_hash == PROTOCOL.hash
    (mean,) = store.seed_means([run.run_id])
    assert (mean.episodes, mean.mean_return) == (3, 1.0)


def test_episodes_are_committed_as_they_finish(db_url):
    """What another process (a reader, a resume after kill -9) sees while a run is recorded."""
    with ResultsStore(db_url) as store, ResultsStore(db_url) as reader, store.recording(START) as run:
        run.put(_record(0))  # the first episode commits at once
        assert [r.episode for r in reader.episodes(run.run_id)] == [0]
        run.add([_record(1), _record(2)])  # a batch commits together
        assert reader.get_run(run.run_id).episode_count == 3


def test_an_atomic_recording_stores_everything_or_nothing(store):
    with pytest.raises(GymarenaError), store.recording(START, atomic=True) as run:
        run.add([_record(0), _record(1)])
        raise GymarenaError("the upload was cut short")
    assert run.run_id is None and store.list_runs() == []  # no orphan run, no stray episode
    with store.recording(START, atomic=True) as run:
        run.add([_record(0), _record(1), _record(2)])
    (stored,) = store.list_runs()
    assert stored.id == run.run_id and stored.status == "complete" and stored.episode_count == 3
    assert len(store.seed_means([stored.id])) == 1


def test_resuming_continues_the_unfinished_run_of_the_same_config(store):
    with pytest.raises(KeyboardInterrupt), store.recording(START) as first:
        first.put(_record(0))
        raise KeyboardInterrupt
    with store.recording(START, resume=True) as again:
        assert again.resumed and again.run_id == first.run_id
        assert store.get_run(first.run_id).status == "running"
        assert {k.episode for k in again.stored_keys()} == {0}
        again.add([_record(1), _record(2)])
    assert store.get_run(first.run_id).status == "complete"
    with store.recording(START, resume=True) as fresh:  # a complete run is never continued
        assert not fresh.resumed and fresh.run_id != first.run_id


def test_the_config_hash_is_protocol_agent_and_settings():
    from gymarena.protocol import digest

    assert START.config_hash == digest({"protocol": PROTOCOL.hash, "agent": "pkg:a", "code": "0" * 64})
    other = RunStart(START.agent, PROTOCOL, {}, {}, settings={"batch_size": 8})
    assert other.config_hash != START.config_hash
    with pytest.raises(ValueError, match="unknown run kind"):
        RunStart(START.agent, PROTOCOL, {}, {}, kind="trusted")


def test_adaptive_cav_testing_without_its_solver_says_what_to_install_and_stores_nothing(store, monkeypatch):
    import importlib.util

    from gymarena.cavtest import run_cav_tests

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "quadprog" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"cannot import quadprog.*pip install 'gymarena\[cav\]'"):
        run_cav_tests(store, "idm", "adaptive", 100, say=lambda line: None)
    assert store.list_runs() == []
