"""Every rule of the social deduction game, on games arranged by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.envs.social_deduction.game import Game, InvalidMove, Task
from gymarena.envs.social_deduction.rules import (
    DISCUSSION,
    DO_TASK,
    EAST,
    FIRST_KILL,
    GAMEPLAY,
    NO_IMPOSTORS,
    OVER,
    PARITY,
    REPORT,
    SOUTH,
    TASKS_DONE,
    TIMEOUT,
    VOTING,
    WAIT,
    Rules,
)

NAMES = ("red", "green", "orange", "purple", "blue")


def arranged(impostors=("red",), tasks=None, **rules) -> Game:
    """A game whose impostors are ``impostors`` and whose crewmates' tasks are ``tasks``
    (name -> rooms; default one task in room (2, 1), away from the start (1, 0))."""
    game = Game(Rules(**rules), seed=0)
    tasks = tasks or {}
    for player in game.players.values():
        player.impostor = player.name in impostors
        player.tasks = [] if player.impostor else [Task(room) for room in tasks.get(player.name, [(2, 1)])]
        player.kill_timer = game.rules.kill_cooldown if player.impostor else 0
        player.text.clear()
    return game


def step(game: Game, **choices) -> None:
    """One step: every player waits, skips and answers the survey uniformly, except as given."""
    players = game.rules.players
    full = {name: {"action": WAIT, "message": "", "belief": np.ones(players), "vote": players} for name in game.players}
    for name, choice in choices.items():
        full[name].update(choice)
    game.step(full)


def kill(name: str, game: Game) -> dict:
    return {"action": FIRST_KILL + list(game.players).index(name)}


def run_ticks(game: Game, ticks: int) -> None:
    for _ in range(ticks):
        step(game)


def vote_for(name: str, game: Game) -> dict:
    return {"vote": list(game.players).index(name)}


def test_everyone_starts_in_the_middle_of_the_top_row_and_crewmates_get_3_to_5_tasks():
    for seed in range(20):
        game = Game(Rules(), seed=seed)
        assert {p.room for p in game.players.values()} == {(1, 0)}
        assert sum(p.impostor for p in game.players.values()) == 1
        assert all(3 <= len(p.tasks) <= 5 for p in game.players.values() if not p.impostor)
    assert Game(Rules(layouts=((2, 2),)), seed=0).start_room == (0, 0)


def test_the_kill_cooldown_runs_from_the_start_of_the_game_and_from_each_kill():
    game = arranged()
    red = game.players["red"]
    for tick in range(6):
        assert not game.game_mask(red)[FIRST_KILL + 1:].any(), f"a kill allowed at tick {tick}"
        step(game)
    assert game.game_mask(red)[FIRST_KILL + 1:].all()  # tick 6: every other player is in the room
    step(game, red=kill("green", game))
    assert not game.players["green"].alive and red.kill_timer == 5  # the kill's tick counts
    run_ticks(game, 5)
    assert game.game_mask(red)[FIRST_KILL + 2]  # six ticks after the kill


def test_the_cooldown_resets_at_the_start_of_every_gameplay_phase():
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    run_ticks(game, 6)
    assert game.players["red"].kill_timer == 0
    step(game, orange={"action": REPORT})  # a body in the room: a meeting, then a vote that ejects no one
    while game.phase != GAMEPLAY:
        step(game)
    assert game.players["red"].kill_timer == 6
    assert {p.room for p in game.living()} == {(1, 0)}


def test_a_report_starts_the_meeting_on_the_next_aligned_tick():
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    run_ticks(game, 5)
    assert game.tick == 12
    step(game, blue={"action": REPORT})
    assert game.phase == DISCUSSION and game.tick == 50
    assert game.meeting.reporter == "blue" and game.meeting.body == ["green"]


def test_impostors_cannot_report_and_crewmates_report_only_fresh_bodies_in_their_room():
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    assert not game.game_mask(game.players["red"])[REPORT]
    assert game.game_mask(game.players["blue"])[REPORT]
    step(game, blue={"action": EAST})  # blue walks away
    run_ticks(game, 3)
    assert not game.game_mask(game.players["blue"])[REPORT]
    with pytest.raises(InvalidMove, match=r"red cannot report body \(action 6\) in the gameplay phase"):
        step(game, red={"action": REPORT})


def test_bystanders_who_are_idle_waiting_or_walking_in_see_the_kill_and_those_busy_or_away_do_not():
    game = arranged(tasks={"orange": [(1, 0)]})
    run_ticks(game, 5)
    step(game, orange={"action": DO_TASK}, purple={"action": EAST})  # orange busy here; purple leaves
    game.players["blue"].previous_room = (1, 1)  # blue walks in from the south
    for player in game.players.values():
        player.text.clear()
    step(game, red=kill("green", game))
    saw = {name: any("You notice Player Red killing Player Green!" in line for line in p.text)
           for name, p in game.players.items()}
    assert saw == {"red": False, "green": False, "orange": False, "purple": False, "blue": True}
    assert any("Player Red killed you!" in line for line in game.players["green"].text)


def test_players_entering_or_leaving_the_room_can_be_killed():
    game = arranged()
    run_ticks(game, 5)
    step(game, green={"action": EAST})  # green is now leaving (1, 0)
    red = game.players["red"]
    assert game.game_mask(red)[FIRST_KILL + 1]
    step(game, red=kill("green", game))
    assert not game.players["green"].alive and game.players["green"].room == red.room  # the body lies where it died


def test_doing_a_task_and_walking_take_task_time_ticks():
    game = arranged(tasks={"green": [(1, 0)]})
    green = game.players["green"]
    step(game, green={"action": DO_TASK})
    assert green.activity == "task" and not green.tasks[0].done
    assert list(np.flatnonzero(game.game_mask(green))) == [WAIT]  # busy: nothing else to choose
    run_ticks(game, 2)
    assert green.tasks[0].done and green.activity == "idle"
    step(game, green={"action": SOUTH})
    assert green.room == (1, 1) and green.walking()
    run_ticks(game, 2)
    assert not green.walking()


def test_living_players_speak_twice_in_a_shuffled_round_robin_and_the_dead_do_not():
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    step(game, blue={"action": REPORT})
    order = game.meeting.order
    assert len(order) == 8 and "green" not in order
    assert sorted(order[:4]) == sorted(order[4:]) == ["blue", "orange", "purple", "red"]
    spoken = []
    while game.phase == DISCUSSION:
        speaker = game.speaker()
        spoken.append(speaker)
        step(game, **{speaker: {"message": f"I am {speaker}"}})
    assert spoken == order and game.phase == VOTING
    assert any('Player Blue (to all): "I am blue"' in line for line in game.players["orange"].text)
    assert len(game.meeting.pooled) == 8  # a survey before each message


def test_listening_and_speaking_rewards_follow_the_crews_belief_in_the_impostor():
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    step(game, blue={"action": REPORT})
    names = list(game.players)
    on_red = np.eye(5)[names.index("red")]
    first = game.speaker()
    step(game)  # survey 0: uniform beliefs, 0.2 each on red
    assert game.players["blue"].rewards["listening"] == pytest.approx(0.2)
    assert game.players["red"].rewards["listening"] == 0  # the impostor's survey is not a listening score
    crew = [n for n in names if n not in ("red", "green")]
    step(game, **{n: {"belief": on_red} for n in crew})  # after the first message every crewmate is sure
    speaker = game.players[first]
    change = 3 * (1.0 - 0.2)
    assert speaker.rewards["speaking"] == pytest.approx(-change if speaker.impostor else change)


def voting_after_a_kill() -> Game:
    """Red kills green at tick 6, blue reports, the discussion passes: the vote is next."""
    game = arranged()
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    step(game, blue={"action": REPORT})
    while game.phase == DISCUSSION:
        step(game)
    return game


def test_plurality_ejects_and_any_tie_ejects_no_one():
    meeting = voting_after_a_kill
    game = meeting()  # 2 votes for orange, 2 skips: a tie with skip
    step(game, red=vote_for("orange", game), blue=vote_for("orange", game))
    assert game.players["orange"].alive and game.phase == GAMEPLAY
    game = meeting()  # 2 for orange, 2 for red: a tie
    step(game, red=vote_for("orange", game), blue=vote_for("orange", game), orange=vote_for("red", game),
         purple=vote_for("red", game))
    assert game.players["orange"].alive and game.players["red"].alive
    game = meeting()  # 3 for red, 1 skip: red is ejected and the crew wins
    step(game, blue=vote_for("red", game), orange=vote_for("red", game), purple=vote_for("red", game))
    assert not game.players["red"].alive and game.phase == OVER
    assert (game.winner, game.end) == ("crew", NO_IMPOSTORS)
    assert all(game.players[n].rewards["task"] == 1 for n in ("blue", "orange", "purple"))  # voted for the impostor
    assert all(p.rewards["win"] == 1 for n, p in game.players.items() if n != "red")  # green too, though dead


def test_votes_for_the_dead_are_rejected_naming_player_phase_and_choice():
    game = voting_after_a_kill()
    with pytest.raises(InvalidMove, match=r"blue cannot vote for green \(vote 1\) in the voting phase at tick \d+"):
        step(game, blue=vote_for("green", game))


def test_the_impostors_win_at_parity():
    game = arranged()
    run_ticks(game, 6)
    for victim in ("green", "orange", "purple"):
        if victim != "green":
            run_ticks(game, 6)
        step(game, red=kill(victim, game))
        if victim != "purple":
            assert game.phase == GAMEPLAY
    assert (game.winner, game.end) == ("impostors", PARITY)
    assert game.players["red"].rewards["win"] == 1 and game.players["blue"].rewards["win"] == 0


def test_dead_crewmates_tasks_do_not_block_a_task_win():
    here = [(1, 0)]
    game = arranged(tasks=dict.fromkeys(NAMES, here) | {"green": [(2, 1), (0, 1)]})
    run_ticks(game, 6)
    step(game, red=kill("green", game))
    for name in ("orange", "purple", "blue"):
        step(game, **{name: {"action": DO_TASK}})
        run_ticks(game, 2)
    assert (game.winner, game.end) == ("crew", TASKS_DONE)


def test_the_step_limit_ends_the_game_as_a_timeout():
    game = arranged(max_ticks=10)
    run_ticks(game, 10)
    assert game.phase == OVER and (game.winner, game.end) == (None, TIMEOUT)
    assert all(p.rewards["win"] == 0 for p in game.players.values())


def test_several_impostors_know_each_other_and_cannot_kill_each_other():
    game = arranged(impostors=("red", "blue"), players=7, layouts=((3, 2),))
    run_ticks(game, 6)
    mask = game.game_mask(game.players["red"])
    names = list(game.players)
    assert mask[FIRST_KILL + names.index("green")]
    assert not mask[FIRST_KILL + names.index("blue")]  # a fellow impostor is no victim
    real = Game(Rules(players=7, impostors=2), seed=3)
    team = [p for p in real.players.values() if p.impostor]
    listed = f"The current set of imposters are: {', '.join('Player ' + p.name.capitalize() for p in team)}."
    assert all(any(listed in line for line in p.text) for p in team)
    assert not any(listed in line for p in real.players.values() if not p.impostor for line in p.text)
