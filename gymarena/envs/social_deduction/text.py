"""What each player reads: the game's events as text, worded like the prompts of the
reference environment (SocialDeductionLLM's ``string_env.py``), so a language model sees
the game the way the paper's agents did. Each line starts with the world tick.

Room names are ``(x,y)``; players are named ``Player Red`` and so on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gymarena.envs.social_deduction.game import Game, Player


def display(name: str) -> str:
    return f"Player {name.capitalize()}"


def room_name(room: tuple[int, int]) -> str:
    return f"({room[0]},{room[1]})"


def _world(game: Game, player: Player, message: str, to_all: bool = False) -> None:
    player.text.append(f"[{game.tick}] World (to {'all' if to_all else 'you'}): {message}")


def _all(game: Game, message: str) -> None:
    for player in game.living():
        _world(game, player, message, to_all=True)


def _names(players) -> str:
    return ", ".join(display(p.name) for p in players)


def introduce(game: Game, player: Player) -> None:
    rules = game.rules
    _world(game, player, (
        f"You are playing the game of Among Us on a {game.width}x{game.height} grid. There are {rules.players} players "
        f"in total. The current set of players are: {_names(game.players.values())}. Of these players, "
        f"{rules.impostors} of them are secretly chosen randomly to be Imposters while the rest are Crewmates."), True)
    _world(game, player, (
        "The Crewmates can win the game one of two ways: either by completing all assigned tasks or by ejecting all "
        "Impostors. Impostors can likewise win in two ways: either by killing or ejecting all Crewmates."), True)
    _world(game, player, f"You are {display(player.name)}.")
    if player.impostor:
        team = [p for p in game.players.values() if p.impostor]
        _world(game, player, (
            f"You are an Imposter. Try to kill or eject all Crewmates. The current set of imposters are: {_names(team)}. "
            "Your valid actions outside of a discussion time are of the following forms: 'go x' where x is direction to "
            "a neighboring room, 'kill x' where x is a crewmate in the current room, or 'wait' which allows you to just "
            "wait until you see something new."))
    else:
        _world(game, player, (
            "You are a Crewmate. Try to complete all your assigned tasks and eject Imposters. Your valid actions outside "
            "of a discussion time are of the following forms: 'go x' where x is direction to a neighboring room, "
            "'do Task' when you can complete a task in the current room, 'report the body of x' if player x is a dead "
            "body in the room, or 'wait' which allows you to just wait until you see something new."))


def round_starts(game: Game, player: Player) -> None:
    _world(game, player, f"The currently alive players are: {_names(game.living())}.", True)
    if player.impostor:
        _world(game, player, f"You are back to gameplay. You have {player.kill_timer} seconds before you can kill again.")
        return
    open_tasks = [f"Task {i} in room {room_name(t.room)}" for i, t in enumerate(player.tasks) if not t.done]
    if open_tasks:
        _world(game, player, f"Your list of uncompleted tasks are: {', '.join(open_tasks)}. "
                             "Recall that you can do tasks in any order.")
    else:
        _world(game, player, "All your tasks are done. Try to determine who the imposters are now!")


def gameplay_view(game: Game, player: Player) -> None:
    """What an idle player sees at the start of a tick (busy players see nothing new)."""
    if player.activity != "idle":
        return
    message = f"You are in room {room_name(player.room)}."
    stationary = sorted(game.stationary(player), key=lambda p: p.name)
    if stationary:
        message += f" You see {_names(stationary)} in the room."
    for other in game.entering(player):
        message += f" You see {display(other.name)} entering from room {room_name(other.previous_room)}."
    for other in game.leaving(player):
        message += f" You see {display(other.name)} leaving to room {room_name(other.room)}."
    bodies = game.bodies_here(player)
    if bodies:
        message += f" You see the dead body of {_names(bodies)} in the room!"
    if not (stationary or game.entering(player) or game.leaving(player) or bodies):
        message += " You do not see any other players in the room."
    if player.impostor:
        message += (f" You have to wait at least {player.kill_timer} seconds before you can kill again."
                    if player.kill_timer else " You can kill anyone in the room now.")
    else:
        here = player.open_tasks_here()
        message += f" You have the following tasks in this room: {', '.join(f'Task {i}' for i in here)}." if here \
            else " You have no tasks in this room."
    _world(game, player, message)


def starting_task(game: Game, player: Player) -> None:
    _world(game, player, f"You are working on Task {player.working_on}")


def finished_task(game: Game, player: Player) -> None:
    _world(game, player, "You finished the task.")


def killed(game: Game, killer: Player, victim: Player, witnesses: list[Player]) -> None:
    _world(game, killer, f"You killed {display(victim.name)}")
    _world(game, victim, f"{display(killer.name)} killed you!")
    for witness in witnesses:
        _world(game, witness, f"You notice {display(killer.name)} killing {display(victim.name)}!")


def meeting_called(game: Game, reporter: Player, bodies: list[str]) -> None:
    found = ", ".join(display(b) for b in bodies)
    _all(game, f"{display(reporter.name)} discovered the dead body of {found} in room {room_name(reporter.room)}.")
    rules = game.rules
    if rules.messages_per_player:
        _all(game, (
            "The discussion period is beginning. If you have important information, now is the best time to share it. "
            f"There will be {rules.messages_per_player} messages sent by each player during this period, followed by a "
            "voting period where you can choose a person to eject or withold your vote. As a reminder, the currently "
            f"alive players are: {_names(game.living())}."))
        survey(game)
        next_speaker(game)
    else:
        survey(game)
        voting_starts(game)


def survey(game: Game) -> None:
    for player in game.living():
        _world(game, player, "Which Player are you most suspicious of?")


def next_speaker(game: Game) -> None:
    speaking = game.speaker()
    assert speaking is not None, "a speaker is called in a discussion"
    speaker = game.players[speaking]
    _world(game, speaker, "It is your turn to speak. "
                          "What do you want to say to help Crewmates determine which Player is the Imposter?")


def said(game: Game, speaker: Player, message: str) -> None:
    for player in game.living():
        who = f"{display(speaker.name)} (you)" if player is speaker else display(speaker.name)
        player.text.append(f"[{game.tick}] {who} (to all): \"{message}\"")
    survey(game)  # asked after every message; answered with the next step


def voting_starts(game: Game) -> None:
    _all(game, "The voting period is beginning. "
               "You can vote 'skip' or eject one of the currently alive players. What will you vote?")


def vote_result(game: Game, counts: np.ndarray, ejected: Player | None) -> None:
    names = list(game.players)
    parts = [f"{display(names[i])} received {int(c)} votes" for i, c in enumerate(counts[:-1]) if c]
    if counts[-1]:
        parts.insert(0, f"skip received {int(counts[-1])} votes")
    message = ", ".join(parts) + "."
    ejection = f"{display(ejected.name)} is ejected" if ejected else "nobody is ejected"
    message += f" Therefore, {ejection} this round."
    for player in game.players.values():  # the ejected player reads it too
        if player.alive or player is ejected:
            _world(game, player, message, True)


def game_over(game: Game) -> None:
    from gymarena.envs.social_deduction.rules import NO_IMPOSTORS, PARITY, TASKS_DONE

    message = {NO_IMPOSTORS: "All imposters have been ejected! Crewmates win.",
               PARITY: "There are currently more imposters than crewmates. Imposters win!",
               TASKS_DONE: "All tasks are done! Crewmates win."}.get(game.end or "", "Time is up: nobody wins.")
    for player in game.players.values():
        _world(game, player, message, True)
