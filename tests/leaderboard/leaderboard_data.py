"""A tiny suite and two agents of clearly different skill, for leaderboard tests."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gymarena.runner import EvalRequest, evaluate

SUITE = '''
name = "tiny"
version = 1
seeds = [0, 1, 2, 3]
episodes = 3
{ranking}
[[tasks]]
id = "classic/CartPole-v1"
[[tasks]]
id = "classic/CartPoleShort-v1"
env_id = "CartPole-v1"
max_episode_steps = 50
success = "length >= 50"
scores = {{ random = 20.0, reference = 50.0, random_source = "measured", reference_source = "the step limit" }}
[[tasks]]
id = "classic/Acrobot-v1"
env_id = "Acrobot-v1"
max_episode_steps = 50
'''

BALANCER_SOURCE = '''
def make_agent(task, observation_space, action_space):
    return Balancer()


class Balancer:
    def reset(self, seed=None):
        pass

    def act(self, observation):
        return int(observation[2] + {gain} * observation[3] > 0)
'''
BALANCER = BALANCER_SOURCE.format(gain=0.5)


def tiny_suite(directory: Path, ranking: str = "") -> str:
    path = directory / "tiny.toml"
    path.write_text(SUITE.format(ranking=ranking))
    return str(path)


def balancer(directory: Path) -> str:
    path = directory / "balancer.py"
    path.write_text(BALANCER)
    return f"{path}:make_agent"


def play_both(store, suite: str, directory: Path, **options) -> None:
    """A run of the random agent, then one of the balancer."""
    evaluate(EvalRequest(suite=suite, **options), store)
    evaluate(EvalRequest(suite=suite, agent=balancer(directory), **options), store)


@contextmanager
def running_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free local port for the block; yields its URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def acting_agent(act_body: str) -> str:
    """The source of an agent module whose ``act`` runs ``act_body`` (os, socket, sys and
    time imported), then returns action 0: the sandbox tests' misbehaving agents."""
    body = textwrap.indent(textwrap.dedent(act_body), " " * 8)
    return f"""import os, socket, sys, time


class Agent:
    def __init__(self, task, observation_space, action_space):
        pass

    def reset(self, seed=None):
        pass

    def act(self, observation):
{body}
        return 0
"""


def eventually(read, accept, seconds: float = 30):
    """``read()`` again until ``accept`` holds of what it returns: the server's ranking
    refresher stores a suite's page within a few seconds of new results."""
    deadline = time.monotonic() + seconds
    while not accept(value := read()):
        assert time.monotonic() < deadline, f"never accepted: {value!r}"[:2000]
        time.sleep(0.05)
    return value


def agent_package(directory: Path, name: str, code: str) -> Path:
    """A submittable agent package: ``agent.py`` holding ``code`` (its class ``Agent``) and
    its manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gymarena-agent.toml").write_text(f'name = "{name}"\nversion = "1"\nentry_point = "agent.py:Agent"\n')
    (directory / "agent.py").write_text(code)
    return directory


def upload_agent(client, token: str, archive: bytes, suite: str = "quickstart@1"):
    """POST an agent archive to a test client of the server."""
    return client.post("/api/submissions/agent", data={"suite": suite},
                       files={"archive": ("agent.tar.gz", archive, "application/gzip")},
                       headers={"Authorization": f"Bearer {token}"})


def sandboxed_agent(directory: Path, code: str, limits, name: str = "package"):
    """A SandboxedAgent over ``code`` (its class ``Agent``) on CartPole, logging to
    ``directory/NAME.log``."""
    import gymarena
    from gymarena.leaderboard.sandbox import SandboxedAgent
    from gymarena.tasks import get_task

    package = directory / name
    package.mkdir(exist_ok=True)
    (package / "agent.py").write_text(code)
    package.chmod(0o755)
    (package / "agent.py").chmod(0o644)
    task = get_task("classic/CartPole-v1")
    env = gymarena.make(task)
    return SandboxedAgent(package, "agent.py:Agent", task, env.observation_space, env.action_space, limits,
                          directory / f"{name}.log")

