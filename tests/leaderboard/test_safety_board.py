"""The safety board of cav-highway@1: AVs ranked by their NADE crash rate (lower first),
runs short of the suite's RHW listed as not settled, submitted AVs tested sandboxed on
the hidden seed through `gymarena worker`, and uploads of estimates refused."""

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
    suite = load_suite(SUITE)
    with ResultsStore(db_url) as store:
        for av in ("cav:cautious", "cav:idm"):
            evaluate_cav_suite(store, suite, av, say=quiet)
        board = rank_safety(store, SUITE, suite_protocol(SUITE), 0.3)
    idm, cautious = board.entries
    assert (idm.agent, idm.rank, cautious.agent, cautious.rank) == ("idm", 1, "cautious", 2)
    assert idm.settled and cautious.settled and idm.relative_half_width <= 0.3
    assert idm.high < cautious.low  # the intervals separate: the order is not luck
    assert idm.low <= idm.crash_rate <= idm.high
    with TestClient(create_app(db_url, reps=100)) as client:
        page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(), lambda page: len(page["entries"]) == 2)
        assert page["board"] == "cav" and [e["agent"] for e in page["entries"]] == ["idm", "cautious"]
        html = client.get(f"/suites/{SUITE}").text
        assert "ranked by its crash rate per test, lowest first" in html and "<svg" in html
        index = client.get("/").text
        assert "cav-highway@1" in index and ">cav<" in index


def test_a_run_short_of_the_rhw_is_listed_as_not_settled(store, tmp_path):
    path = tmp_path / "cav-short.toml"
    path.write_text('name = "cav-short"\nversion = 1\nseeds = [0]\nboard = "cav"\n[cav]\nuntil_rhw = 0.3\n'
                    'batch_size = 4096\nepsilon = 0.1\n[[tasks]]\nid = "cav/Highway2Lane-NADE-v0"\nepisodes = 4096\n')
    suite = load_suite(str(path))
    for av in ("cav:cautious", "cav:aggressive"):
        evaluate_cav_suite(store, suite, av, say=quiet)
    board = rank_safety(store, suite.label, suite_protocol(str(path)), 0.3)
    settled = {e.agent: (e.settled, e.rank) for e in board.entries}
    # cautious needs ~3,300 tests for RHW 0.3; aggressive's rarer crashes ~14,000
    assert settled == {"cautious": (True, 1), "aggressive": (False, None)}
    assert board.entries[-1].agent == "aggressive"  # below every settled AV, though its estimate is lower
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
    assert client.get(f"/api/submissions/{careful['submission']}").json()["status"] == "finished"
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
