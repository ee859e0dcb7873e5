"""Protocols as installed here: the simulator versions, task facts and pool pins of tasks and
suites, read from the installed packages, runtimes and shipped players. Kept apart from
:mod:`gymarena.protocol` (the record of what a result's hash covers, at the ground of the
package) because resolving them reaches up into the wrappers, the suites and the pools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from gymarena.errors import GymarenaError
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.tasks import Opponent, OpponentPool, TaskSpec

if TYPE_CHECKING:
    from gymarena.agents import AgentSource


def installed_protocol(specs: Iterable[TaskSpec], seeds: Sequence[int]) -> RunProtocol:
    """The protocol of these tasks under these seeds with the simulators installed here
    (or, for isolated families, in their runtimes) and this gymarena's metric definitions."""
    from gymarena.metrics import METRIC_DEFINITIONS
    from gymarena.wrappers import family_of, simulator_versions, task_facts

    seeds = tuple(seeds)
    return RunProtocol(tuple(TaskProtocol(s, seeds, simulator_versions(family_of(s).name) | task_facts(s) | _pool_pins(s),
                                          dict(METRIC_DEFINITIONS)) for s in specs))


def _pool_pins(spec: TaskSpec) -> dict[str, str]:
    """A task played against a pool (a social board's): its opponents' code digests."""
    if spec.pool is None:
        return {}
    return pool_pins(spec.pool, spec.family)


def suite_protocol(suite: str, seeds: Sequence[int] | None = None) -> RunProtocol:
    """A suite's protocol as installed here: its tasks under its seeds (or ``seeds``, such
    as a leaderboard's hidden ones)."""
    from gymarena.suites import load_suite

    loaded = load_suite(suite)
    return installed_protocol(loaded.tasks, tuple(seeds) if seeds else loaded.seeds)


# The protocol pins each opponent of a pool under this fact prefix: by its content hash (for
# the players gymarena ships, their declared version: the scripted opponent by the scripted
# player of the game's family alone), beside the simulator's versions. A player bumped to a
# new version puts its board's runs under another protocol; a style edit moves nothing.
PIN_PREFIX = "pool player "


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
