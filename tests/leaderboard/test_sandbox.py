"""Submitted agents run sandboxed: what they may not do fails with a clear reason, the
worker side survives, and nothing leaks out of or into the sandbox."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from leaderboard_data import acting_agent, sandboxed_agent

from gymarena.errors import AgentError
from gymarena.leaderboard.sandbox import (
    Limits,
    SandboxedAgent,
    SandboxError,
    sandbox_available,
)

LIMITS = Limits(memory_bytes=2 * 1024**3, processes=32, step_seconds=3.0, start_seconds=60.0, episode_seconds=30.0)


@pytest.fixture(scope="module", autouse=True)
def needs_sandbox():
    available, reason = sandbox_available()
    if not available:
        pytest.fail(f"the sandbox cannot run here: {reason} (scripts/test installs bubblewrap)")


def _agent(tmp_path, body: str, limits: Limits = LIMITS, name: str = "package") -> SandboxedAgent:
    return sandboxed_agent(tmp_path, body, limits, name)


OBSERVATION = np.zeros(4, dtype=np.float32)


def test_a_well_behaved_agent_plays_and_runs_as_nobody(tmp_path):
    agent = _agent(tmp_path, acting_agent("print('uid', os.getuid(), flush=True)"))
    agent.reset(seed=1)
    assert agent.act(OBSERVATION) == 0
    agent.close()
    assert "uid 65534" in agent.log_tail()


def test_no_network_not_even_the_hosts_loopback(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    agent = _agent(tmp_path, acting_agent(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)"))
    with pytest.raises(AgentError, match=r"OSError|ConnectionRefusedError|Network is unreachable"):
        agent.act(OBSERVATION)
    with pytest.raises(socket.timeout):
        listener.accept()  # nothing came through
    agent.close()
    listener.close()


def test_no_writes_outside_its_private_tmp(tmp_path):
    outside = tmp_path / "escaped.txt"
    agent = _agent(tmp_path, acting_agent(f"open('/tmp/mine.txt', 'w').write('fine'); open({str(outside)!r}, 'w').write('x')"))
    with pytest.raises(AgentError, match=r"FileNotFoundError|PermissionError|Read-only"):
        agent.act(OBSERVATION)
    assert not outside.exists()
    agent.close()
    package_write = _agent(tmp_path, acting_agent("open('/agent/agent.py', 'a').write('#')"), name="second")
    with pytest.raises(AgentError, match=r"Read-only file system|PermissionError"):
        package_write.act(OBSERVATION)
    package_write.close()


def test_the_database_and_secrets_are_out_of_sight(tmp_path):
    secret = tmp_path / "results.sqlite"
    secret.write_text("hidden seeds 11 12 13")
    agent = _agent(tmp_path, acting_agent(f"print(open({str(secret)!r}).read())"))
    with pytest.raises(AgentError, match="FileNotFoundError"):
        agent.act(OBSERVATION)
    agent.close()
    assert "hidden seeds" not in agent.log_tail()


def test_a_fork_bomb_hits_the_process_limit(tmp_path):
    agent = _agent(tmp_path, acting_agent("""
        while True:
            os.fork()
    """))
    started = time.monotonic()
    with pytest.raises(AgentError, match=r"BlockingIOError|Resource temporarily unavailable|broke the protocol") as info:
        agent.act(OBSERVATION)
    agent.close()
    assert time.monotonic() - started < 30
    print(info.value)


def test_a_10_gb_allocation_is_refused(tmp_path):
    agent = _agent(tmp_path, acting_agent("import numpy; numpy.ones(10 * 1024**3, dtype=numpy.uint8)"))
    with pytest.raises(AgentError, match=r"MemoryError|Unable to allocate"):
        agent.act(OBSERVATION)
    agent.close()


def test_an_agent_that_never_answers_is_stopped_at_the_step_limit(tmp_path):
    agent = _agent(tmp_path, acting_agent("time.sleep(10**6)"))
    started = time.monotonic()
    with pytest.raises(SandboxError, match="did not answer act within 3 s"):
        agent.act(OBSERVATION)
    assert time.monotonic() - started < 10
    assert agent.process.poll() is not None  # killed


def test_garbage_on_the_pipe_is_a_protocol_breach(tmp_path):
    agent = _agent(tmp_path, acting_agent("os.write(int(sys.argv[4]), b'\\xff' * 64)"))
    with pytest.raises(SandboxError, match="broke the protocol"):
        agent.act(OBSERVATION)
    assert agent.process.poll() is not None


def test_an_episode_over_its_wall_clock_budget_is_stopped(tmp_path):
    agent = _agent(tmp_path, acting_agent("time.sleep(1)"), Limits(step_seconds=5.0, episode_seconds=2.0))
    agent.reset(seed=0)
    with pytest.raises(SandboxError, match="more than 2 s of wall-clock time in one episode"):
        for _ in range(5):
            agent.act(OBSERVATION)


def test_the_worker_side_keeps_working_after_a_breach(tmp_path):
    bad = _agent(tmp_path, acting_agent("time.sleep(10**6)"), name="bad")
    with pytest.raises(SandboxError):
        bad.act(OBSERVATION)
    good = _agent(tmp_path, acting_agent("pass"), name="good")
    assert good.act(OBSERVATION) == 0
    good.close()
