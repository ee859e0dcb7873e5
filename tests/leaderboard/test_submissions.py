"""Tokens and self-reported results: authentication, quotas, size limits, the server's
protocol / completeness / plausibility checks, literal storage of hostile text, and the
`gymarena submit results` client against a live server."""

from __future__ import annotations

import copy
import json

import pytest
from fastapi.testclient import TestClient
from leaderboard_data import eventually, running_server
from sqlalchemy import select
from typer.testing import CliRunner

from gymarena.cli import app as cli
from gymarena.leaderboard.app import create_app
from gymarena.leaderboard.uploads import results_payload
from gymarena.results import ResultsStore
from gymarena.results.models import TokenRow
from gymarena.runner import EvalRequest, evaluate

HOSTILE = "x'); DROP TABLE runs; -- \" <script>alert(1)</script>"


@pytest.fixture
def local_run(tmp_path):
    """A complete local run of the installed quickstart suite, as `submit results` sends it."""
    with ResultsStore(f"sqlite:///{tmp_path / 'local.sqlite'}") as store:
        run = evaluate(EvalRequest(suite="quickstart"), store).run
        return results_payload(store, run.id)


@pytest.fixture
def server(db_url):
    """(client, token, db url) of a server with one token holder."""
    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("alice", daily_quota=5)
    with TestClient(create_app(db_url, reps=200, max_upload_bytes=2_000_000)) as client:
        yield client, token, db_url


def _post(client, token, payload, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/submissions/results", content=json.dumps(payload), headers=headers)


def test_tokens_are_shown_once_and_stored_hashed(sqlite_url):
    result = CliRunner().invoke(cli, ["admin", "create-token", "--name", "bob", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("gya_") and len(token) > 40
    with ResultsStore(sqlite_url) as store:
        with store.engine.connect() as connection:
            stored = connection.execute(select(TokenRow.token_hash)).scalar_one()
        assert stored != token and token not in stored
        assert store.submissions.token(token).name == "bob"
        assert store.submissions.token(token + "x") is None
    again = CliRunner().invoke(cli, ["admin", "create-token", "--name", "bob", "--db", sqlite_url])
    assert again.exit_code == 1 and "already a token named 'bob'" in again.output


def test_writes_need_a_valid_live_token(server, local_run):
    client, token, db_url = server
    assert _post(client, None, local_run).status_code == 401
    assert _post(client, "gya_wrong", local_run).status_code == 401
    assert _post(client, None, local_run, Authorization=f"Basic {token}").status_code == 401
    with ResultsStore(db_url) as store:
        store.submissions.revoke_token("alice")
    assert _post(client, token, local_run).status_code == 401


def test_complete_results_are_ranked_as_self_reported(server, local_run):
    client, token, _ = server
    answer = _post(client, token, local_run)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "finished" and body["kind"] == "self-reported"
    ranking = eventually(lambda: client.get("/api/suites/quickstart@1").json(), lambda page: page["entries"])
    assert [(e["agent"], e["kind"], e["run"]) for e in ranking["entries"]] == [("random", "self-reported", body["run"])]
    status = client.get(f"/api/submissions/{body['submission']}").json()
    assert status["status"] == "finished" and status["run"] == body["run"]
    assert "finished" in client.get(f"/submissions/{body['submission']}").text
    episodes = client.get(f"/api/runs/{body['run']}/episodes.json").json()["episodes"]
    assert len(episodes) == len(local_run["episodes"]) == 30


def _without_one_episode(payload):
    payload["episodes"].pop(7)


def _other_seeds(payload):
    for task in payload["tasks"]:
        task["seeds"] = [5, 6, 7]


def _other_seeds_rehashed(payload):
    """A run under other seeds, honestly hashed: not the server's protocol."""
    from gymarena.protocol import TaskProtocol
    from gymarena.tasks import TaskSpec

    _other_seeds(payload)
    for task in payload["tasks"]:
        task["protocol_hash"] = TaskProtocol(TaskSpec.from_json_dict(task["spec"]), tuple(task["seeds"]),
                                             task["simulator_versions"], task["metric_definitions"]).hash


def _over_the_step_limit(payload):
    payload["episodes"][0]["length"] = payload["episodes"][0]["env_steps"] = 10_000


def _success_against_the_rule(payload):
    episode = next(e for e in payload["episodes"] if e["task_id"] == "classic/CartPole-v1")
    episode["success"] = not episode["success"]


def _forged_seed(payload):
    payload["episodes"][3]["episode_seed"] += 1


def _duplicate(payload):
    payload["episodes"].append(copy.deepcopy(payload["episodes"][0]))


@pytest.mark.parametrize("tamper, reason", [
    (_without_one_episode, "1 of the protocol's 30 episodes are missing"),
    (_other_seeds, "the protocol hash of classic/CartPole-v1, minigrid/DoorKey-5x5-v0 does not match"),
    (_other_seeds_rehashed, "the protocol differs from this server's quickstart@1: classic/CartPole-v1: seeds [5, 6, 7] instead of [0, 1, 2]"),
    (_over_the_step_limit, "10000 steps, over the task's limit of 500"),
    (_success_against_the_rule, "contradicts the task's rule"),
    (_forged_seed, "is not the one the runner derives"),
    (_duplicate, "given more than once"),
])
def test_incomplete_foreign_or_implausible_results_are_refused_with_the_reason(server, local_run, tamper, reason):
    client, token, _ = server
    payload = copy.deepcopy(local_run)
    tamper(payload)
    answer = _post(client, token, payload)
    assert answer.status_code == 422
    assert reason in " ".join(answer.json()["detail"])
    status = client.get(f"/api/submissions/{answer.json()['submission']}").json()
    assert status["status"] == "failed" and reason in status["reason"]
    assert client.get("/api/suites/quickstart@1").json()["entries"] == []


def test_malformed_uploads_are_422_and_oversized_ones_413(server, local_run):
    client, token, _ = server
    assert _post(client, token, {"suite": "quickstart@1"}).status_code == 422
    broken = client.post("/api/submissions/results", content=b"{not json", headers={"Authorization": f"Bearer {token}"})
    assert broken.status_code == 422
    big = client.post("/api/submissions/results", content=b" " * 3_000_000, headers={"Authorization": f"Bearer {token}"})
    assert big.status_code == 413 and "limit" in big.json()["detail"]


def test_hostile_text_is_stored_literally_and_breaks_nothing(server, local_run):
    client, token, _db_url = server
    payload = copy.deepcopy(local_run)
    payload["agent"]["name"] = payload["agent"]["version"] = HOSTILE
    payload["agent"]["reference"] = HOSTILE + " ref"
    payload["provenance"] = {HOSTILE: HOSTILE}
    payload["config"]["note"] = HOSTILE
    for episode in payload["episodes"]:
        episode["extra"] = {"note": HOSTILE}
    answer = _post(client, token, payload)
    assert answer.status_code == 201, answer.text
    ranking = eventually(lambda: client.get("/api/suites/quickstart@1").json(), lambda page: page["entries"])
    assert ranking["entries"][0]["agent"] == HOSTILE
    page = client.get("/suites/quickstart@1").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page  # escaped, not executed
    run = client.get(f"/api/runs/{answer.json()['run']}").json()
    assert run["run"]["provenance"] == {HOSTILE: HOSTILE}
    unknown_suite = copy.deepcopy(local_run)
    unknown_suite["suite"] = HOSTILE
    refused = _post(client, token, unknown_suite)
    assert refused.status_code == 422 and "no suite" in refused.json()["detail"]
    assert client.get("/api/suites").status_code == 200  # the runs table is still there


def test_quota_limits_submissions_per_day(db_url, local_run):
    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("carol", daily_quota=1)
    with TestClient(create_app(db_url, reps=200)) as client:
        assert _post(client, token, local_run).status_code == 201
        second = _post(client, token, local_run)
        assert second.status_code == 429 and "1 submissions of the last 24 hours" in second.json()["detail"]


def test_submit_results_command_uploads_a_local_run(tmp_path, sqlite_url):
    local = f"sqlite:///{tmp_path / 'mine.sqlite'}"
    with ResultsStore(local) as store:
        run = evaluate(EvalRequest(suite="quickstart"), store).run
    with ResultsStore(sqlite_url) as store:
        token = store.submissions.create_token("dave")
    with running_server(create_app(sqlite_url, reps=200)) as url:
        result = CliRunner().invoke(cli, ["submit", "results", str(run.id), "--server", url, "--token", token, "--db", local])
        assert result.exit_code == 0, result.output
        assert "finished, stored as run 1 (self-reported)" in result.stdout
        refused = CliRunner().invoke(cli, ["submit", "results", str(run.id), "--server", url, "--token", "gya_nope", "--db", local])
        assert refused.exit_code == 1 and "refused the request (401)" in refused.output


def test_submit_results_groups_runs_as_one_algorithm_of_the_token(tmp_path, sqlite_url):
    """Several checkpoints' runs, sent with --algorithm, rank as one entry over its runs; the
    owner is the token, so another token's runs under the same name are another entry."""
    from gymarena.leaderboard import leaderboard

    local = f"sqlite:///{tmp_path / 'mine.sqlite'}"
    agents = []
    for action in (0, 1):  # two "checkpoints": distinct code, distinct agents
        path = tmp_path / f"checkpoint{action}.py"
        path.write_text("def make_agent(task, obs, act):\n    return Agent()\n\n\nclass Agent:\n"
                        "    def reset(self, seed=None):\n        pass\n\n"
                        f"    def act(self, observation):\n        return {action}\n")
        agents.append(f"{path}:make_agent")
    with ResultsStore(local) as store:
        runs = [evaluate(EvalRequest(suite="quickstart", agent=a), store).run for a in agents]
        task_run = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), agent=agents[0]), store).run
    with ResultsStore(sqlite_url) as store:
        token = store.submissions.create_token("erin")
        other = store.submissions.create_token("frank")
    with running_server(create_app(sqlite_url, reps=200)) as url:
        refused = CliRunner().invoke(cli, ["submit", "results", str(runs[0].id), str(task_run.id), "--algorithm", "mine@1",
                                           "--server", url, "--token", token, "--db", local])
        assert refused.exit_code == 1 and "single tasks, not a suite" in refused.output  # checked before any is sent
        sent = CliRunner().invoke(cli, ["submit", "results", *(str(r.id) for r in runs), "--algorithm", "mine@1",
                                        "--server", url, "--token", token, "--db", local, "--json"])
        assert sent.exit_code == 0, sent.output
        assert [a["status"] for a in json.loads(sent.stdout)] == ["finished", "finished"]
        again = CliRunner().invoke(cli, ["submit", "results", str(runs[0].id), "--algorithm", "mine@1",
                                         "--server", url, "--token", other, "--db", local])
        assert again.exit_code == 0 and "finished, stored as run 3" in again.stdout, again.output
    with ResultsStore(sqlite_url) as store:
        entries = leaderboard(store, "quickstart", reps=200).entries
        assert sorted((e.agent, e.owner, e.runs, e.unit) for e in entries) == [("mine", "erin", 2, "runs"),
                                                                             ("mine", "frank", 1, "seeds")]
        (stored,) = [store.get_run(e.run_id) for e in entries if e.owner == "erin"]
        assert stored.algorithm.label == "mine@1" and stored.kind == "self-reported"


@pytest.mark.parametrize("algorithm", [{"name": HOSTILE}, {"name": "ppo", "code_hash": "not-a-digest"},
                                       {"name": "ppo", "owner": "alice"}, {"name": ""}])
def test_an_uploaded_algorithm_is_checked_like_every_field(server, local_run, algorithm):
    """A client cannot name a malformed algorithm, nor choose whose entry its run joins."""
    client, token, _ = server
    refused = _post(client, token, {**local_run, "algorithm": algorithm})
    assert refused.status_code == 422 and "algorithm" in refused.json()["detail"]


@pytest.mark.parametrize("field, tamper", [
    ("algorithm.version", lambda p: p.update(algorithm={"name": "ppo", "version": "1\x00"})),
    ("agent.name", lambda p: p["agent"].update(name="evil\x00")),
    ("agent.version", lambda p: p["agent"].update(version="\x00")),
    ("a key of provenance", lambda p: p.update(provenance={"k\x00": 1})),
    ("episodes[0].extra.note", lambda p: p["episodes"][0].update(extra={"note": "a\x00b"})),
])
def test_text_no_database_stores_is_refused_before_anything_is_accepted(server, local_run, field, tamper):
    """N1: a NUL accepted into a JSON field froze the suite's page on PostgreSQL (every later
    write of it failed), and one in the agent's name was a 500. Refused, naming the field;
    the next clean upload is ranked."""
    client, token, _ = server
    payload = copy.deepcopy(local_run)
    tamper(payload)
    refused = _post(client, token, payload)
    assert refused.status_code == 422 and field in refused.json()["detail"] and "NUL" in refused.json()["detail"]
    answer = _post(client, token, local_run)
    assert answer.status_code == 201, answer.text
    ranking = eventually(lambda: client.get("/api/suites/quickstart@1").json(), lambda page: page["entries"])
    assert [e["run"] for e in ranking["entries"]] == [answer.json()["run"]]


def test_a_stored_field_no_page_can_hold_never_freezes_the_page(db_url):
    """A run stored before uploads were checked (or by a path that does not check) whose
    algorithm version holds a NUL: its suite's page is still written and served."""
    from gymarena.leaderboard.refresher import RankingRefresher
    from gymarena.records import AlgorithmIdentity

    with ResultsStore(db_url) as store:
        evaluate(EvalRequest(suite="quickstart", algorithm=AlgorithmIdentity("ppo", "v\x00", "")), store)
        assert RankingRefresher(store, reps=200).refresh("quickstart@1")
        (entry,) = store.snapshots.get("quickstart@1").data()["entries"]
        assert entry["agent"] == "ppo" and "\x00" not in store.snapshots.get("quickstart@1").html
