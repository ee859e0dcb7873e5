"""What a trainable crewmate knows, as one vector: the game's structured observation plus
a memory of what it saw and heard (the game hands out each piece of text once).

Per player the memory keeps: when and where it was last seen (a room it was seen in or
walking to), whether it was seen near a body when the body was found, whether this
crewmate saw it kill, and what the others said about it (accused of a kill, suspected,
vouched for) and whether it accused this crewmate (which a crewmate knows to be false).
The structured part is the phase, who is alive, who is here, entering or leaving, bodies,
the room, the own tasks per room, and whose turn it is to speak.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.baselines.scripted.social import DISCOVERED, LEAVING, WITNESSED  # the game's wording, read in one place
from gymarena.baselines.social_rl.vocabulary import SAW_KILL, SUSPECT, VOUCH, Vocabulary, heard
from gymarena.envs.social_deduction.rules import PHASES, Rules

RECENT = 10.0  # steps over which a sighting fades
PER_PLAYER = ("alive", "here", "entering", "leaving", "bodies")
MEMORY = ("seen", "near_body", "saw_kill", "accused", "suspected", "vouched", "accused_me")


def feature_size(rules: Rules) -> int:
    players, rooms = rules.players, rules.max_width * rules.max_height
    return len(PHASES) + players * (1 + len(PER_PLAYER) + len(MEMORY) + rooms) + 2 * rooms + 3


class Memory:
    """One seat's memory over one game; :meth:`observe` each observation, then :meth:`vector`."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.names = [n.lower() for n in rules.names]
        self.rooms = rules.max_width * rules.max_height
        self.vocabulary = Vocabulary(self.names, rules.max_width, rules.max_height)
        players = rules.players
        self.steps = 0
        self.last_seen = np.full(players, -1e9)
        self.seen_room = np.zeros((players, self.rooms), dtype=np.float32)
        self.counts = {name: np.zeros(players, dtype=np.float32) for name in MEMORY if name != "seen"}

    def _room(self, x: int, y: int) -> int:
        return x + y * self.rules.max_width

    def observe(self, observation: dict[str, Any]) -> None:
        self.steps += 1
        self.observation = observation
        me = int(observation["me"])
        room = self._room(int(observation["room"][0]), int(observation["room"][1]))
        for flag_name in ("here", "entering", "leaving"):
            for player in np.flatnonzero(observation[flag_name]):
                self._seen(int(player), room)
        for line in observation["text"].splitlines():
            if m := WITNESSED.search(line):
                self.counts["saw_kill"][self.names.index(m[1].lower())] = 1.0
            elif m := DISCOVERED.search(line):
                body_room = self._room(int(m[2]), int(m[3]))
                near = (self.steps - self.last_seen <= RECENT) & (self.seen_room[:, body_room] > 0)
                near[me] = False
                self.counts["near_body"] += near
            elif m := LEAVING.search(line):
                self._seen(self.names.index(m[1].lower()), self._room(int(m[2]), int(m[3])))
        for speaker, utterance in heard(observation["text"], self.vocabulary):
            if speaker == me:
                continue
            if utterance.kind in (SAW_KILL, SUSPECT) and utterance.subject == me:
                self.counts["accused_me"][speaker] += 1.0
            elif utterance.kind == SAW_KILL:
                self.counts["accused"][utterance.subject] += 1.0
            elif utterance.kind == SUSPECT:
                self.counts["suspected"][utterance.subject] += 1.0
            elif utterance.kind == VOUCH:
                self.counts["vouched"][utterance.subject] += 1.0

    def _seen(self, player: int, room: int) -> None:
        self.last_seen[player] = self.steps
        self.seen_room[player] = 0.0
        self.seen_room[player, room] = 1.0

    def vector(self) -> np.ndarray:
        o = self.observation
        players = self.rules.players
        me = int(o["me"])
        phase = np.zeros(len(PHASES), dtype=np.float32)
        phase[int(o["phase"])] = 1.0
        identity = np.zeros(players, dtype=np.float32)
        identity[me] = 1.0
        flags = [np.asarray(o[name], dtype=np.float32) for name in PER_PLAYER]
        seen = np.exp(-np.clip(self.steps - self.last_seen, 0, 1e6) / RECENT).astype(np.float32)
        memory = [seen] + [np.minimum(self.counts[name], 3.0) / 3.0 for name in MEMORY if name != "seen"]
        room = np.zeros(self.rooms, dtype=np.float32)
        room[self._room(int(o["room"][0]), int(o["room"][1]))] = 1.0
        tasks = np.asarray(o["tasks"], dtype=np.float32) / max(1, self.rules.tasks[1])
        extra = np.array([float(o["busy"]) / self.rules.task_time, float(int(o["speaker"]) == me),
                          float(o["impostor"])], dtype=np.float32)
        return np.concatenate([phase, identity, *flags, *memory, self.seen_room.reshape(-1), room, tasks, extra])
