"""The safety board of cav-highway@1: AVs ranked by their NADE crash rate (lower first),
runs short of the suite's RHW or of a trusted interval listed as not settled with the
reason, submitted AVs tested sandboxed on the hidden seed through `gymarena worker`, and
uploads of estimates refused."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from leaderboard_data import agent_package, eventually, upload_agent
from typer.testing import CliRunner

from gymarena.cavtest.suite import evaluate_cav_suite
from gymarena.cli import app as cli
from gymarena.installed import suite_protocol
from gymarena.leaderboard.app import create_app
from gymarena.leaderboard.packages import pack_directory
from gymarena.leaderboard.safety import rank_safety
from gymarena.results import ResultsStore
from gymarena.suites import load_suite
from gymarena.views import safety_shown

SUITE = "cav-highway@1"
quiet = lambda line: None  # noqa: E731

# A submitted AV, driving by its act_batch BODY. Observation (avs.OBSERVATION), a row per
# test: speed, lane, can go left/right, then gap and speed of the nearest vehicle ahead in
# its lane (columns 4, 5), behind it, and so on.
AV = '''
import numpy as np


class Agent:
    def __init__(self, task, observation_space, action_space):
        pass

    def reset(self, seed=None):
        pass

    def act(self, observation):
        return [0.0, 0.0]

    def act_batch(self, observations):
        observations = np.asarray(observations)
{body}
'''
# holds its lane and brakes whenever the car ahead in its lane is near
CAREFUL = AV.format(body="""        gap_ahead = observations[:, 4]
        return np.where(gap_ahead < 20.0, -4.0, 0.5), np.zeros(len(gap_ahead), dtype=np.int64)""")
NAN_ACCELERATIONS = AV.format(body="""        return np.full(len(observations), np.nan), np.zeros(len(observations), dtype=np.int64)""")


def test_built_in_avs_are_ordered_by_their_crash_rate_and_the_page_says_how(db_url):
    """cautious and acc settle on cav-highway@1 (in 12,288 and 32,768 tests on its seed),
    ranked by their estimates."""
    suite = load_suite(SUITE)
    with ResultsStore(db_url) as store:
        for av in ("cav:cautious", "cav:acc"):
            evaluate_cav_suite(store, suite, av, say=quiet)
        board = rank_safety(store, SUITE, suite_protocol(SUITE), 0.3)
    assert [e.settled for e in board.entries] == [True, True], [e.why_not_settled for e in board.entries]
    assert [e.rank for e in board.entries] == [1, 2]
    assert board.entries[0].crash_rate <= board.entries[1].crash_rate
    for entry in board.entries:
        assert entry.low <= entry.crash_rate <= entry.high and entry.relative_half_width <= 0.3
        diagnostics = entry.diagnostics or {}
        assert diagnostics["unseen_allowance"] <= 0.5 * diagnostics["estimate"] and entry.crashes >= 25
    with TestClient(create_app(db_url, reps=100)) as client:
        page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(), lambda page: len(page["entries"]) == 2)
        assert page["board"] == "cav" and [e["agent"] for e in page["entries"]] == [e.agent for e in board.entries]
        assert all(e["diagnostics"]["effective_crashes"] > 0 and e["why_not_settled"] is None for e in page["entries"])
        html = client.get(f"/suites/{SUITE}").text
        assert "ranked by its crash rate per test, lowest first" in html and "<svg" in html
        assert "barely" in html and "may hide" in html
        index = client.get("/").text
        assert "cav-highway@1" in index and ">cav<" in index


def test_a_run_short_of_the_rhw_or_of_trust_is_listed_as_not_settled_with_the_reason(store, tmp_path):
    path = tmp_path / "cav-short.toml"
    path.write_text('name = "cav-short"\nversion = 1\nseeds = [0]\nboard = "cav"\n[cav]\nuntil_rhw = 0.3\n'
                    'batch_size = 4096\nepsilon = 0.1\n[[tasks]]\nid = "cav/Highway2Lane-NADE-v0"\nepisodes = 4096\n')
    suite = load_suite(str(path))
    for av in ("cav:cautious", "cav:aggressive"):
        evaluate_cav_suite(store, suite, av, say=quiet)
    board = rank_safety(store, suite.label, suite_protocol(str(path)), 0.3)
    reasons = {e.agent: e.why_not_settled for e in board.entries}
    assert [e.settled for e in board.entries] == [False, False] and [e.rank for e in board.entries] == [None, None]
    # cautious reaches the half-width in 4,096 tests, but its 2,300 barely steered tests could still hide
    # more than the whole estimate; aggressive's rarer crashes leave even the half-width short
    cautious = next(e for e in board.entries if e.agent == "cautious")
    assert cautious.relative_half_width is not None and cautious.relative_half_width <= 0.3
    assert "barely steered tests may hide" in reasons["cautious"], reasons
    assert reasons["aggressive"].startswith("relative half-width"), reasons
    shown = safety_shown(board)
    assert any(note.startswith(f"not settled: run {cautious.run_id} (cautious): the ") for note in shown.notes)
    bad = path.read_text().replace("until_rhw = 0.3", "until_rhw = 3.0")
    path.write_text(bad)
    with pytest.raises(Exception, match="until_rhw"):
        evaluate_cav_suite(store, load_suite(str(path)), "cav:idm", say=quiet)


def test_a_submitted_av_is_tested_sandboxed_on_the_hidden_seed_through_gymarena_worker(submission_server, tmp_path):
    client, token, db_url = submission_server
    careful = upload_agent(client, token, pack_directory(agent_package(tmp_path / "careful", "careful", CAREFUL)),
                           suite=SUITE).json()
    broken = upload_agent(client, token, pack_directory(agent_package(tmp_path / "nan", "nan", NAN_ACCELERATIONS)),
                          suite=SUITE).json()
    worked = CliRunner().invoke(cli, ["worker", "--once", "--db", db_url, "--poll", "0.1"])
    assert worked.exit_code == 0, worked.output
    status = client.get(f"/api/submissions/{careful['submission']}").json()
    assert status["status"] == "finished", status.get("reason")
    failed = client.get(f"/api/submissions/{broken['submission']}").json()
    assert failed["status"] == "failed" and "acceleration that is not finite" in failed["reason"]
    page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(),
                      lambda page: page["verified"] and page["verified"]["entries"])
    (entry,) = page["verified"]["entries"]
    assert entry["agent"] == "careful" and entry["kind"] == "verified" and entry["tests"] >= 4096
    with ResultsStore(db_url) as store:
        run = store.get_run(entry["run"])
        hidden = store.submissions.current_hidden_seeds(SUITE)
    assert run.config["seeds"] == hidden != [0] and run.suite == SUITE and run.summary["crashes"] == entry["crashes"]
    assert page["entries"] == []  # nothing on the public seed


def test_estimates_are_never_uploaded_to_a_safety_board(submission_server, tmp_path):
    from gymarena.leaderboard.uploads import results_payload

    client, token, _ = submission_server
    with ResultsStore(f"sqlite:///{tmp_path / 'mine.db'}") as mine:
        run_id, _ = evaluate_cav_suite(mine, load_suite(SUITE), "cav:idm", say=quiet)
        payload = results_payload(mine, run_id)
    refused = client.post("/api/submissions/results", content=json.dumps(payload),
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and "submit the agent instead" in refused.json()["detail"]


def test_the_cli_tests_an_av_on_the_safety_board_and_shows_it(sqlite_url):
    runner = CliRunner()
    played = runner.invoke(cli, ["eval", "--suite", SUITE, "--agent", "cav:cautious", "--db", sqlite_url])
    assert played.exit_code == 0 and "crash rate" in played.output, played.output
    refused = runner.invoke(cli, ["eval", "--suite", SUITE, "--workers", "2", "--db", sqlite_url])
    assert refused.exit_code == 1 and "drop --workers" in refused.output
    shown = json.loads(runner.invoke(cli, ["leaderboard", "--suite", SUITE, "--json", "--db", sqlite_url]).stdout)
    assert shown["board"] == "cav" and [(e["agent"], e["rank"], e["settled"]) for e in shown["entries"]] == [
        ("cautious", 1, True)]
    assert "lowest first" in runner.invoke(cli, ["leaderboard", "--suite", SUITE, "--db", sqlite_url]).stdout
