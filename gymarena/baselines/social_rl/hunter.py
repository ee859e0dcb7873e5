"""Social deduction: a stronger scripted impostor, so that tasks no longer end most games.

The scripted impostor (``baselines/scripted/social.py``) kills a crewmate it happens to find alone and
otherwise wanders at random; against it the crew finishes its tasks in 84-91% of games, so
what is said in meetings barely matters. The reference's impostors are trained and hunt.
:class:`HuntingImpostor` hunts too:

- it keeps the whereabouts of every crewmate: the room it saw them in, or the room it saw
  them walk to;
- it kills when it is alone with exactly one crewmate, as the scripted impostor does (no
  witness, so only the evidence of who was near the body can give it away);
- otherwise it walks to where a crewmate was seen alone most recently. It leaves rooms
  with two or more crewmates (a kill there would have a witness), and it leaves the room of
  a kill at once;
- in meetings it says and votes what the scripted impostor does (it suspects a
  scapegoat).

Crewmates are the scripted ones (listening, or deaf with ``make_deaf_agent``). The rules
are unchanged: only who plays the impostor differs. It lives here, beside the training that
uses it as an opponent, not in ``baselines/scripted/``: every file there is the code of the
built-in ``scripted`` agent, which the social board's pool pins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.agents import PerAgent
from gymarena.baselines.scripted.social import LEAVING, ScriptedPlayer
from gymarena.envs.social_deduction.rules import FIRST_KILL, MOVES, WAIT, Rules
from gymarena.tasks import TaskSpec

TRAIL = 12  # steps a sighting stays worth following


class HuntingImpostor(ScriptedPlayer):
    """Plays an impostor seat by hunting; a crewmate seat as the scripted crewmate."""

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.whereabouts: dict[str, tuple[int, tuple[int, int], bool]] = {}  # name -> (step, room, seen alone)
        self.fled_from: tuple[int, int] | None = None

    def _read(self, observation: dict[str, Any]) -> None:
        super()._read(observation)
        if self.role != "impostor":
            return
        room = (int(observation["room"][0]), int(observation["room"][1]))
        present = [n for n, flag in zip(self.names, observation["here"]) if flag and n not in self.team]
        for name in present:
            self.whereabouts[name] = (self.steps, room, len(present) == 1)
        for line in observation["text"].splitlines():
            if match := LEAVING.search(line):
                self.whereabouts[match[1].lower()] = (self.steps, (int(match[2]), int(match[3])), True)
        dead = [n for n, flag in zip(self.names, observation["alive"]) if not flag]
        for name in dead:
            self.whereabouts.pop(name, None)

    def _hunt(self, observation: dict[str, Any], mask: np.ndarray) -> int:
        room = (int(observation["room"][0]), int(observation["room"][1]))
        victims = [i for i in range(len(self.names)) if mask[FIRST_KILL + i]]
        nearby = [n for flag_name in ("here", "entering", "leaving")
                  for n, flag in zip(self.names, observation[flag_name]) if flag and n not in self.team]
        if len(victims) == 1 and len(nearby) == 1:  # alone with one crewmate: no witness
            self.fled_from = room
            return FIRST_KILL + victims[0]
        moves = [a for a in MOVES if mask[a]]
        if not moves:
            return WAIT
        if self.fled_from == room or len(nearby) >= 2:  # away from the body, or from a crowd
            self.fled_from = None
            return int(self.rng.choice(moves))
        self.fled_from = None
        trail = [(when, where) for when, where, alone in self.whereabouts.values()
                 if alone and self.steps - when <= TRAIL and where != room]
        if trail:
            return self._towards(observation, mask, [max(trail)[1]])
        if nearby:  # one crewmate here, but the kill is not ready (cooldown) or it is walking: stay with it
            return WAIT
        return int(self.rng.choice(moves))


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> PerAgent:
    """Scripted crewmates (listening) against the hunting impostor."""
    return _players(task, action_space, listens=True)


def make_deaf_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> PerAgent:
    """Scripted crewmates that ignore what is said, against the hunting impostor."""
    return _players(task, action_space, listens=False)


def _players(task: TaskSpec, action_space: Any, listens: bool) -> PerAgent:
    rules = Rules.from_kwargs(**task.kwargs)
    return PerAgent(action_space, lambda name: HuntingImpostor(list(rules.names), rules.max_width, listens))
