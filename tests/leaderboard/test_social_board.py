"""The social board of social-core@1: games against a fixed, pinned pool in both roles,
per-role win rates with Wilson intervals, one Bradley-Terry rating with its interval, the
cross-play matrix on the page, and a sandboxed player's games through `gymarena worker`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from leaderboard_data import agent_package, eventually, upload_agent
from typer.testing import CliRunner

from gymarena.cli import app as cli
from gymarena.errors import GymarenaError
from gymarena.installed import suite_protocol
from gymarena.leaderboard.packages import pack_directory
from gymarena.leaderboard.social import rank_social
from gymarena.results import ResultsStore
from gymarena.suites import load_suite
from gymarena.tournament.games import Matchup
from gymarena.tournament.play import evaluate_social_suite

SUITE = "social-core@1"
quiet = lambda line: None  # noqa: E731
SMALL = '''name = "social-small"
version = 1
seeds = [0, 1]
board = "social"
[social]
games = 2
opponents = [{{ name = "scripted", reference = "scripted" }}, {{ name = "random", reference = "{random}" }}]
[[tasks]]
id = "social/Impostor-5p1i-v0"
'''

# A submitted player: for each of its seats, a random allowed action, a skip vote, no words.
MASKED_PLAYER = '''
import json

import numpy as np


class Agent:
    def __init__(self, task, observation_space, action_space):
        self.action_space = action_space

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, observations):
        actions = {}
        for seat, observation in observations.items():
            mask = observation["action_mask"]
            sampled = self.action_space[seat].sample(mask={"action": mask["action"].astype(np.int8),
                                                            "vote": mask["vote"].astype(np.int8)})
            actions[seat] = {**sampled, "message": "", "vote": int(np.flatnonzero(mask["vote"])[-1])}
        return actions
'''


def _small_suite(tmp_path, random="random") -> str:
    path = tmp_path / "social-small.toml"
    path.write_text(SMALL.format(random=random))
    return str(path)


def test_the_pool_is_pinned_in_the_protocol_and_each_game_has_its_opponent_and_role(store, tmp_path):
    suite = load_suite(_small_suite(tmp_path))
    (task,) = suite.tasks
    assert task.episodes == 2 * 2 * 2 and [o.name for o in task.pool.opponents] == ["scripted", "random"]
    run_id = evaluate_social_suite(store, suite, "scripted", say=quiet)
    games = store.episodes(run_id)
    cells = {}
    for game in games:
        cells.setdefault((game.seed, game.extra["opponent"], game.extra["role"]), []).append(game)
    assert len(cells) == 2 * 2 * 2 and all(len(cell) == 2 for cell in cells.values())  # every cell, 2 games a seed
    for game in games:  # the tested side's result, from the game's winner
        crew_won = game.extra["winner"] == "crew"
        assert game.extra["won"] == float(crew_won == (game.extra["role"] == "crewmate"))
    other = tmp_path / "other"
    other.mkdir()
    deaf = "gymarena.baselines.scripted.social:make_deaf_agent"
    assert suite_protocol(_small_suite(other, random=deaf)).hash != suite_protocol(str(suite.path)).hash


def test_a_pool_player_whose_packages_are_missing_says_what_to_install(sqlite_url, tmp_path):
    player = tmp_path / "needs_torch.py"
    player.write_text("def make_agent(task, observation_space, action_space):\n    import torchh  # noqa\n")
    suite = load_suite(_small_suite(tmp_path, random=f"{player}:make_agent"))
    with ResultsStore(sqlite_url) as store, pytest.raises(GymarenaError) as raised:
        evaluate_social_suite(store, suite, "scripted", say=quiet)
    assert "the pool's player 'random' cannot play here" in str(raised.value)
    assert "pip install 'gymarena[baselines]'" in str(raised.value) and "\n" not in str(raised.value)


def test_scripted_players_outrank_random_ones_with_per_role_win_rates(store, tmp_path):
    path = _small_suite(tmp_path)
    suite = load_suite(path)
    for reference in ("scripted", "random"):
        evaluate_social_suite(store, suite, reference, say=quiet)
    board = rank_social(store, suite.label, suite_protocol(path), reps=100)
    best, worst = board.entries
    assert (best.agent, best.rank, best.pool_member, worst.agent, worst.rank) == ("scripted", 1, "scripted", "random", 2)
    assert best.rating_low <= best.rating <= best.rating_high and best.rating_low > worst.rating_high
    crew = {r.role: r for r in best.roles}["crewmate"]
    assert crew.games == 8 and crew.low <= crew.win_rate <= crew.high
    assert set(best.cross_play) == {"scripted", "random"} and set(best.cross_play["random"]) == {"crewmate", "impostor"}
    assert np.mean([r["point"] for r in board.pool_ratings.values()]) == pytest.approx(0.0, abs=1e-6)


def test_a_player_cannot_act_for_the_other_sides_seats():
    class Meddler:
        def reset(self, seed=None):
            pass

        def act(self, observations):
            return dict.fromkeys(("red", "green", "orange", "purple", "blue"), "mine")

    class Opponent(Meddler):
        def act(self, observations):
            return dict.fromkeys(observations, "theirs")

    matchup = Matchup(Meddler(), Opponent(), "impostor")
    matchup.reset(seed=0)
    seats = {seat: {"impostor": int(seat == "red")} for seat in ("red", "green", "orange", "purple", "blue")}
    actions = matchup.act(seats)
    assert actions == {"red": "mine", **dict.fromkeys(("green", "orange", "purple", "blue"), "theirs")}


def test_a_submitted_player_plays_the_social_board_sandboxed_through_gymarena_worker(submission_server, tmp_path):
    client, token, db_url = submission_server
    package = agent_package(tmp_path / "masked", "masked", MASKED_PLAYER)
    answer = upload_agent(client, token, pack_directory(package), suite=SUITE).json()
    with ResultsStore(db_url) as store:
        evaluate_social_suite(store, load_suite(SUITE), "scripted", say=quiet)  # the public board's reference
    worked = CliRunner().invoke(cli, ["worker", "--once", "--db", db_url, "--poll", "0.1"])
    assert worked.exit_code == 0, worked.output
    done = client.get(f"/api/submissions/{answer['submission']}").json()
    assert done["status"] == "finished", done
    page = eventually(lambda: client.get(f"/api/suites/{SUITE}").json(),
                      lambda page: page["verified"] and page["verified"]["entries"] and page["entries"])
    (entry,) = page["verified"]["entries"]
    assert entry["agent"] == "masked" and entry["kind"] == "verified" and entry["games"] == 120
    assert set(entry["roles"]) == {"crewmate", "impostor"} and entry["roles"]["crewmate"]["games"] == 60
    with ResultsStore(db_url) as store:
        run = store.get_run(entry["run"])
        hidden = store.submissions.current_hidden_seeds(SUITE)
    assert run.config["seeds"] == hidden and not set(hidden) & {0, 1, 2, 3, 4}
    html = client.get(f"/suites/{SUITE}").text
    assert "win rate of each agent (row) against each pool player" in html and "Bradley-Terry" in html
    assert client.post("/api/submissions/results", content=b"{}", headers={"Authorization": f"Bearer {token}"}
                       ).status_code == 422


def test_a_sandboxed_agent_plays_a_multi_agent_task_through_the_runner(store, tmp_path):
    """Every seat of the game, over the wire: the MaskedDict spaces and dict observations."""
    from gymarena.agents import AgentSource
    from gymarena.leaderboard.sandbox import Limits, SandboxedAgent
    from gymarena.runner import EvalRequest, RunOrigin, evaluate

    package = tmp_path / "package"
    package.mkdir()
    (package / "agent.py").write_text(MASKED_PLAYER)
    package.chmod(0o755)
    (package / "agent.py").chmod(0o644)
    started = []

    def sandboxed(task, observation_spaces, action_spaces):
        agent = SandboxedAgent(package, "agent.py:Agent", task, observation_spaces, action_spaces, Limits(),
                               tmp_path / "agent.log")
        started.append(agent)
        return agent

    source = AgentSource("sandboxed:masked", "masked", "1", "0" * 64, sandboxed)
    try:
        result = evaluate(EvalRequest(tasks=("social/Impostor-5p1i-v0",), seeds=(0, 1), episodes=2), store,
                          origin=RunOrigin(source))
    finally:
        for agent in started:
            agent.close()
    records = store.episodes(result.run.id)
    assert len(records) == 4 and all(r.error is None and set(r.agent_returns) == {"red", "green", "orange", "purple",
                                                                                   "blue"} for r in records)
    assert {r.extra["winner"] for r in records} <= {"crew", "impostors", "none"}


def test_the_cli_plays_and_shows_a_social_board(sqlite_url, tmp_path):
    path = _small_suite(tmp_path)
    runner = CliRunner()
    for player in ("scripted", "random"):
        played = runner.invoke(cli, ["eval", "--suite", path, "--agent", player, "--db", sqlite_url])
        assert played.exit_code == 0, played.output
    refused = runner.invoke(cli, ["eval", "--suite", path, "--batch", "2", "--db", sqlite_url])
    assert refused.exit_code == 1 and "social board's suite, which plays its own way; drop --batch" in refused.output
    shown = runner.invoke(cli, ["leaderboard", "--suite", path, "--json", "--db", sqlite_url])
    assert shown.exit_code == 0, shown.output
    board = json.loads(shown.stdout)
    assert board["board"] == "social" and [e["agent"] for e in board["entries"]] == ["scripted", "random"]
    table = runner.invoke(cli, ["leaderboard", "--suite", path, "--db", sqlite_url]).stdout
    assert "Bradley-Terry" in table and "as crewmate" in table


def test_the_board_table_names_a_pool_member_by_its_name_in_the_pool(sqlite_url, tmp_path):
    deaf = "gymarena.baselines.scripted.social:make_deaf_agent"
    path = _small_suite(tmp_path, random=deaf)  # the pool calls the deaf players "random" here
    runner = CliRunner()
    played = runner.invoke(cli, ["eval", "--suite", path, "--agent", deaf, "--db", sqlite_url])
    assert played.exit_code == 0, played.output
    table = runner.invoke(cli, ["leaderboard", "--suite", path, "--csv", "--db", sqlite_url]).stdout
    assert "make_deaf_agent (pool: random)" in table
    board = json.loads(runner.invoke(cli, ["leaderboard", "--suite", path, "--json", "--db", sqlite_url]).stdout)
    assert [(e["agent"], e["pool_member"]) for e in board["entries"]] == [("make_deaf_agent", "random")]
