"""Social deduction: a crewmate that does its tasks, reports bodies, says what it saw and
votes on evidence, listening to what others say; an impostor that kills crewmates it
finds alone and deflects suspicion onto someone else.

Each player is played by its own :class:`ScriptedPlayer`, which learns its role from its
first observation. Crewmates keep a suspicion score per player, raised by what they
witness (a kill: certain), by who they last saw near a body, and, when ``listens``, by
what the others say in template sentences (:data:`SAW`, :data:`SUSPECT`) - and against
whoever accuses them falsely. The survey answer is the softmax of the scores over the
living others; the vote goes to the most suspected player once the evidence is strong
enough, else skip.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from gymarena.agents import PerAgent
from gymarena.envs.social_deduction.rules import DO_TASK, FIRST_KILL, MOVES, REPORT, WAIT, Rules
from gymarena.tasks import TaskSpec

SAW = re.compile(r"I saw Player (\w+) kill Player (\w+)")
SUSPECT = re.compile(r"I suspect Player (\w+)")
SPOKE = re.compile(r'^\[\d+\] Player (\w+) \(to all\): "(.*)"$')
WITNESSED = re.compile(r"You notice Player (\w+) killing Player (\w+)!")
DISCOVERED = re.compile(r"discovered the dead body of (.+) in room \((\d+),(\d+)\)")
LEAVING = re.compile(r"You see Player (\w+) leaving to room \((\d+),(\d+)\)")
VOTE_THRESHOLD = 4.0  # suspicion needed to vote rather than skip: a witnessed kill, or a reported one


class ScriptedPlayer:
    def __init__(self, names: list[str], max_width: int, listens: bool = True):
        self.names = names
        self.max_width = max_width  # rooms are numbered x + y * max_width in the tasks vector
        self.listens = listens

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.role: str | None = None
        self.suspicion = dict.fromkeys(self.names, 0.0)
        self.witnessed: tuple[str, str, tuple[int, int]] | None = None
        self.last_seen: dict[str, tuple[int, tuple[int, int]]] = {}  # name -> (step, room)
        self.steps = 0
        self.scapegoat: str | None = None
        self.prey_room: tuple[int, int] | None = None  # where the crewmate the impostor follows went
        self.spoken = 0

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        if self.role is None:
            self.me = self.names[int(observation["me"])]
            self.role = "impostor" if observation["impostor"] else "crewmate"
            self.team = {n for n, flag in zip(self.names, observation["impostors"]) if flag}
        self.steps += 1
        self._read(observation)
        alive = [n for n, flag in zip(self.names, observation["alive"]) if flag]
        return {
            "action": self._game_action(observation),
            "message": self._message(observation, alive) if self._speaking(observation) else "",
            "belief": self._belief(alive),
            "vote": self._vote(observation, alive),
        }

    # --- reading -----------------------------------------------------------------------------

    def _read(self, observation: dict[str, Any]) -> None:
        room = (int(observation["room"][0]), int(observation["room"][1]))
        for flag_name in ("here", "entering", "leaving"):
            for name, flag in zip(self.names, observation[flag_name]):
                if flag:
                    self.last_seen[name] = (self.steps, room)
        for line in observation["text"].splitlines():
            if match := WITNESSED.search(line):
                killer, victim = match[1].lower(), match[2].lower()
                self.witnessed = (killer, victim, room)
                self.suspicion[killer] += 10
            elif match := DISCOVERED.search(line):
                body_room = (int(match[2]), int(match[3]))
                for name, (when, where) in self.last_seen.items():
                    if where == body_room and self.steps - when <= 10 and name != self.me:
                        self.suspicion[name] += 1
            elif (match := LEAVING.search(line)) and match[1].lower() not in self.team:
                self.prey_room = (int(match[2]), int(match[3]))
            elif (match := SPOKE.match(line)) and self.listens:
                self._listen(match[1].lower(), match[2])

    def _listen(self, speaker: str, message: str) -> None:
        if speaker == self.me or speaker not in self.suspicion:
            return
        if match := SAW.search(message):
            accused = match[1].lower()
            if accused == self.me and self.role == "crewmate":
                self.suspicion[speaker] += 10  # a lie about me: the liar is the impostor
            elif accused in self.suspicion:
                self.suspicion[accused] += 4
        elif match := SUSPECT.search(message):
            accused = match[1].lower()
            if accused == self.me and self.role == "crewmate":
                self.suspicion[speaker] += 2
            elif accused in self.suspicion:
                self.suspicion[accused] += 0.5  # hearsay: weaker than what one saw

    # --- gameplay ----------------------------------------------------------------------------

    def _game_action(self, observation: dict[str, Any]) -> int:
        mask = observation["action_mask"]["action"]
        if mask.sum() <= 1:
            return WAIT
        if self.role == "impostor":
            return self._hunt(observation, mask)
        if mask[REPORT]:
            return REPORT
        if mask[DO_TASK]:
            return DO_TASK
        rooms = [(int(i % self.max_width), int(i // self.max_width)) for i in np.flatnonzero(observation["tasks"])]
        return self._towards(observation, mask, rooms)

    def _hunt(self, observation: dict[str, Any], mask: np.ndarray) -> int:
        victims = [i for i in range(len(self.names)) if mask[FIRST_KILL + i]]
        present = [n for n, flag in zip(self.names, observation["here"]) if flag and n not in self.team]
        nearby = present + [n for flag_name in ("entering", "leaving")
                            for n, flag in zip(self.names, observation[flag_name]) if flag and n not in self.team]
        if len(victims) == 1 and len(nearby) == 1:  # alone with one crewmate: no witness
            self.prey_room = None
            return FIRST_KILL + victims[0]
        room = (int(observation["room"][0]), int(observation["room"][1]))
        if self.prey_room is not None and self.prey_room != room and len(nearby) != 1:
            return self._towards(observation, mask, [self.prey_room])  # follow a crewmate who walked off
        self.prey_room = None
        moves = [a for a in MOVES if mask[a]]
        return int(self.rng.choice(moves)) if moves and self.rng.random() < 0.7 else WAIT

    def _towards(self, observation: dict[str, Any], mask: np.ndarray, targets: list[tuple[int, int]]) -> int:
        if not targets:
            return WAIT
        x, y = int(observation["room"][0]), int(observation["room"][1])
        tx, ty = min(targets, key=lambda t: abs(t[0] - x) + abs(t[1] - y))
        for action, (dx, dy) in MOVES.items():
            if mask[action] and abs(tx - x - dx) + abs(ty - y - dy) < abs(tx - x) + abs(ty - y):
                return action
        return WAIT

    # --- meetings ------------------------------------------------------------------------------

    def _speaking(self, observation: dict[str, Any]) -> bool:
        return int(observation["speaker"]) == int(observation["me"])

    def _message(self, observation: dict[str, Any], alive: list[str]) -> str:
        self.spoken += 1
        if self.role == "impostor":
            target = self._scapegoat(alive)
            if target is None:
                return "I have no information."
            return f"I suspect Player {target.capitalize()}." if self.spoken % 2 else f"I vote Player {target.capitalize()}."
        if self.witnessed is not None:
            killer, victim, room = self.witnessed
            return f"I saw Player {killer.capitalize()} kill Player {victim.capitalize()} in room ({room[0]},{room[1]})."
        top = self._most_suspected(alive)
        if top is not None and self.suspicion[top] > 0 and self.spoken % 2:  # said once per meeting, not repeated
            return f"I suspect Player {top.capitalize()}."
        return "I have no information. I was doing my tasks." if self.spoken % 2 else "I have nothing to add."

    def _scapegoat(self, alive: list[str]) -> str | None:
        if self.scapegoat not in alive:
            innocents = [n for n in alive if n not in self.team]
            self.scapegoat = str(self.rng.choice(innocents)) if innocents else None
        return self.scapegoat

    def _most_suspected(self, alive: list[str]) -> str | None:
        others = [n for n in alive if n != self.me and n not in (self.team if self.role == "impostor" else ())]
        return max(others, key=lambda n: self.suspicion[n]) if others else None

    def _belief(self, alive: list[str]) -> np.ndarray:
        belief = np.zeros(len(self.names), dtype=np.float32)
        if self.role == "impostor":
            target = self._scapegoat(alive)
            if target is not None:
                belief[self.names.index(target)] = 1
            return belief
        others = [n for n in alive if n != self.me]
        if others:
            scores = np.array([self.suspicion[n] for n in others])
            weights = np.exp(scores - scores.max())
            for name, weight in zip(others, weights / weights.sum()):
                belief[self.names.index(name)] = weight
        return belief

    def _vote(self, observation: dict[str, Any], alive: list[str]) -> int:
        mask = observation["action_mask"]["vote"]
        skip = len(self.names)
        if self.role == "impostor":
            target = self._scapegoat(alive)
        else:
            top = self._most_suspected(alive)
            target = top if top is not None and self.suspicion[top] >= VOTE_THRESHOLD else None
        if target is None or not mask[self.names.index(target)]:
            return skip
        return self.names.index(target)


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> PerAgent:
    """Every player scripted (crewmates listening to the discussion)."""
    return _players(task, action_space, listens=True)


def make_deaf_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> PerAgent:
    """Every player scripted, crewmates ignoring what the others say (only what they saw
    themselves counts): ``--agent gymarena.baselines.scripted.social:make_deaf_agent``."""
    return _players(task, action_space, listens=False)


def _players(task: TaskSpec, action_space: Any, listens: bool) -> PerAgent:
    rules = Rules.from_kwargs(**task.kwargs)
    return PerAgent(action_space, lambda name: ScriptedPlayer(list(rules.names), rules.max_width, listens))
