"""Agent submissions end to end: upload, queue, sandboxed evaluation on hidden seeds by
the worker, verified ranking, failures with reasons, two workers on one queue, and the
hidden seeds' public commitments."""

from __future__ import annotations

import io
import json
import multiprocessing
import re
import socket
import tarfile
import urllib.request

import pytest
from fastapi.testclient import TestClient
from leaderboard_data import acting_agent, agent_package, eventually, running_server, upload_agent
from typer.testing import CliRunner

from gymarena.cli import app as cli
from gymarena.leaderboard.app import create_app
from gymarena.leaderboard.packages import pack_directory
from gymarena.leaderboard.sandbox import Limits
from gymarena.leaderboard.worker import WorkerConfig, run_worker
from gymarena.results import ResultsStore
from gymarena.results.submissions import seed_commitment

SUITE = "quickstart@1"
GOOD = acting_agent("pass")
SLEEPER = acting_agent("time.sleep(3600)")
FAST = WorkerConfig(limits=Limits(step_seconds=3.0, start_seconds=60.0), poll_seconds=0.1)


_package = agent_package
_upload = upload_agent


def test_a_submitted_agent_is_evaluated_sandboxed_on_hidden_seeds_and_ranked_verified(db_url, tmp_path):
    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("bob")
    package = _package(tmp_path / "mine", "sampler", GOOD)
    with running_server(create_app(db_url, reps=200)) as url:
        result = CliRunner().invoke(cli, ["submit", "agent", str(package), "--suite", SUITE, "--server", url, "--token", token])
        assert result.exit_code == 0, result.output
        assert "queued (sampler 1)" in result.stdout
        assert run_worker(db_url, once=True, config=FAST) == 1
        page = eventually(lambda: json.loads(urllib.request.urlopen(f"{url}/api/suites/{SUITE}").read()),
                          lambda page: page["verified"] and page["verified"]["entries"])
    (entry,) = page["verified"]["entries"]
    assert entry["agent"] == "sampler" and entry["kind"] == "verified" and entry["seeds"] == 3
    assert page["entries"] == []  # nothing under the public seeds
    (commitment,) = page["hidden_seeds"]
    assert commitment["seeds"] is None and commitment["revealed"] is None  # not public yet
    with ResultsStore(db_url) as store:
        run = store.get_run(entry["run"])
        hidden = store.submissions.current_hidden_seeds(SUITE)
        assert run.kind == "verified" and run.config["seeds"] == hidden and not set(hidden) & {0, 1, 2}
        submission = store.submissions.get(run.submission_id)
        assert submission.status == "finished" and submission.run_id == run.id


def test_a_misbehaving_agent_fails_with_its_reason_and_the_worker_goes_on(submission_server, tmp_path):
    client, token, db_url = submission_server
    sleeper = _upload(client, token, pack_directory(_package(tmp_path / "sleeper", "sleeper", SLEEPER))).json()
    good = _upload(client, token, pack_directory(_package(tmp_path / "good", "good", GOOD))).json()
    assert sleeper["status"] == good["status"] == "queued"
    assert run_worker(db_url, once=True, config=FAST) == 2
    failed = client.get(f"/api/submissions/{sleeper['submission']}").json()
    assert failed["status"] == "failed" and "did not answer act within 3 s" in failed["reason"]
    assert "failed" in client.get(f"/submissions/{sleeper['submission']}").text
    assert client.get(f"/api/submissions/{good['submission']}").json()["status"] == "finished"


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MANIFEST = b'name = "x"\nentry_point = "agent.py:Agent"\n'


@pytest.mark.parametrize("members, reason", [
    ({"agent.py": b"class Agent: pass"}, "no gymarena-agent.toml"),
    ({"gymarena-agent.toml": MANIFEST}, "'agent.py' is not in the package"),
    ({"gymarena-agent.toml": MANIFEST, "agent.py": b"", "../escape.py": b""}, "a path outside itself"),
    ({"gymarena-agent.toml": b'name = "x"\nentry_point = "/etc/passwd.py:A"\n', "agent.py": b""}, "entry_point"),
    ({"gymarena-agent.toml": b"name = [", "agent.py": b""}, "not valid TOML"),
    ({"gymarena-agent.toml": MANIFEST + b'checkpoints = ["w.bin"]\n', "agent.py": b""}, "'w.bin' that the manifest lists"),
    ({"gymarena-agent.toml": MANIFEST + b'checkpoints = ["../w.bin"]\n', "agent.py": b""}, "a file inside the package"),
    ({"gymarena-agent.toml": MANIFEST + b'checkpoints = ["w", "w"]\n', "agent.py": b"", "w": b""}, "listed twice"),
])
def test_bad_packages_are_refused_at_upload(submission_server, members, reason):
    client, token, _ = submission_server
    answer = _upload(client, token, _tar(members))
    assert answer.status_code == 422 and reason in answer.json()["detail"]


def test_agent_uploads_need_a_token_a_known_suite_and_a_bounded_size(db_url, tmp_path):
    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("erin")
    archive = pack_directory(_package(tmp_path / "a", "a", GOOD))
    with TestClient(create_app(db_url, reps=200, max_upload_bytes=100_000)) as client:
        assert _upload(client, "gya_nope", archive).status_code == 401
        unknown = _upload(client, token, archive, suite="no-such-suite@1")
        assert unknown.status_code == 422 and "no suite" in unknown.json()["detail"]
        assert _upload(client, token, archive + b"\0" * 200_000).status_code == 413


def _work(db_url: str, name: str) -> None:
    run_worker(db_url, once=True, config=WorkerConfig(limits=FAST.limits, poll_seconds=0.1, name=name))


def test_two_workers_on_one_queue_evaluate_every_submission_exactly_once(submission_server, tmp_path):
    client, token, db_url = submission_server
    archive = pack_directory(_package(tmp_path / "a", "shared", GOOD))
    ids = [_upload(client, token, archive).json()["submission"] for _ in range(4)]
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_work, args=(db_url, f"worker-{i}")) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
        assert worker.exitcode == 0
    with ResultsStore(db_url) as store:
        submissions = [store.submissions.get(i) for i in ids]
        assert all(s.status == "finished" and s.run_id is not None for s in submissions), [(s.status, s.reason) for s in submissions]
        runs = [r for r in store.list_runs() if r.submission_id in ids]
        assert sorted(r.submission_id for r in runs) == ids  # one run each, none twice
        assert {s.worker for s in submissions} <= {"worker-0", "worker-1"}


def test_rotating_reveals_seeds_that_match_their_commitment(submission_server, tmp_path):
    client, _token, db_url = submission_server
    with ResultsStore(db_url) as store:
        first = store.submissions.hidden_seeds(SUITE, 3)
    (before,) = eventually(lambda: client.get(f"/api/suites/{SUITE}").json()["hidden_seeds"], lambda seeds: seeds)
    result = CliRunner().invoke(cli, ["admin", "rotate-seeds", "--suite", SUITE, "--db", db_url])
    assert result.exit_code == 0, result.output
    revealed = eventually(lambda: client.get(f"/api/suites/{SUITE}").json()["hidden_seeds"], lambda seeds: len(seeds) == 2)
    old = next(c for c in revealed if c["commitment"] == before["commitment"])
    assert old["seeds"] == first and seed_commitment(old["seeds"], old["salt"]) == before["commitment"]
    with ResultsStore(db_url) as store:
        assert store.submissions.current_hidden_seeds(SUITE) != first


def test_the_worker_refuses_to_run_untrusted_code_without_a_sandbox(db_url, monkeypatch):
    from gymarena.errors import GymarenaError
    from gymarena.leaderboard import sandbox

    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (False, "bwrap is not installed"))
    with pytest.raises(GymarenaError, match="refuses to start unless given --unsafe-no-sandbox"):
        run_worker(db_url, once=True)
    assert run_worker(db_url, once=True, unsafe_no_sandbox=True) == 0


def test_every_breach_fails_its_submission_with_a_reason_and_the_worker_survives(submission_server, tmp_path):
    client, token, db_url = submission_server
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    secret = tmp_path / "hidden-seeds.txt"
    secret.write_text("11 12 13")
    outside = tmp_path / "escaped.txt"
    breaches = {
        "socket": (f"socket.create_connection(('127.0.0.1', {listener.getsockname()[1]}), timeout=2)",
                   "OSError|Network is unreachable|ConnectionRefusedError"),
        "write": (f"open({str(outside)!r}, 'w').write('x')", "FileNotFoundError|PermissionError"),
        "read": (f"open({str(secret)!r}).read()", "FileNotFoundError"),
        "fork": ("while True:\n    os.fork()", "BlockingIOError|broke the protocol"),
        "memory": ("import numpy; numpy.ones(10 * 1024**3, dtype=numpy.uint8)", "MemoryError|Unable to allocate"),
        "sleep": ("time.sleep(10**6)", "did not answer act within 3 s"),
        "garbage": ("os.write(int(sys.argv[4]), b'\\xff' * 64)", "broke the protocol"),
    }
    ids = {name: _upload(client, token, pack_directory(_package(tmp_path / name, name, acting_agent(body)))).json()["submission"]
           for name, (body, _) in breaches.items()}
    good = _upload(client, token, pack_directory(_package(tmp_path / "good", "good", GOOD))).json()["submission"]
    assert run_worker(db_url, once=True, config=FAST) == len(breaches) + 1
    for name, (_, reason) in breaches.items():
        status = client.get(f"/api/submissions/{ids[name]}").json()
        assert status["status"] == "failed" and re.search(reason, status["reason"]), (name, status["reason"])
    assert client.get(f"/api/submissions/{good}").json()["status"] == "finished"
    assert not outside.exists()
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()


CHECKPOINTED = """
from pathlib import Path


class Agent:
    \"\"\"One trained checkpoint of an algorithm: the action it always plays is its weights.\"\"\"

    def __init__(self, task, observation_space, action_space, checkpoint):
        weights = Path(checkpoint).read_text()
        if weights == "broken":
            raise RuntimeError("this checkpoint does not load")
        self.action = int(weights)

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return self.action
"""


def _algorithm_package(directory, weights: dict[str, str]):
    directory.mkdir(parents=True)
    listed = ", ".join(f'"{name}"' for name in weights)
    (directory / "gymarena-agent.toml").write_text(
        f'name = "fixed"\nversion = "2"\nentry_point = "agent.py:Agent"\ncheckpoints = [{listed}]\n')
    (directory / "agent.py").write_text(CHECKPOINTED)
    for name, content in weights.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(content)
    return directory


def test_an_algorithm_package_is_one_verified_entry_over_its_checkpoints(submission_server, tmp_path):
    client, token, db_url = submission_server
    package = _algorithm_package(tmp_path / "algo", {"runs/seed0": "0", "runs/seed1": "1", "runs/seed2": "1 "})
    answer = _upload(client, token, pack_directory(package)).json()
    assert run_worker(db_url, once=True, config=FAST) == 1
    assert client.get(f"/api/submissions/{answer['submission']}").json()["status"] == "finished"
    page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(),  # the refresher may be a run behind
                      lambda page: [e["runs"] for e in page["verified"]["entries"]] == [3])
    (entry,) = page["verified"]["entries"]
    assert (entry["agent"], entry["version"], entry["runs"], entry["ci_over"]) == ("fixed", "2", 3, "runs")
    with ResultsStore(db_url) as store:
        runs = [store.get_run(run_id) for run_id in entry["run_ids"]]
    assert len({run.agent.content_hash for run in runs}) == 3 and {run.kind for run in runs} == {"verified"}
    assert len({run.algorithm for run in runs}) == 1 and runs[0].algorithm.name == "fixed"
    assert sorted(run.agent.reference.rpartition(":")[2] for run in runs) == ["runs/seed0", "runs/seed1", "runs/seed2"]


def test_an_algorithm_cannot_drop_a_weak_checkpoint_by_failing_it(submission_server, tmp_path):
    """Its runs stand or fall together: one failing checkpoint hides the others' runs."""
    client, token, db_url = submission_server
    package = _algorithm_package(tmp_path / "algo", {"a": "1", "b": "broken", "c": "0"})
    answer = _upload(client, token, pack_directory(package)).json()
    same = _upload(client, token, pack_directory(_algorithm_package(tmp_path / "same", {"a": "1", "b": "1"}))).json()
    assert run_worker(db_url, once=True, config=FAST) == 2
    failed = client.get(f"/api/submissions/{answer['submission']}").json()
    assert failed["status"] == "failed" and "checkpoint b:" in failed["reason"] and "does not load" in failed["reason"]
    twice = client.get(f"/api/submissions/{same['submission']}").json()
    assert twice["status"] == "failed" and "are the same file" in twice["reason"]
    with ResultsStore(db_url) as store:
        (kept,) = [run for run in store.list_runs() if run.kind == "verified"]
        assert kept.hidden_reason == f"another checkpoint of submission {answer['submission']} failed"
        from gymarena.leaderboard import leaderboard

        assert leaderboard(store, SUITE, reps=100).entries == []
    eventually(lambda: client.get(f"/api/suites/{SUITE}").json(), lambda page: page["verified"]["entries"] == [])


SLOW_CHECKPOINTS = CHECKPOINTED.replace("        return self.action\n", "        time.sleep(0.0005)\n        return self.action\n").replace(
    "from pathlib import Path\n", "import time\nfrom pathlib import Path\n")


def test_a_worker_killed_mid_submission_leaves_it_to_be_played_again_whole_once(submission_server, tmp_path):
    """N2: a worker killed -9 (OOM, reboot, deploy) mid-submission: the checkpoints it had
    evaluated are never ranked as part of the algorithm; the next worker takes it again,
    deletes the dead attempt's runs and plays it whole, once."""
    import os
    import signal
    import subprocess
    import sys

    client, token, db_url = submission_server
    package = _algorithm_package(tmp_path / "algo", {"runs/seed0": "0", "runs/seed1": "1", "runs/seed2": "0 "})
    (package / "agent.py").write_text(SLOW_CHECKPOINTS)
    submission = _upload(client, token, pack_directory(package)).json()["submission"]
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "gymarena", "worker", "--once", "--poll", "0.1", "--db", db_url],
                              stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        with ResultsStore(db_url) as store:
            eventually(lambda: [r for r in store.list_runs() if r.submission_id == submission and r.status == "complete"],
                       lambda done: done or worker.poll() is not None, seconds=300)
            assert worker.poll() is None, log.read_text()
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=60)
            assert store.submissions.get(submission).status == "running"  # killed before it finished
            from gymarena.leaderboard import leaderboard

            assert leaderboard(store, SUITE, reps=100).entries == []  # no partial algorithm entry
    finally:
        if worker.poll() is None:
            worker.kill()
    assert run_worker(db_url, once=True, config=FAST) == 1  # takes it back at once: its worker's process is gone
    with ResultsStore(db_url) as store:
        ended = store.submissions.get(submission)
        assert (ended.status, ended.attempts) == ("finished", 2), ended.reason
        runs = [r for r in store.list_runs() if r.submission_id == submission]
        assert len(runs) == 3 and {r.status for r in runs} == {"complete"}  # once: the dead attempt's runs are gone
    page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(),
                      lambda page: [e["runs"] for e in page["verified"]["entries"]] == [3])
    assert page["verified"]["entries"][0]["agent"] == "fixed"


def test_a_submission_whose_workers_keep_dying_is_failed_after_its_attempts(db_url, tmp_path):
    """Requeued a bounded number of times (the agent may be what kills its workers), then
    failed with the reason; an upload that never arrived is failed and refunded."""
    from datetime import timedelta

    from sqlalchemy import update

    from gymarena.results.models import SubmissionRow, utcnow
    from gymarena.results.submissions import MAX_ATTEMPTS, UPLOAD_SECONDS

    with ResultsStore(db_url) as store:
        token = store.submissions.token(store.submissions.create_token("carol", daily_quota=2))
        queued = store.submissions.reserve(token, "agent")
        store.submissions.settle(queued, SUITE, {"name": "x"}, "queued", archive=b"x")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            claimed = store.submissions.claim("elsewhere:1:1")  # another host's worker, then silent
            assert (claimed.id, claimed.attempts) == (queued, attempt)
            store.engine.dispose()
            with store.engine.begin() as connection:
                connection.execute(update(SubmissionRow).where(SubmissionRow.id == queued)
                                   .values(heartbeat_at=utcnow() - timedelta(minutes=5)))
        assert store.submissions.claim("elsewhere:1:1") is None
        failed = store.submissions.get(queued)
        assert failed.status == "failed" and f"stopped while playing it {MAX_ATTEMPTS} times" in failed.reason
        abandoned = store.submissions.reserve(token, "agent")  # the second of two a day
        assert store.submissions.reserve(token, "agent") is None
        with store.engine.begin() as connection:
            connection.execute(update(SubmissionRow).where(SubmissionRow.id == abandoned)
                               .values(created_at=utcnow() - timedelta(seconds=UPLOAD_SECONDS + 1)))
        assert store.submissions.reserve(token, "agent") is not None  # refunded
        refunded = store.submissions.get(abandoned)
        assert refunded.status == "failed" and "did not arrive" in refunded.reason


def test_hidden_seeds_are_drawn_beyond_any_public_seed(db_url):
    """N3: drawn from [10,000, 2**31), an episode seed found from observations could be
    walked back to its suite seed by trying 2**31 hashes; now the space is 2**62 wide."""
    from gymarena.results.submissions import HIDDEN_SEED_SPACE
    from gymarena.runner.plan import MAX_SEED

    with ResultsStore(db_url) as store:
        seeds = store.submissions.hidden_seeds(SUITE, 3)
        assert store.submissions.current_hidden_seeds(SUITE) == seeds  # 64-bit integers round-trip
    assert all(MAX_SEED < seed < 2**62 for seed in seeds) and len(HIDDEN_SEED_SPACE) > 2**61
