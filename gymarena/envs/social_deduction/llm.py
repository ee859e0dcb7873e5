"""Play the game with a language model: any callable ``generate(prompt) -> str``.

The prompt is the player's transcript so far (the env's ``text`` observations, worded as
the reference environment words them) followed by the question of the moment, in the
reference's form: the lettered list of valid actions ("You can perform any of the
following actions: A: wait, B: go east, ...") ending with ``Player Red (you):``; the
opening of a message (``Player Red (you) saying: "``); the survey ("Which Player are you
most suspicious of?") and the vote, each ending with ``Player Red (you): Player``.

Replies are parsed leniently: an option letter or its words; a message up to its closing
quote; a colour (or ``skip``). A reply that cannot be parsed falls back to waiting, an
empty message, a uniform belief or skipping, and is counted in ``unparsed``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Any

import numpy as np

from gymarena.agents import PerAgent
from gymarena.envs.social_deduction.rules import DISCUSSION, GAME_ACTIONS, GAMEPLAY, VOTING, WAIT, Rules
from gymarena.envs.social_deduction.text import display
from gymarena.tasks import TaskSpec

Generate = Callable[[str], str]


class LanguageModelPlayer:
    def __init__(self, generate: Generate, names: list[str], message_chars: int = 200, max_prompt_chars: int = 16000):
        self.generate = generate
        self.names = names
        self.message_chars = message_chars
        self.max_prompt_chars = max_prompt_chars

    def reset(self, seed: int | None = None) -> None:
        self.transcript = ""
        self.unparsed = 0
        self.prompts: list[str] = []

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        self.transcript += str(observation["text"])
        me = self.names[int(observation["me"])]
        tick, phase = int(observation["tick"]), int(observation["phase"])
        action = {"action": WAIT, "message": "", "belief": np.full(len(self.names), 1.0 / len(self.names), dtype=np.float32),
                  "vote": len(self.names)}
        mask = observation["action_mask"]["action"]
        if phase == GAMEPLAY and mask.sum() > 1:
            action["action"] = self._choose_action(me, tick, mask)
        if phase in (DISCUSSION, VOTING):
            action["belief"] = self._survey(me, tick, observation)
        if phase == DISCUSSION and int(observation["speaker"]) == int(observation["me"]):
            action["message"] = self._speak(me, tick)
        if phase == VOTING:
            action["vote"] = self._vote(me, tick, observation)
        return action

    def _ask(self, question: str) -> str:
        prompt = self.transcript[-self.max_prompt_chars:] + question
        self.prompts.append(prompt)
        return str(self.generate(prompt))

    def _choose_action(self, me: str, tick: int, mask: np.ndarray) -> int:
        valid = [int(i) for i in np.flatnonzero(mask)]
        labels = {string.ascii_uppercase[n]: index for n, index in enumerate(valid)}
        listing = ", ".join(f"{letter}: {self._describe(index)}" for letter, index in labels.items())
        reply = self._ask(f"[{tick}] World (to you): You can perform any of the following actions: {listing}\n"
                          f"[{tick}] {display(me)} (you):").strip()
        letter = re.match(r"^\(?([A-Z])\b", reply)
        if letter and letter[1] in labels:
            return labels[letter[1]]
        for index in sorted(valid, key=lambda i: -len(self._describe(i))):  # "kill Player Red" before "wait"
            if self._describe(index).lower() in reply.lower():
                return index
        self.unparsed += 1
        return WAIT

    def _describe(self, index: int) -> str:
        if index < len(GAME_ACTIONS):
            return GAME_ACTIONS[index]
        return f"kill {display(self.names[index - len(GAME_ACTIONS)])}"

    def _speak(self, me: str, tick: int) -> str:
        reply = self._ask(f'[{tick}] {display(me)} (you) saying: "')
        message = reply.split('"', 1)[0].strip()
        return "".join(c for c in message if c in string.printable)[: self.message_chars]

    def _colour(self, reply: str, allowed: list[str]) -> str | None:
        words = re.findall(r"[a-z]+", reply.lower())
        return next((w for w in words if w in allowed), None)

    def _survey(self, me: str, tick: int, observation: dict[str, Any]) -> np.ndarray:
        alive = [n for n, flag in zip(self.names, observation["alive"]) if flag and n != me]
        reply = self._ask(f"[{tick}] World (to you): Which Player are you most suspicious of?\n"
                          f"[{tick}] {display(me)} (you): Player")
        belief = np.full(len(self.names), 1.0 / len(self.names), dtype=np.float32)
        suspect = self._colour(reply, alive)
        if suspect is None:
            self.unparsed += 1
            return belief
        belief[:] = 0
        belief[self.names.index(suspect)] = 1
        return belief

    def _vote(self, me: str, tick: int, observation: dict[str, Any]) -> int:
        allowed = [n for n, flag in zip(self.names, observation["action_mask"]["vote"][:-1]) if flag]
        reply = self._ask(f"[{tick}] World (to you): You can vote 'skip' or eject one of the currently alive players. "
                          f"What will you vote?\n[{tick}] {display(me)} (you): Player")
        choice = self._colour(reply, [*allowed, "skip"])
        if choice is None:
            self.unparsed += 1
        return self.names.index(choice) if choice not in (None, "skip") else len(self.names)


def language_model_players(generate: Generate) -> Callable[[TaskSpec, Any, Any], PerAgent]:
    """An agent factory (for ``evaluate`` or a ``module:attr`` reference) whose every player
    is ``generate``; give each player its own callable by wrapping this per name."""

    def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> PerAgent:
        rules = Rules.from_kwargs(**task.kwargs)
        return PerAgent(action_space, lambda name: LanguageModelPlayer(generate, list(rules.names), rules.message_chars))

    return make_agent
