"""The game itself, free of any RL interface: state, one step per phase, rewards by channel.

One ``step`` is one world tick of gameplay, one discussion turn (every living player's
survey answer and the speaker's message) or the vote (the last survey and every living
player's vote). Text for each player accumulates in ``Player.text`` (see text.py for the
wording) and is handed over and cleared by the env at each observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymarena.envs.social_deduction import text
from gymarena.envs.social_deduction.rules import (
    DISCUSSION,
    DO_TASK,
    FIRST_KILL,
    GAMEPLAY,
    MOVES,
    NO_IMPOSTORS,
    OVER,
    PARITY,
    PHASES,
    REPORT,
    TASKS_DONE,
    TIMEOUT,
    VOTING,
    WAIT,
    Rules,
)

CHANNELS = ("win", "task", "listening", "speaking")


class InvalidMove(ValueError):
    """An agent chose what the rules do not allow now; the message names agent, phase and choice."""


@dataclass
class Task:
    room: tuple[int, int]
    done: bool = False


@dataclass
class Player:
    name: str
    impostor: bool
    room: tuple[int, int]
    previous_room: tuple[int, int]  # differs from room while walking into it
    tasks: list[Task] = field(default_factory=list)
    alive: bool = True
    fresh_body: bool = False  # killed since the last meeting: its body lies in `room`
    activity: str = "idle"  # idle, task, walk
    busy: int = 0  # ticks left of the activity
    working_on: int | None = None
    kill_timer: int = 0
    text: list[str] = field(default_factory=list)
    rewards: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0.0))

    def walking(self) -> bool:
        return self.room != self.previous_room

    def open_tasks_here(self) -> list[int]:
        return [i for i, t in enumerate(self.tasks) if not t.done and t.room == self.room]


@dataclass
class Meeting:
    reporter: str
    body: list[str]
    order: list[str]  # who speaks at each turn
    turn: int = 0
    pooled: list[float] = field(default_factory=list)  # living crewmates' belief in the impostors, per survey


class Game:
    def __init__(self, rules: Rules, seed: int | None = None):
        self.rules = rules
        self.rng = np.random.default_rng(seed)
        self.width, self.height = rules.layouts[int(self.rng.integers(len(rules.layouts)))]
        names = list(rules.names)
        impostors = set(self.rng.choice(names, size=rules.impostors, replace=False).tolist())
        self.start_room = ((self.width - 1) // 2, 0)
        self.players = {name: Player(name, name in impostors, self.start_room, self.start_room) for name in names}
        for player in self.players.values():
            if not player.impostor:
                count = int(self.rng.integers(rules.tasks[0], rules.tasks[1] + 1))
                player.tasks = [Task((int(self.rng.integers(self.width)), int(self.rng.integers(self.height))))
                                for _ in range(count)]
        self.tick = 0
        self.phase = GAMEPLAY
        self.meeting: Meeting | None = None
        self.meetings = 0
        self.winner: str | None = None  # "crew", "impostors", or None while playing / on a timeout
        self.end: str | None = None
        self.log: dict[str, Any] = {"kills": 0, "ejections": [], "crew_votes": 0, "crew_votes_on_impostors": 0,
                                    "reports": 0}
        for player in self.players.values():
            text.introduce(self, player)
        self._start_round()

    # --- what each player may do now -------------------------------------------------

    def living(self) -> list[Player]:
        return [p for p in self.players.values() if p.alive]

    def game_mask(self, player: Player) -> np.ndarray:
        mask = np.zeros(self.rules.game_actions, dtype=np.int8)
        mask[WAIT] = 1
        if self.phase != GAMEPLAY or not player.alive or player.activity != "idle":
            return mask
        x, y = player.room
        for action, (dx, dy) in MOVES.items():
            if 0 <= x + dx < self.width and 0 <= y + dy < self.height:
                mask[action] = 1
        if player.impostor:
            if player.kill_timer == 0:
                reachable = self.in_room(player)
                for index, other in enumerate(self.players.values()):
                    if other in reachable and not other.impostor:
                        mask[FIRST_KILL + index] = 1
        else:
            if player.open_tasks_here():
                mask[DO_TASK] = 1
            if self.bodies_here(player):
                mask[REPORT] = 1
        return mask

    def vote_mask(self, player: Player) -> np.ndarray:
        mask = np.zeros(self.rules.players + 1, dtype=np.int8)
        mask[-1] = 1  # skip
        if self.phase == VOTING and player.alive:
            for index, other in enumerate(self.players.values()):
                mask[index] = other.alive
        return mask

    def speaker(self) -> str | None:
        if self.phase == DISCUSSION and self.meeting is not None:
            return self.meeting.order[self.meeting.turn]
        return None

    # --- who sees what -------------------------------------------------------------------

    def stationary(self, player: Player) -> list[Player]:
        return [p for p in self.living() if p is not player and p.room == player.room and not p.walking()]

    def entering(self, player: Player) -> list[Player]:
        return [p for p in self.living() if p is not player and p.room == player.room and p.walking()]

    def leaving(self, player: Player) -> list[Player]:
        return [p for p in self.living() if p is not player and p.previous_room == player.room and p.walking()]

    def in_room(self, player: Player) -> list[Player]:
        """Living players a kill can reach: in the room, entering or leaving it."""
        return self.stationary(player) + self.entering(player) + self.leaving(player)

    def bodies_here(self, player: Player) -> list[Player]:
        return [p for p in self.players.values() if p.fresh_body and p.room == player.room]

    # --- a step ---------------------------------------------------------------------------

    def step(self, choices: dict[str, dict[str, Any]]) -> None:
        """Advance by one step with every player's choice (``action``, ``message``,
        ``belief``, ``vote``); what the phase does not use is ignored."""
        if self.phase == OVER:
            raise InvalidMove("the game is over: reset the env to play again")
        for player in self.players.values():
            player.rewards = dict.fromkeys(CHANNELS, 0.0)
        if self.phase == GAMEPLAY:
            self._gameplay(choices)
        elif self.phase == DISCUSSION:
            self._discussion_turn(choices)
        else:
            self._vote(choices)
        if self.phase != OVER and self.tick >= self.rules.max_ticks:
            self._finish(None, TIMEOUT)

    def _check(self, player: Player, entry: str, value: int, mask: np.ndarray, meaning: str) -> None:
        if not (0 <= value < len(mask) and mask[value]):
            allowed = ", ".join(str(i) for i in np.flatnonzero(mask))
            raise InvalidMove(f"{player.name} cannot {meaning} ({entry} {value}) in the {PHASES[self.phase]} phase "
                              f"at tick {self.tick}; allowed {entry} values now: {allowed}")

    def _gameplay(self, choices: dict[str, dict[str, Any]]) -> None:
        actions = {}
        for player in self.players.values():
            action = int(choices[player.name]["action"])
            self._check(player, "action", action, self.game_mask(player), _action_name(action, self))
            actions[player.name] = action
        names = list(self.players)
        reporter = next((self.players[n] for n in names if actions[n] == REPORT), None)
        kills = [(self.players[n], self.players[names[actions[n] - FIRST_KILL]]) for n in names if actions[n] >= FIRST_KILL]
        for name in names:
            player, action = self.players[name], actions[name]
            if action == DO_TASK:
                player.activity, player.busy = "task", self.rules.task_time
                player.working_on = player.open_tasks_here()[0]
                text.starting_task(self, player)
            elif action in MOVES:
                dx, dy = MOVES[action]
                player.previous_room = player.room
                player.room = (player.room[0] + dx, player.room[1] + dy)
                player.activity, player.busy = "walk", self.rules.task_time
        for killer, victim in kills:
            self._kill(killer, victim)
        if reporter is not None:
            self._report(reporter)
            return
        for player in self.living():
            self._progress(player)
            if player.impostor:
                player.kill_timer = max(0, player.kill_timer - 1)
        self.tick += 1
        if not self._check_win():
            for player in self.living():
                text.gameplay_view(self, player)

    def _kill(self, killer: Player, victim: Player) -> None:
        if not victim.alive:
            return  # two impostors on one victim in one tick: one kill
        # Bystanders in the room who are not absorbed in a task (idle, waiting, walking in) see it.
        witnesses = [p for p in self.living() if p is not killer and p is not victim and p.room == killer.room
                     and p.activity != "task"]
        victim.alive, victim.fresh_body = False, True
        victim.room = victim.previous_room = killer.room
        victim.activity, victim.busy = "idle", 0
        killer.kill_timer = self.rules.kill_cooldown
        killer.rewards["task"] += 1
        self.log["kills"] += 1
        text.killed(self, killer, victim, witnesses)

    def _progress(self, player: Player) -> None:
        if player.activity == "idle":
            return
        player.busy -= 1
        if player.busy > 0:
            return
        if player.activity == "task":
            assert player.working_on is not None, "a player at a task works on one"
            player.tasks[player.working_on].done = True
            player.rewards["task"] += 1
            text.finished_task(self, player)
        else:
            player.previous_room = player.room
        player.activity, player.working_on = "idle", None

    def _report(self, reporter: Player) -> None:
        reporter.rewards["task"] += 1
        self.log["reports"] += 1
        bodies = [p.name for p in self.bodies_here(reporter)]
        alignment = self.rules.reporting_alignment
        self.tick = (self.tick // alignment + 1) * alignment  # nothing happens until the meeting starts
        speakers = [p.name for p in self.living()]
        order: list[str] = []
        for _ in range(self.rules.messages_per_player):
            order += [speakers[i] for i in self.rng.permutation(len(speakers))]
        self.meeting = Meeting(reporter.name, bodies, order)
        self.meetings += 1
        self.phase = DISCUSSION if order else VOTING
        text.meeting_called(self, reporter, bodies)

    def _survey(self, choices: dict[str, dict[str, Any]]) -> float:
        """Every living player's answer to 'who are you most suspicious of?': listening
        rewards, and the living crewmates' pooled belief in the impostors (returned)."""
        impostors = np.array([p.impostor for p in self.players.values()])
        pooled = 0.0
        for player in self.living():
            belief = _normalised(choices[player.name]["belief"], self.rules.players)
            on_impostors = float(belief[impostors].sum())
            if not player.impostor:
                player.rewards["listening"] += on_impostors
                pooled += on_impostors
        assert self.meeting is not None
        self.meeting.pooled.append(pooled)
        if len(self.meeting.pooled) >= 2:  # the last message moved the crew's belief by this much
            speaker = self.players[self.meeting.order[len(self.meeting.pooled) - 2]]
            change = self.meeting.pooled[-1] - self.meeting.pooled[-2]
            if speaker.alive:
                speaker.rewards["speaking"] += -change if speaker.impostor else change
        return pooled

    def _discussion_turn(self, choices: dict[str, dict[str, Any]]) -> None:
        assert self.meeting is not None
        self._survey(choices)
        speaker = self.players[self.meeting.order[self.meeting.turn]]
        text.said(self, speaker, str(choices[speaker.name].get("message", "")))
        self.meeting.turn += 1
        self.tick += 1
        if self.meeting.turn == len(self.meeting.order):
            self.phase = VOTING
            text.voting_starts(self)
        else:
            text.next_speaker(self)

    def _vote(self, choices: dict[str, dict[str, Any]]) -> None:
        assert self.meeting is not None
        self._survey(choices)
        names = list(self.players)
        votes: dict[str, int] = {}
        for player in self.living():
            vote = int(choices[player.name]["vote"])
            target = "skip" if vote == self.rules.players else (names[vote] if 0 <= vote < len(names) else str(vote))
            self._check(player, "vote", vote, self.vote_mask(player), f"vote for {target}")
            votes[player.name] = vote
            if not player.impostor:
                self.log["crew_votes"] += 1
                if vote < len(names) and self.players[names[vote]].impostor:
                    self.log["crew_votes_on_impostors"] += 1
                    player.rewards["task"] += 1
        counts = np.bincount(list(votes.values()), minlength=self.rules.players + 1)
        top = counts.max()
        leaders = np.flatnonzero(counts == top)
        ejected = None
        if len(leaders) == 1 and leaders[0] != self.rules.players:
            ejected = self.players[names[leaders[0]]]
            ejected.alive = False
            self.log["ejections"].append(ejected.impostor)
        text.vote_result(self, counts, ejected)
        self.tick += 1
        self.meeting = None
        for player in self.players.values():
            player.fresh_body = False  # bodies are cleared away with the meeting
        if not self._check_win():
            self._start_round()

    def _start_round(self) -> None:
        self.phase = GAMEPLAY
        for player in self.living():
            player.room = player.previous_room = self.start_room
            player.activity, player.busy, player.working_on = "idle", 0, None
            if player.impostor:
                player.kill_timer = self.rules.kill_cooldown
        for player in self.living():
            text.round_starts(self, player)
            text.gameplay_view(self, player)

    def _check_win(self) -> bool:
        living = self.living()
        impostors = sum(p.impostor for p in living)
        crew = len(living) - impostors
        if impostors == 0:
            self._finish("crew", NO_IMPOSTORS)
        elif impostors >= crew:
            self._finish("impostors", PARITY)
        elif all(t.done for p in living if not p.impostor for t in p.tasks):
            self._finish("crew", TASKS_DONE)
        return self.phase == OVER

    def _finish(self, winner: str | None, end: str) -> None:
        self.phase, self.winner, self.end = OVER, winner, end
        for player in self.players.values():  # the dead share their team's win, as in the paper
            if winner is not None and player.impostor == (winner == "impostors"):
                player.rewards["win"] += 1
        text.game_over(self)


def _normalised(belief: Any, size: int) -> np.ndarray:
    """A survey answer as a probability vector (all zeros: uniform)."""
    values = np.clip(np.asarray(belief, dtype=np.float64).reshape(-1)[:size], 0.0, None)
    if values.size < size:
        values = np.pad(values, (0, size - values.size))
    total = values.sum()
    return values / total if total > 0 else np.full(size, 1.0 / size)


def _action_name(action: int, game: Game) -> str:
    from gymarena.envs.social_deduction.rules import GAME_ACTIONS

    if 0 <= action < len(GAME_ACTIONS):
        return GAME_ACTIONS[action]
    names = list(game.players)
    if FIRST_KILL <= action < FIRST_KILL + len(names):
        return f"kill {names[action - FIRST_KILL]}"
    return f"take action {action}"
