"""One game of a social board: the agent under test plays one role's seats, an opponent
from the pool plays the others.

The seats' roles are the game's to deal (from the episode seed); each player learns its
own from its first observation (``observation["impostor"]``), and so does the
:class:`Matchup` that routes each seat's observation to the side that plays it. Each side
sees only its own seats' observations and answers only for them.
"""

from __future__ import annotations

from typing import Any

from gymarena.agents import _spawn_seeds
from gymarena.errors import InvalidActionError

IMPOSTOR = "impostor"


def role_of(observation: Any) -> str:
    """The role a seat's observation shows it (the social deduction game's observation)."""
    return IMPOSTOR if int(observation["impostor"]) else "crewmate"


class Matchup:
    """A multi-agent agent made of two: ``tested`` for the seats of ``role``, ``opponent`` for
    the rest (both multi-agent agents: dicts of observations in, dicts of actions out)."""

    def __init__(self, tested: Any, opponent: Any, role: str):
        self.tested, self.opponent, self.role = tested, opponent, role
        self.seats: dict[str, bool] | None = None  # agent id -> played by the tested agent

    def reset(self, seed: int | None = None) -> None:
        tested_seed, opponent_seed = _spawn_seeds(seed, 2)
        self.tested.reset(seed=tested_seed)
        self.opponent.reset(seed=opponent_seed)
        self.seats = None

    def act(self, observations: dict[str, Any]) -> dict[str, Any]:
        if self.seats is None:  # every seat observes the first step: the deal is known from it
            self.seats = {agent: role_of(observation) == self.role for agent, observation in observations.items()}
        mine = {a: o for a, o in observations.items() if self.seats.get(a, False)}
        theirs = {a: o for a, o in observations.items() if not self.seats.get(a, False)}
        actions: dict[str, Any] = {}
        if mine:
            actions.update(_only(self.tested.act(mine), mine))
        if theirs:
            actions.update(_only(self.opponent.act(theirs), theirs))
        return actions


def _only(actions: Any, asked: dict[str, Any]) -> dict[str, Any]:
    """A side's answer for the seats it was asked for only: a side cannot act for the
    other's seats (a missing seat is the runner's to report)."""
    if not isinstance(actions, dict):
        raise InvalidActionError(f"a player of a social board returned a {type(actions).__name__}; it answers with a "
                                 f"dict of actions keyed by agent id ({', '.join(asked)})")
    return {agent: action for agent, action in actions.items() if agent in asked}
