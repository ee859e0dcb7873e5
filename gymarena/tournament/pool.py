"""The reference pool of a social board, as its suite's ``[social]`` table gives it:

    [social]
    games = 4                          # per opponent, role and seed
    roles = ["crewmate", "impostor"]   # the sides the agent under test plays
    opponents = [
      { name = "scripted", reference = "scripted" },
      { name = "random", reference = "random" },
    ]

Each opponent is an agent reference, part of the task's spec. The protocol pins each
one by its content hash (for the players gymarena ships, their declared version: the
scripted opponent by the scripted player of the game's family alone), beside the
simulator's versions (:func:`pool_pins`, called where protocols are made, never when
suites are listed): a player bumped to a new version puts its board's runs under another
protocol; a style edit of its code moves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gymarena.errors import GymarenaError, SuiteFormatError
from gymarena.tasks import Opponent, OpponentPool, TaskSpec

if TYPE_CHECKING:
    from gymarena.agents import AgentSource

ROLES = ("crewmate", "impostor")
MAX_GAMES = 10_000


PIN_PREFIX = "pool player "


def reference_pool(settings: dict[str, Any], where: str) -> OpponentPool:
    """The pool a ``[social]`` table names (nothing is imported: listing suites stays cheap)."""
    unknown = set(settings) - {"games", "roles", "opponents"}
    if unknown:
        raise SuiteFormatError(f"{where}: [social] has unknown keys {', '.join(sorted(unknown))}; "
                               "it takes games, roles and opponents")
    games, roles, opponents = settings.get("games", 1), settings.get("roles", list(ROLES)), settings.get("opponents")
    if not isinstance(games, int) or not 1 <= games <= MAX_GAMES:
        raise SuiteFormatError(f"{where}: [social].games is the number of games per opponent, role and seed (1 to "
                               f"{MAX_GAMES:,})")
    if not isinstance(roles, list) or not roles or not set(roles) <= set(ROLES) or len(set(roles)) != len(roles):
        raise SuiteFormatError(f"{where}: [social].roles is a list of {', '.join(ROLES)}")
    if not isinstance(opponents, list) or not opponents or not all(
            isinstance(o, dict) and set(o) == {"name", "reference"} for o in opponents):
        raise SuiteFormatError(f"{where}: [social].opponents is a list of {{ name = ..., reference = ... }}")
    named = [Opponent(str(o["name"]), str(o["reference"])) for o in opponents]
    if len({o.name for o in named}) != len(named):
        raise SuiteFormatError(f"{where}: [social].opponents names a player twice")
    return OpponentPool(tuple(named), tuple(roles), games)


def pool_pins(pool: OpponentPool, family: str) -> dict[str, str]:
    """Each opponent's content hash, as the protocol pins it (``pool player NAME``). An opponent
    whose family's packages are missing here pins that it is not installed (the suite cannot
    be played here; its runs from elsewhere are listed apart, never mixed in)."""
    from gymarena.agents import load_agent
    from gymarena.errors import MissingExtraError

    pins = {}
    for opponent in pool.opponents:
        try:
            pins[PIN_PREFIX + opponent.name] = player_pin(load_agent(opponent.reference), family)
        except GymarenaError as exc:
            if not isinstance(exc.__cause__, MissingExtraError) and not isinstance(exc, MissingExtraError):
                raise GymarenaError(f"the pool's player {opponent.name!r} ({opponent.reference}) cannot be loaded: "
                                    f"{exc}") from None
            pins[PIN_PREFIX + opponent.name] = f"not installed: {exc}"[:300]
    return pins


def player_pin(source: AgentSource, family: str) -> str:
    """What a pool pins of a player in a game of ``family``: its content hash, except the
    ``scripted`` agent's, which is pinned by the family's scripted player only."""
    from gymarena.versions import SCRIPTED

    if source.reference == "scripted" and family in SCRIPTED:
        return SCRIPTED[family].identity_hash()
    return source.content_hash


def pinned_digest(protocol_versions: Mapping[str, str], opponent: Opponent) -> str:
    """The code digest a protocol pinned for a pool's opponent."""
    return protocol_versions[PIN_PREFIX + opponent.name]


def pooled(task: TaskSpec, pool: OpponentPool, where: str) -> TaskSpec:
    """The task as its board plays it: against the pool, one game per episode of a seed."""
    import dataclasses

    if task.agents != "multi":
        raise SuiteFormatError(f"{where}: a social board plays multi-agent tasks; {task.id} is single-agent")
    return dataclasses.replace(task, pool=pool, episodes=pool.episodes)
