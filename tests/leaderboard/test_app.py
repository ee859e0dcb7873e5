"""The leaderboard web app: pages, the JSON API that mirrors them, downloads, 404s and
the ranking cache. (The browser test is tests/test_leaderboard_browser.py.)"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import leave_run
from fastapi.testclient import TestClient
from leaderboard_data import eventually, play_both, tiny_suite
from sqlalchemy import text

from gymarena.leaderboard.app import create_app
from gymarena.results import ResultsStore
from gymarena.runner import EvalRequest, evaluate

SUITE = "tiny@1"


@pytest.fixture
def served(db_url, tmp_path):
    """A client of the app over a database holding two ranked agents, and that database."""
    suite = tiny_suite(tmp_path)
    with ResultsStore(db_url) as store:
        play_both(store, suite, tmp_path)
    with TestClient(create_app(db_url, reps=200)) as client:
        yield client, suite


def test_every_page_has_its_json_twin(served):
    client, _ = served
    ranking = client.get(f"/api/suites/{SUITE}").json()
    assert [e["agent"] for e in ranking["entries"]] == ["make_agent", "random"]
    first = ranking["entries"][0]
    assert first["rank_interval"] == [1, 1] and first["kind"] == "local"
    page = client.get(f"/suites/{SUITE}")
    assert page.status_code == 200 and "make_agent" in page.text and "<svg" in page.text  # the IQM plot, inline
    suites = client.get("/api/suites").json()["suites"]
    assert {"suite": SUITE, "families": [], "board": "scores", "complete_runs": 2, "tasks": None,
            "description": "not installed on this server", "unavailable": None} in suites
    assert "quickstart@1" in [s["suite"] for s in suites]  # installed, no runs yet
    run = client.get(f"/api/runs/{first['run']}").json()
    agent_id = run["run"]["agent_id"]
    agent = client.get(f"/api/agents/{agent_id}").json()
    assert agent["agent"]["name"] == "make_agent"
    tasks = {t["task"]: t for t in agent["runs"][0]["tasks"]}
    assert tasks["classic/CartPoleShort-v1"]["normalised"]["point"] == pytest.approx(1.0)
    assert tasks["classic/Acrobot-v1"]["normalised"] is None  # no score references
    assert "scores.svg" in client.get(f"/agents/{agent_id}").text
    plot = client.get(f"/runs/{first['run']}/scores.svg")
    assert plot.headers["content-type"].startswith("image/svg+xml") and "<svg" in plot.text


def test_run_page_pages_episodes_and_downloads_them_whole(served):
    client, _ = served
    run = client.get("/api/runs/1").json()
    assert run["pages"] == 1 and len(run["episodes"]) == 36  # 3 tasks x 4 seeds x 3 episodes
    assert run["run"]["provenance"]["python"]
    download = client.get("/api/runs/1/episodes.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 36 and rows[0]["task_id"] == "classic/CartPole-v1"
    assert len(client.get("/api/runs/1/episodes.json").json()["episodes"]) == 36
    page = client.get("/runs/1")
    assert "episodes.csv" in page.text and "Provenance" in page.text


@pytest.mark.parametrize("path", ["/suites/no-such-suite", "/runs/999", "/agents/999"])
def test_unknown_things_are_404_in_pages_and_api(served, path):
    client, _ = served
    page, api = client.get(path), client.get("/api" + path)
    assert page.status_code == api.status_code == 404
    assert "no" in api.json()["detail"] and "<html" in page.text


def test_the_cached_ranking_follows_new_results(served, db_url, tmp_path):
    client, suite = served
    before = client.get(f"/api/suites/{SUITE}").json()
    assert client.get(f"/api/suites/{SUITE}").json() == before  # served from the cache
    with ResultsStore(db_url) as store:
        evaluate(EvalRequest(suite=suite, agent="random", fresh=True), store)
    # The previous ranking is served while the new one is computed in the background.
    deadline = time.monotonic() + 30
    while [e["superseded_runs"] for e in client.get(f"/api/suites/{SUITE}").json()["entries"]] != [0, 1]:
        assert time.monotonic() < deadline, "the ranking never caught up with the new run"
        time.sleep(0.05)


def test_page_views_read_the_stored_ranking_and_the_refresher_recomputes_it(db_url, tmp_path):
    """Without an in-process refresher (as under ``gymarena serve``), a page view computes
    a suite's page only the first time; afterwards it serves what the refresher stored."""
    from gymarena.leaderboard.refresher import RankingRefresher

    suite = tiny_suite(tmp_path)
    with ResultsStore(db_url) as store:
        play_both(store, suite, tmp_path)
        with TestClient(create_app(db_url, reps=200, refresh_in_process=False)) as client:
            before = client.get(f"/api/suites/{SUITE}").json()
            assert store.snapshots.serial(SUITE) == 1
            evaluate(EvalRequest(suite=suite, agent="random", fresh=True), store)
            assert client.get(f"/api/suites/{SUITE}").json() == before  # the stored page, not recomputed
            refresher = RankingRefresher(store, reps=200)
            assert refresher.refresh(SUITE) is True and refresher.refresh(SUITE) is False  # only when inputs move
            after = client.get(f"/api/suites/{SUITE}").json()
            assert [e["superseded_runs"] for e in after["entries"]] == [0, 1] and store.snapshots.serial(SUITE) == 2


def test_serve_runs_one_refresher_beside_its_workers_and_stops_them_all(sqlite_url, tmp_path):
    suite = tiny_suite(tmp_path)
    with ResultsStore(sqlite_url) as store:
        play_both(store, suite, tmp_path)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gymarena", "serve", "--db", sqlite_url, "--port", str(port),
                               "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/api/suites/{SUITE}"
    try:
        first = eventually(lambda: _get_json(url), lambda page: page is not None)
        assert [e["superseded_runs"] for e in first["entries"]] == [0, 0]
        children = _descendants(server.pid)
        assert len(children) >= 3  # two workers and the refresher (uvicorn may add a supervisor helper)
        spawned = [pid for pid in children if b"gymarena.leaderboard.refresher" in _cmdline(pid)]
        refresher = min(spawned, key=_started_at)  # started before uvicorn's workers
        os.kill(refresher, signal.SIGKILL)  # a refresher that dies is replaced
        eventually(lambda: set(_descendants(server.pid)) - set(children), lambda new: new)
        with ResultsStore(sqlite_url) as store:
            evaluate(EvalRequest(suite=suite, agent="random", fresh=True), store)
        eventually(lambda: _get_json(url), lambda page: [e["superseded_runs"] for e in page["entries"]] == [0, 1])
        children = _descendants(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in children):
        assert time.monotonic() < deadline, "serve left processes behind"
        time.sleep(0.1)


@pytest.mark.parametrize("stopped_by", ["sigterm", "ctrl-c"])
@pytest.mark.parametrize("when", ["starting", "serving"])
def test_sigterm_and_ctrl_c_stop_serve_and_its_refresher_whenever_they_come(sqlite_url, when, stopped_by):
    port = _free_port()
    # its own session: Ctrl-C is SIGINT to the whole process group, as a terminal sends it
    server = subprocess.Popen([sys.executable, "-m", "gymarena", "serve", "--db", sqlite_url, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        if when == "serving":
            eventually(lambda: _get_json(f"http://127.0.0.1:{port}/api/suites"), lambda page: page is not None)
        else:  # once the refresher process is up, before uvicorn is
            eventually(lambda: _descendants(server.pid), lambda children: any(
                b"gymarena.leaderboard.refresher" in _cmdline(pid) for pid in children))
        children = _descendants(server.pid)
        if stopped_by == "sigterm":
            server.send_signal(signal.SIGTERM)
        else:
            os.killpg(server.pid, signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in children):
        assert time.monotonic() < deadline, "serve left its refresher behind"
        time.sleep(0.1)


def test_the_api_answers_at_its_root_with_what_it_holds(sqlite_url):
    with TestClient(create_app(sqlite_url, reps=200, refresh_in_process=False)) as client:
        for path in ("/api", "/api/"):
            index = client.get(path)
            assert index.status_code == 200 and index.json()["pages"]["run"] == "/api/runs/{id}"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())
    except OSError:  # not listening yet
        return None


def _started_at(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (a thread or process that ends while it is
    read has no children left to list)."""
    children: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    for task in tasks:
        try:
            children.extend(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            continue
    return children + [d for c in children for d in _descendants(c)]


def test_the_memo_recomputes_on_a_new_version_and_forgets_the_least_recently_used():
    from gymarena.leaderboard.cache import Memo

    memo, computed = Memo(max_entries=2), []

    def value(name):
        computed.append(name)
        return name.upper()

    assert memo.get("a", 1, lambda: value("a")) == memo.get("a", 1, lambda: value("a")) == "A"
    assert memo.get("a", 2, lambda: value("a2")) == "A2"  # a new version is recomputed
    memo.get("b", 1, lambda: value("b"))
    memo.get("a", 2, lambda: value("a3"))  # a is now the most recently used
    memo.get("c", 1, lambda: value("c"))  # over the bound: b goes
    memo.get("a", 2, lambda: value("a4"))
    memo.get("b", 1, lambda: value("b2"))
    assert computed == ["a", "a2", "b", "c", "b2"]


def test_episode_pages_cut_across_tasks_in_plan_order(db_url, tmp_path):
    with ResultsStore(db_url) as store:
        run = evaluate(EvalRequest(suite=tiny_suite(tmp_path)), store).run
        everything = [r.outcome_fields() for r in store.episodes(run.id)]
        for complete in (True, False):  # counted from the stored per-seed means, and by counting
            if not complete:
                leave_run(store, run.id, "interrupted")
                with store.engine.begin() as connection:
                    connection.execute(text("DELETE FROM seed_means WHERE run_id = :id"), {"id": run.id})
            for offset, limit in [(0, 5), (10, 4), (11, 3), (12, 12), (30, 10), (36, 5)]:
                page = store.episodes_page(run.id, offset, limit)
                assert [r.outcome_fields() for r in page] == everything[offset:offset + limit], (complete, offset, limit)
