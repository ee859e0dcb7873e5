"""Hostile submitted agents: what the worker must survive and keep from them. Sandbox
lifecycle (a failing factory, methods that would replace the worker's own, a stalled
agent with a close), capped error text, a writable but bounded /tmp, the submission's
deadline, and, end to end through the worker, the hidden seeds: never on a page before
they are revealed, never given to the agent, which therefore cannot replay an episode."""

from __future__ import annotations

import json
import re
import textwrap
import time

import numpy as np
import pytest
from leaderboard_data import acting_agent, agent_package, eventually, sandboxed_agent, upload_agent
from typer.testing import CliRunner

from gymarena.cli import app as cli
from gymarena.errors import AgentError
from gymarena.leaderboard import agent_host
from gymarena.leaderboard.packages import pack_directory
from gymarena.leaderboard.sandbox import NOBODY, OFFERABLE, Limits, SandboxedAgent, SandboxError, _processes_of
from gymarena.leaderboard.worker import WorkerConfig, run_worker
from gymarena.protocol import agent_seed
from gymarena.results import ResultsStore

SUITE = "quickstart@1"
LIMITS = Limits(memory_bytes=2 * 1024**3, step_seconds=3.0, start_seconds=60.0, episode_seconds=60.0)
OBSERVATION = np.zeros(4, dtype=np.float32)


def _sandboxed(tmp_path, code: str, limits: Limits = LIMITS) -> SandboxedAgent:
    return sandboxed_agent(tmp_path, code, limits, name="agent")


LOUD = """
class Agent:
    \"\"\"Plays its first episode, then raises with a 3 MB message: a failed run with an episode kept.\"\"\"

    def __init__(self, *spaces):
        self.resets = 0

    def reset(self, seed=None):
        self.resets += 1
        if self.resets > 1:
            raise ValueError("y" * 3_000_000)

    def act(self, observation):
        return 0
"""

RAISING_FACTORY = """
class Agent:
    def __init__(self, *spaces):
        {error}

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return 0
"""


def _no_sandbox_left(baseline: int) -> None:
    eventually(lambda: _processes_of(NOBODY), lambda count: count <= baseline, seconds=10)


# -- V2, V3: the worker owns the sandbox's lifecycle --------------------------------------

def test_an_agent_that_raises_in_its_factory_leaves_no_sandbox(tmp_path):
    baseline = _processes_of(NOBODY)
    with pytest.raises(AgentError, match="ZeroDivisionError"):
        _sandboxed(tmp_path, RAISING_FACTORY.format(error="1 / 0"))
    _no_sandbox_left(baseline)


def test_an_agent_may_offer_only_the_allowed_methods(tmp_path):
    """The agent rewrites its host's list of optional methods to offer ``close`` and
    ``_fail``: bound onto the worker's object they would replace the worker's own."""
    baseline = _processes_of(NOBODY)
    code = textwrap.dedent("""
        import sys
        sys.modules["__main__"].OPTIONAL = ("close", "_fail", "act_sequence")

        class Agent:
            def __init__(self, *spaces):
                pass
            def reset(self, seed=None):
                pass
            def act(self, observation):
                return 0
            def close(self):
                pass
            def _fail(self, reason):
                pass
            def act_sequence(self, observation, n):
                return [0] * n
    """)
    with pytest.raises(SandboxError, match="may offer only"):
        _sandboxed(tmp_path, code)
    _no_sandbox_left(baseline)
    assert agent_host.OPTIONAL == OFFERABLE  # the host offers what the worker accepts


def test_a_stalled_agent_with_a_close_of_its_own_is_killed_once(tmp_path):
    code = acting_agent("time.sleep(10**6)") + "\n    def close(self):\n        time.sleep(10**6)\n"
    agent = _sandboxed(tmp_path, code)
    assert not hasattr(agent, "act_sequence")  # not offered
    with pytest.raises(SandboxError, match="did not answer act within 3 s"):
        agent.act(OBSERVATION)
    assert not agent.running
    agent.close()  # again: nothing left to do


def test_an_agents_huge_error_text_is_capped(tmp_path):
    agent = _sandboxed(tmp_path, acting_agent("raise ValueError('x' * 5_000_000)"))
    with pytest.raises(AgentError) as raised:
        agent.act(OBSERVATION)
    assert len(str(raised.value)) < 3_000 and "more characters cut" in str(raised.value)
    assert not agent.running  # an agent that failed is done


# -- V12: a private /tmp the agent can write, of bounded size, with HOME in it -------------

def test_the_private_tmp_is_writable_bounded_and_holds_home(tmp_path):
    agent = _sandboxed(tmp_path, acting_agent("""
        home = os.environ["HOME"]
        open(os.path.join(home, "cache.txt"), "w").write("cached")
        print("home", home, open(os.path.join(home, "cache.txt")).read(), flush=True)
        try:
            with open("/tmp/filler", "wb") as filler:
                for _ in range(32):
                    filler.write(b"x" * 1024**2)
            print("tmp unbounded", flush=True)
        except OSError as exc:
            print("tmp full", exc.errno, flush=True)
    """), Limits(step_seconds=5.0, start_seconds=60.0, tmp_bytes=8 * 1024**2))
    assert agent.act(OBSERVATION) == 0
    agent.close()
    log = agent.log_tail()
    assert "home /tmp/home cached" in log and "tmp full 28" in log, log  # 28: ENOSPC


def test_a_sandbox_forking_cpu_burners_is_stopped_at_its_total_cpu(tmp_path):
    """N3: RLIMIT_CPU is per process and a sandbox may run many: the worker adds up the CPU
    time of every process in the sandbox (reaped ones too) and kills it past the total."""
    burners = acting_agent("""
        import multiprocessing
        for _ in range(4):
            multiprocessing.get_context("fork").Process(target=lambda: [None for _ in iter(int, 1)]).start()
        time.sleep(60)
    """)
    agent = _sandboxed(tmp_path, burners, Limits(cpu_seconds=3, step_seconds=60.0, start_seconds=60.0))
    started = time.monotonic()
    with pytest.raises(SandboxError, match="used more than 3 CPU-seconds in all, the sandbox's limit"):
        agent.act(OBSERVATION)
    assert time.monotonic() - started < 20  # not the step's 60 s: four burners pass 3 CPU-seconds in about 1.5 s
    assert not agent.running


# -- through the worker: deadlines, capped reasons, hidden seeds ---------------------------

def _package(directory, name: str, code: str) -> bytes:
    return pack_directory(agent_package(directory, name, code))


def _upload(client, token, archive: bytes) -> int:
    answer = upload_agent(client, token, archive, SUITE)
    assert answer.status_code == 202, answer.text
    return answer.json()["submission"]


def test_a_slow_agent_is_ended_by_the_submission_deadline(submission_server, tmp_path):
    client, token, db_url = submission_server
    slow = _upload(client, token, _package(tmp_path / "slow", "slow", acting_agent("time.sleep(0.5)")))
    config = WorkerConfig(limits=Limits(step_seconds=3.0, start_seconds=60.0, submission_seconds=4.0), poll_seconds=0.1)
    baseline = _processes_of(NOBODY)
    assert run_worker(db_url, once=True, config=config) == 1
    status = client.get(f"/api/submissions/{slow}").json()
    assert status["status"] == "failed" and "past its deadline" in status["reason"], status
    _no_sandbox_left(baseline)


def test_failure_reasons_are_capped_and_no_sandbox_outlives_its_submission(submission_server, tmp_path):
    client, token, db_url = submission_server
    loud = _upload(client, token, _package(tmp_path / "loud", "loud", LOUD))
    broken = _upload(client, token, _package(tmp_path / "broken", "broken", RAISING_FACTORY.format(error="raise OSError('no')")))
    baseline = _processes_of(NOBODY)
    assert run_worker(db_url, once=True, config=WorkerConfig(limits=LIMITS, poll_seconds=0.1)) == 2
    for submission in (loud, broken):
        status = client.get(f"/api/submissions/{submission}").json()
        assert status["status"] == "failed" and len(status["reason"]) <= 4_000, status["reason"][:200]
    run = client.get(f"/api/runs/{client.get(f'/api/submissions/{loud}').json()['run']}").json()
    assert len(run["run"]["error"]) <= 4_000
    _no_sandbox_left(baseline)


REPLAYER = '''
import numpy as np
import gymarena


class Agent:
    """Rebuilds the task privately and resets it with the seed it is given: if that were
    the episode's seed, its first observation would be the episode's. (CartPole's first
    observation is four uniform draws: equal only from the same seed. DoorKey's partial
    view can coincide across layouts, so only the seeds it gets are compared there.)"""

    def __init__(self, task, observation_space, action_space):
        self.task = task.id
        self.env = gymarena.make(task.id)
        self.expected = None

    def reset(self, seed=None):
        self.seed = seed
        self.expected, _ = self.env.reset(seed=seed)

    def act(self, observation):
        if self.expected is not None:
            same = np.array_equal(np.asarray(observation["image"] if isinstance(observation, dict) else observation),
                                  np.asarray(self.expected["image"] if isinstance(self.expected, dict) else self.expected))
            print(self.task, "seed", self.seed, "replayed" if same else "differs", flush=True)
            self.expected = None
        return 0
'''


def test_hidden_seeds_stay_hidden_and_the_agent_cannot_replay_an_episode(submission_server, tmp_path):
    client, token, db_url = submission_server
    submission = _upload(client, token, _package(tmp_path / "replayer", "replayer", REPLAYER))
    assert run_worker(db_url, once=True, config=WorkerConfig(limits=LIMITS, poll_seconds=0.1)) == 1
    status = client.get(f"/api/submissions/{submission}").json()
    assert status["status"] == "finished", status
    # N3: its log tail, a channel out of the sandbox, is withheld from all but its owner until rotation
    assert status["log_tail"].startswith("withheld until the suite's hidden seeds are revealed")
    status = client.get(f"/api/submissions/{submission}", headers={"Authorization": f"Bearer {token}"}).json()
    with ResultsStore(db_url) as store:
        run = store.get_run(status["run"])
        episodes = store.episodes(run.id)
        hidden, salt = store.submissions.hidden_seed_set(SUITE, 3)
    assert run.kind == "verified" and run.agent.owner == "alice"
    # V10: the agent got keyed seeds, never an episode's, and could not rebuild one
    given = {(task, int(seed)) for task, seed in re.findall(r"^(\S+) seed (\d+) ", status["log_tail"], re.MULTILINE)}
    episode_seeds = {e.episode_seed for e in episodes}
    assert given and not {seed for _, seed in given} & episode_seeds
    assert given <= {(e.task_id, agent_seed(salt.encode(), e.episode_seed, e.task_id)) for e in episodes}
    # N3: the same episode seed gives each task another agent seed: one task's episodes tell nothing of another's
    by_task: dict[str, set[int]] = {}
    for task, seed in given:
        by_task.setdefault(task, set()).add(seed)
    assert len(by_task) == 2 and not set.intersection(*by_task.values())
    cartpole = [line for line in status["log_tail"].splitlines() if line.startswith("classic/CartPole-v1")]
    assert cartpole and all(line.endswith("differs") for line in cartpole), cartpole
    # V1: no page, API or download shows a hidden seed or an episode seed before rotation
    secrets = set(hidden) | episode_seeds
    entry = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(), lambda p: p["verified"] and p["verified"]["entries"])
    assert entry["verified"]["entries"][0]["owner"] == "alice"
    urls = [f"/api/runs/{run.id}", f"/runs/{run.id}", f"/api/runs/{run.id}/episodes.csv", f"/api/runs/{run.id}/episodes.json",
            f"/api/submissions/{submission}", f"/submissions/{submission}", f"/api/suites/{SUITE}", f"/suites/{SUITE}",
            f"/api/agents/{run.agent_id}", f"/agents/{run.agent_id}", f"/runs/{run.id}/scores.svg"]
    for url in urls:
        body = client.get(url).text
        shown = {int(n) for n in re.findall(r"\d+", body)} & secrets
        assert not shown, (url, shown)
    page = client.get(f"/api/runs/{run.id}").json()
    assert page["run"]["seeds_hidden"] and {e["seed"] for e in page["episodes"]} == {"hidden #0", "hidden #1", "hidden #2"}
    # after rotation they are published, with the salt that checks the commitment
    assert CliRunner().invoke(cli, ["admin", "rotate-seeds", "--suite", SUITE, "--db", db_url]).exit_code == 0
    assert "differs" in client.get(f"/api/submissions/{submission}").json()["log_tail"]  # the log is public now
    revealed = client.get(f"/api/runs/{run.id}").json()
    assert revealed["run"]["config"]["seeds"] == hidden and not revealed["run"]["seeds_hidden"]
    commitments = eventually(lambda: client.get(f"/api/suites/{SUITE}").json()["hidden_seeds"], lambda c: len(c) == 2)
    assert any(c["seeds"] == hidden and c["salt"] == salt for c in commitments)
    assert json.loads(client.get(f"/api/runs/{run.id}/episodes.json").text)["episodes"][0]["seed"] in hidden


@pytest.mark.parametrize("suite, board, hours", [("cav-highway@1", "cav", 0.5), ("quickstart@1", "scores", 0.5),
                                                 ("social-core@2", "social", 6.0)])
def test_each_board_gets_a_submission_deadline_that_fits_it(suite, board, hours):
    """N6: cav-highway@1's deadline was 555.6 hours (every test at 0.05 s per step), times up
    to 20 checkpoints; a CAV board's is sized by tests at a sandboxed AV's pace, every
    board's is capped per checkpoint and per submission."""
    from gymarena.installed import suite_protocol
    from gymarena.leaderboard.boards import BOARDS
    from gymarena.leaderboard.sandbox import submission_budget

    protocol, limits, board = suite_protocol(suite), Limits(), BOARDS[board]
    assert 600 <= submission_budget(protocol, limits, board) <= hours * 3600
    assert submission_budget(protocol, limits, board, players=20) <= limits.max_submission_seconds == 24 * 3600
    assert submission_budget(protocol, Limits(submission_seconds=5.0), board, players=20) == 5.0


def test_a_sandbox_failure_names_the_place_in_the_episode_not_gymarenas_code(submission_server, tmp_path):
    client, token, db_url = submission_server
    stalled = _upload(client, token, _package(tmp_path / "stall", "stall", acting_agent("time.sleep(3600)")))
    assert run_worker(db_url, once=True, config=WorkerConfig(limits=LIMITS, poll_seconds=0.1)) == 1
    reason = client.get(f"/api/submissions/{stalled}").json()["reason"]
    assert "did not answer act within 3 s" in reason and "(seed <hidden seed>, episode 0, step 0)" in reason, reason
    assert "sandbox.py" not in reason and "raised SandboxError" not in reason
