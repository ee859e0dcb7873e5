"""What a trained social-deduction player can say: a discrete vocabulary of utterances
with the content of the reference's messages (who I saw where, who I saw kill, whom I
suspect, whom I vouch for), rendered into the game's transcript as plain sentences.

A policy learns *what* to say (one index into the vocabulary), not grammar. The
sentences are the ones the scripted players speak and understand (``"I saw Player Red
kill Player Blue in room (1,0)."``, ``"I suspect Player Red."``), so trained and scripted
players can share a table. :func:`heard` reads every player's messages back out of an
observation's text, the scripted players' included, as utterances: what a listener knows.

Layout of the indices for ``players`` names and ``rooms`` rooms (``x + y * width``):
0 is "nothing to say", then ``SAW_IN_ROOM`` (player x room), ``SAW_KILL`` (killer x
victim), ``SUSPECT`` (player) and ``VOUCH`` (player).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gymarena.baselines.scripted.social import SAW as _SAW_KILL  # the scripted players' own accusation

NOTHING, SAW_IN_ROOM, SAW_KILL, SUSPECT, VOUCH = "nothing", "saw in room", "saw kill", "suspect", "vouch"
KINDS = (NOTHING, SAW_IN_ROOM, SAW_KILL, SUSPECT, VOUCH)

SPOKE = re.compile(r'^\[\d+\] Player (\w+)(?: \(you\))? \(to all\): "(.*)"$')
_SAW_IN_ROOM = re.compile(r"I saw Player (\w+) in room \((\d+),(\d+)\)")
_SUSPECT = re.compile(r"I (?:suspect|vote) Player (\w+)")
_VOUCH = re.compile(r"Player (\w+) is safe")


@dataclass(frozen=True)
class Utterance:
    """One thing said: its kind, the players it names (by index) and a room (x, y)."""

    kind: str
    subject: int = -1  # the player seen, the killer, the suspect or the one vouched for
    victim: int = -1
    room: tuple[int, int] = (-1, -1)


class Vocabulary:
    """The utterances of a game with these player names and this room grid."""

    def __init__(self, names: list[str] | tuple[str, ...], width: int, height: int):
        self.names = [n.lower() for n in names]
        self.width, self.height = width, height
        players, rooms = len(self.names), width * height
        self.offsets = {NOTHING: 0, SAW_IN_ROOM: 1, SAW_KILL: 1 + players * rooms,
                        SUSPECT: 1 + players * rooms + players * players}
        self.offsets[VOUCH] = self.offsets[SUSPECT] + players
        self.size = self.offsets[VOUCH] + players

    def index(self, utterance: Utterance) -> int:
        players = len(self.names)
        if utterance.kind == NOTHING:
            return 0
        if utterance.kind == SAW_IN_ROOM:
            x, y = utterance.room
            return self.offsets[SAW_IN_ROOM] + utterance.subject * self.width * self.height + x + y * self.width
        if utterance.kind == SAW_KILL:
            return self.offsets[SAW_KILL] + utterance.subject * players + utterance.victim
        return self.offsets[utterance.kind] + utterance.subject

    def utterance(self, index: int) -> Utterance:
        if not 0 <= index < self.size:
            raise ValueError(f"utterance index {index} is outside the vocabulary (0 to {self.size - 1})")
        players, rooms = len(self.names), self.width * self.height
        if index == 0:
            return Utterance(NOTHING)
        if index < self.offsets[SAW_KILL]:
            subject, room = divmod(index - self.offsets[SAW_IN_ROOM], rooms)
            return Utterance(SAW_IN_ROOM, subject, room=(room % self.width, room // self.width))
        if index < self.offsets[SUSPECT]:
            subject, victim = divmod(index - self.offsets[SAW_KILL], players)
            return Utterance(SAW_KILL, subject, victim)
        if index < self.offsets[VOUCH]:
            return Utterance(SUSPECT, index - self.offsets[SUSPECT])
        return Utterance(VOUCH, index - self.offsets[VOUCH])

    def render(self, index: int) -> str:
        """The sentence said for an utterance index."""
        u = self.utterance(index)
        name = self._display(u.subject) if u.subject >= 0 else ""
        if u.kind == NOTHING:
            return "I have no information."
        if u.kind == SAW_IN_ROOM:
            return f"I saw {name} in room ({u.room[0]},{u.room[1]})."
        if u.kind == SAW_KILL:
            return f"I saw {name} kill {self._display(u.victim)}."
        if u.kind == SUSPECT:
            return f"I suspect {name}."
        return f"{name} is safe: I was with them."

    def parse(self, message: str) -> Utterance:
        """What a message says, in the vocabulary's terms (anything else: nothing)."""
        if (m := _SAW_KILL.search(message)) and self._known(m[1], m[2]):
            return Utterance(SAW_KILL, self.names.index(m[1].lower()), self.names.index(m[2].lower()))
        if (m := _SAW_IN_ROOM.search(message)) and self._known(m[1]):
            x, y = int(m[2]), int(m[3])
            if x < self.width and y < self.height:
                return Utterance(SAW_IN_ROOM, self.names.index(m[1].lower()), room=(x, y))
        if (m := _SUSPECT.search(message)) and self._known(m[1]):
            return Utterance(SUSPECT, self.names.index(m[1].lower()))
        if (m := _VOUCH.search(message)) and self._known(m[1]):
            return Utterance(VOUCH, self.names.index(m[1].lower()))
        return Utterance(NOTHING)

    def allowed(self, me: int, alive: np.ndarray) -> np.ndarray:
        """The mask of what player ``me`` may say: about living others, never about itself
        (a kill names a dead victim)."""
        mask = np.zeros(self.size, dtype=bool)
        mask[0] = True
        players, rooms = len(self.names), self.width * self.height
        others = np.asarray(alive, dtype=bool).copy()
        others[me] = False
        for subject in np.flatnonzero(others):
            start = self.offsets[SAW_IN_ROOM] + subject * rooms
            mask[start:start + rooms] = True
            victims = ~np.asarray(alive, dtype=bool)
            victims[subject] = False
            victims[me] = False
            mask[self.offsets[SAW_KILL] + subject * players + np.flatnonzero(victims)] = True
            mask[self.offsets[SUSPECT] + subject] = True
            mask[self.offsets[VOUCH] + subject] = True
        return mask

    def _display(self, player: int) -> str:
        return f"Player {self.names[player].capitalize()}"

    def _known(self, *names: str) -> bool:
        return all(n.lower() in self.names for n in names)


def heard(text: str, vocabulary: Vocabulary) -> list[tuple[int, Utterance]]:
    """Every message in an observation's text, as (speaker index, utterance)."""
    said = []
    for line in text.splitlines():
        if (m := SPOKE.match(line)) and m[1].lower() in vocabulary.names:
            said.append((vocabulary.names.index(m[1].lower()), vocabulary.parse(m[2])))
    return said
