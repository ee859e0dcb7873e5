"""The reference pool of a social board, as its suite's ``[social]`` table gives it:

    [social]
    games = 4                          # per opponent, role and seed
    roles = ["crewmate", "impostor"]   # the sides the agent under test plays
    opponents = [
      { name = "scripted", reference = "scripted" },
      { name = "random", reference = "random" },
    ]

Each opponent is an agent reference, part of the task's spec (nothing is imported here:
listing suites stays cheap). The protocol pins each one (gymarena/installed.py).
"""

from __future__ import annotations

from typing import Any

from gymarena.errors import SuiteFormatError
from gymarena.tasks import Opponent, OpponentPool, TaskSpec

ROLES = ("crewmate", "impostor")
MAX_GAMES = 10_000


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


def pooled(task: TaskSpec, pool: OpponentPool, where: str) -> TaskSpec:
    """The task as its board plays it: against the pool, one game per episode of a seed."""
    import dataclasses

    if task.agents != "multi":
        raise SuiteFormatError(f"{where}: a social board plays multi-agent tasks; {task.id} is single-agent")
    return dataclasses.replace(task, pool=pool, episodes=pool.episodes)
