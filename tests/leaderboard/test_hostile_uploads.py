"""Hostile clients of the server: uploads a task cannot produce, runs that cannot be
ranked, identity takeover, the quota race, archive bombs, paths and huge ids. Each test
is one attack the server must survive (docs/security.md lists them)."""

from __future__ import annotations

import copy
import io
import json
import tarfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from leaderboard_data import eventually, running_server
from typer.testing import CliRunner

from gymarena.cli import app as cli
from gymarena.leaderboard.app import create_app
from gymarena.leaderboard.packages import MAX_FILES, MAX_UNPACKED_BYTES
from gymarena.leaderboard.refresher import RankingRefresher
from gymarena.leaderboard.uploads import results_payload
from gymarena.records import AgentIdentity, EpisodeRecord
from gymarena.results import ResultsStore, RunStart
from gymarena.runner import EvalRequest, evaluate

SUITE = "quickstart@1"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """A complete local run of quickstart@1, as `gymarena submit results` sends it."""
    directory = tmp_path_factory.mktemp("local")
    with ResultsStore(f"sqlite:///{directory / 'local.sqlite'}") as store:
        run = evaluate(EvalRequest(suite="quickstart"), store).run
        return results_payload(store, run.id)


def _post(client, token, payload):
    return client.post("/api/submissions/results", content=json.dumps(payload),
                       headers={"Authorization": f"Bearer {token}"})


def _tokens(db_url, *names, quota=50):
    with ResultsStore(db_url) as store:
        return [store.submissions.create_token(name, daily_quota=quota) for name in names]


def _ranked(client, suite=SUITE, count=1):
    return eventually(lambda: client.get(f"/api/suites/{suite}").json(), lambda page: len(page["entries"]) >= count)


# -- V4: uploads are checked against what the task can produce ---------------------------

def _huge_returns(payload):
    for episode in payload["episodes"]:
        if episode["task_id"] == "classic/CartPole-v1":
            episode["episode_return"] = 1e308


def _errors_on_one_task(payload):
    for episode in payload["episodes"]:
        if episode["task_id"] == "minigrid/DoorKey-5x5-v0":
            episode["error"] = "crashed"


def _infinite_metric(payload):
    payload["episodes"][0]["extra"] = {"score": float("inf")}


@pytest.mark.parametrize("tamper, reason", [
    (_huge_returns, "is outside what"),
    (_errors_on_one_task, "ended in an error"),
    (_infinite_metric, "not finite"),
])
def test_results_the_task_cannot_produce_are_refused_and_the_suite_keeps_ranking(submission_server, local_run, tamper, reason):
    client, token, _ = submission_server
    assert _post(client, token, local_run).status_code == 201
    hostile = copy.deepcopy(local_run)
    hostile["agent"]["name"] = "hostile"
    tamper(hostile)
    answer = _post(client, token, json.loads(json.dumps(hostile)))
    assert answer.status_code == 422, answer.text
    assert reason in " ".join(answer.json()["detail"])
    (entry,) = _ranked(client)["entries"]
    assert entry["agent"] == local_run["agent"]["name"]


def _record(store, name, records, suite=SUITE):
    from gymarena.installed import suite_protocol

    identity = AgentIdentity(name, f"tests:{name}", "1", name.encode().hex().ljust(64, "0")[:64])
    with store.recording(RunStart(identity, suite_protocol(suite), {}, {}, suite=suite), atomic=True) as run:
        run.add(records)
    return run.run_id


def _records(payload, change=lambda e: None):
    records = [EpisodeRecord(**e) for e in copy.deepcopy(payload["episodes"])]
    for record in records:
        change(record)
    return records


def _crash_doorkey(record):
    if record.task_id == "minigrid/DoorKey-5x5-v0":
        record.error = "the simulator process died"


def _overflow(record):
    record.episode_return = 1e308


@pytest.mark.parametrize("change, reason", [(_crash_doorkey, "no scored episodes on minigrid/DoorKey-5x5-v0"),
                                            (_overflow, "not finite")])
def test_a_run_the_ranking_cannot_score_is_listed_apart_and_every_other_run_is_ranked(store, local_run, change, reason):
    """(A local run, not an upload: uploads are bounded. PostgreSQL refuses to average
    returns of 1e308, an overflow, so that run never completes there: nothing to rank.)"""
    if change is _overflow and store.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's AVG refuses to overflow: such a run cannot complete there")
    good = _record(store, "good", _records(local_run))
    bad = _record(store, "bad", _records(local_run, change))
    refresher = RankingRefresher(store, reps=200)
    assert refresher.refresh(SUITE)
    page = json.loads(store.snapshots.get(SUITE).payload)
    assert [e["run"] for e in page["entries"]] == [good]
    (unranked,) = page["unranked"]
    assert unranked["run"] == bad and reason in unranked["reason"]


def test_an_admin_hides_a_run_from_rankings_and_pages_and_shows_it_again(submission_server, local_run):
    client, token, db_url = submission_server
    run = _post(client, token, local_run).json()["run"]
    _ranked(client)
    hidden = CliRunner().invoke(cli, ["admin", "hide-run", str(run), "--reason", "forged results", "--db", db_url])
    assert hidden.exit_code == 0, hidden.output
    eventually(lambda: client.get(f"/api/suites/{SUITE}").json(), lambda page: page["entries"] == [])
    page = client.get(f"/api/runs/{run}")
    assert page.status_code == 404 and "forged results" in page.json()["detail"]
    assert client.get(f"/api/runs/{run}/episodes.csv").status_code == 404
    shown = CliRunner().invoke(cli, ["admin", "unhide-run", str(run), "--db", db_url])
    assert shown.exit_code == 0, shown.output
    _ranked(client)
    missing = CliRunner().invoke(cli, ["admin", "hide-run", "9999", "--reason", "x", "--db", db_url])
    assert missing.exit_code == 1 and "there is no run 9999" in missing.output


# -- V5: an entry belongs to the token that made it --------------------------------------

def test_another_token_cannot_take_over_an_agents_entry(db_url, local_run):
    victim, attacker = _tokens(db_url, "victim", "mallory")
    with TestClient(create_app(db_url, reps=200)) as client:
        assert _post(client, victim, local_run).status_code == 201
        (entry,) = _ranked(client)["entries"]
        worse = copy.deepcopy(local_run)  # the victim's public identity, worse returns
        for episode in worse["episodes"]:
            if episode["task_id"] == "classic/CartPole-v1":
                episode["episode_return"], episode["length"], episode["env_steps"] = 9.0, 9, 9
                episode["success"], episode["terminated"], episode["truncated"] = False, True, False
        assert _post(client, attacker, worse).status_code == 201
        page = _ranked(client, count=2)
    owners = {e["owner"]: e for e in page["entries"]}
    assert set(owners) == {"victim", "mallory"}
    assert owners["victim"]["run"] == entry["run"] and owners["victim"]["iqm"] == entry["iqm"]
    assert owners["victim"]["agent_id"] != owners["mallory"]["agent_id"]


# -- V6: the quota is atomic and counts refused uploads ----------------------------------

def test_concurrent_uploads_cannot_pass_the_quota(db_url, local_run):
    (token,) = _tokens(db_url, "racer", quota=3)
    body = json.dumps(local_run).encode()
    with running_server(create_app(db_url, reps=200)) as url:
        def upload(_: int) -> int:
            request = urllib.request.Request(f"{url}/api/submissions/results", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    return answer.status
            except urllib.error.HTTPError as exc:
                return exc.code

        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(upload, range(30)))
    assert statuses.count(201) == 3 and statuses.count(429) == 27, statuses
    with ResultsStore(db_url) as store:
        assert len([r for r in store.list_runs() if r.kind == "self-reported"]) == 3


def test_refused_uploads_count_against_the_quota(db_url, local_run):
    (token,) = _tokens(db_url, "typo", quota=2)
    with TestClient(create_app(db_url, reps=200)) as client:
        assert _post(client, token, {"suite": SUITE}).status_code == 422
        archive = client.post("/api/submissions/agent", data={"suite": SUITE}, files={"archive": ("a.tar.gz", b"junk")},
                              headers={"Authorization": f"Bearer {token}"})
        assert archive.status_code == 422
        third = _post(client, token, local_run)
    assert third.status_code == 429 and "refused uploads count too" in third.json()["detail"]


# -- V7: archives are inspected as they stream, stopping at the first breach -------------

def _stream_then_garbage(members: int, size: int = 0) -> bytes:
    """A tar.gz whose first ``members`` members are well formed and whose rest is not a
    tar at all: only an inspection that stops at a limit never reaches the garbage."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w|") as archive:
        for index in range(members):
            info = tarfile.TarInfo(f"f{index}")
            info.size = size
            archive.addfile(info, io.BytesIO(b"\0" * size) if size else None)
    tar = buffer.getvalue()[: -1024]  # without the end-of-archive blocks
    import gzip

    return gzip.compress(tar + b"garbage!" * 4096, mtime=0)  # the same bytes in every test process


@pytest.mark.parametrize("archive, reason", [
    (_stream_then_garbage(MAX_FILES + 1), f"more than {MAX_FILES} files"),
], ids=["too-many-files"])
def test_archive_inspection_stops_at_the_first_breach_and_is_charged(submission_server, archive, reason):
    client, token, db_url = submission_server
    answer = client.post("/api/submissions/agent", data={"suite": SUITE}, files={"archive": ("a.tar.gz", archive)},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and reason in answer.json()["detail"], answer.text
    with ResultsStore(db_url) as store:
        assert store.submissions.submitted_since(store.submissions.token(token).id) == 1


def test_a_member_over_the_size_limit_is_refused_at_its_header(submission_server):
    from gymarena.leaderboard.packages import PackageError, inspect_archive

    header = tarfile.TarInfo("big.bin")
    header.size = MAX_UNPACKED_BYTES + 1
    import gzip

    bomb = gzip.compress(header.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 4096)  # the data never follows
    with pytest.raises(PackageError, match="unpacks to more than"):
        inspect_archive(bomb)


def _package(manifest: str, directories: tuple[str, ...] = (), files: tuple[str, ...] = ("agent.py", "runs/x")) -> bytes:
    """A tar.gz of a package with this manifest, these directories and these (tiny) files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in directories:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for name, data in [("gymarena-agent.toml", manifest.encode()), *((f, b"x = 1\n") for f in files)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("manifest, directories, reason", [
    ('checkpoints = ["runs/./x"]', (), "plain relative path"),  # failed in the worker as KeyError
    ('checkpoints = ["runs//x"]', (), "plain relative path"),
    ('checkpoints = ["runs"]', ("runs",), "'runs' that the manifest lists is not a file"),
    ('checkpoints = ["agent.py"]', (), "cannot also be a checkpoint"),  # was left out of the code's digest
    ('version = "1\\u0000"', (), "NUL"),
])
def test_a_manifest_the_worker_could_not_play_is_refused_at_upload(manifest, directories, reason):
    from gymarena.leaderboard.packages import PackageError, inspect_archive

    text = f'name = "a"\nentry_point = "agent.py:make_agent"\n{manifest}\n'
    with pytest.raises(PackageError, match=reason):
        inspect_archive(_package(text, directories))
    assert inspect_archive(_package('name = "a"\nentry_point = "agent.py:make_agent"\ncheckpoints = ["runs/x"]\n'))


# -- V13, V14: client text is never a path, huge ids are nothing -------------------------

@pytest.mark.parametrize("suite", ["gymarena/suites/quickstart.toml", "/etc/hostname", "../../etc/passwd", "quickstart"])
def test_the_suite_field_names_a_registered_suite_only(submission_server, local_run, suite):
    client, token, _ = submission_server
    payload = copy.deepcopy(local_run)
    payload["suite"] = suite
    answer = _post(client, token, payload)
    assert answer.status_code == 422, answer.text
    assert "quickstart@1" in answer.json()["detail"] or "no suite" in answer.json()["detail"]
    agent = client.post("/api/submissions/agent", data={"suite": suite}, files={"archive": ("a.tar.gz", b"x")},
                        headers={"Authorization": f"Bearer {token}"})
    assert agent.status_code == 422
    if "/" in suite:  # a page by name (no version) is the newest version's; a path is nothing
        assert client.get(f"/api/suites/{suite.replace('/', '%2F')}").status_code == 404


@pytest.mark.parametrize("path", ["/api/runs/{n}", "/runs/{n}", "/api/runs/{n}/episodes.csv", "/api/runs/{n}/episodes.json",
                                  "/runs/{n}/scores.svg", "/api/agents/{n}", "/agents/{n}", "/api/submissions/{n}",
                                  "/submissions/{n}"])
@pytest.mark.parametrize("number", [2**63, 10**30, -1])
def test_ids_beyond_what_the_database_holds_are_404(submission_server, path, number):
    client, _, _ = submission_server
    assert client.get(path.format(n=number)).status_code == 404
