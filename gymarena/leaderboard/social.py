"""The social board of a ``board = "social"`` suite (``social-core@1``): players ranked by a
rating fitted to their games against the suite's fixed reference pool, in both roles.

Each agent's newest complete run under the ranked protocol (the suite's seeds, or the
hidden ones for verified runs) counts once; its games are the run's episodes
(tournament/play.py: opponent, role, result). Shown per agent: its win rate as crewmate
and as impostor, each with a 95% Wilson interval over its games (the roles are not
comparable, so they are never averaged), and one rating: a Bradley-Terry model with a
crew-side advantage fitted to every game on the board (metrics/rating.py), on the Elo
scale with the pool's mean at 0, and a 95% interval from a bootstrap over games. An agent
whose code is a pool member's is that member: one player in the model. Ranks are by the
rating's point estimate (competition ranks); the cross-play matrix shows every win rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymarena.installed import pinned_digest
from gymarena.leaderboard.payloads import apart_payload
from gymarena.leaderboard.ranking import ApartGroup, Listed, by_protocol, newest_per_agent
from gymarena.metrics import aggregate
from gymarena.metrics.proportions import wilson_interval
from gymarena.metrics.rating import Games, ratings_with_intervals
from gymarena.protocol import RunProtocol
from gymarena.results import ResultsStore, RunInfo
from gymarena.tasks import OpponentPool

RATING_SEED = 0
RATING_REPS = 200
Z95 = 1.959963984540054


@dataclass(frozen=True)
class RoleRecord:
    role: str
    games: int
    win_rate: float
    low: float
    high: float


@dataclass(frozen=True)
class SocialEntry(Listed):
    """One player on a social board: its rating, its record per role, its cross-play row."""

    rank: int
    rating: float
    rating_low: float | None
    rating_high: float | None
    roles: tuple[RoleRecord, ...]
    games: int
    pool_member: str | None  # the pool player this agent is (same code), if any
    cross_play: dict[str, dict[str, float | None]]  # opponent -> role -> win rate


@dataclass(frozen=True)
class SocialRanking:
    suite: str
    protocol_hash: str | None
    pool: tuple[str, ...]
    roles: tuple[str, ...]
    entries: list[SocialEntry]
    pool_ratings: dict[str, dict[str, float | None]]
    crew_advantage: float | None
    unranked: list[dict[str, Any]] = field(default_factory=list)
    apart: list[ApartGroup] = field(default_factory=list)


def _pool_of(protocol: RunProtocol) -> tuple[OpponentPool, dict[str, str]]:
    """The board's pool and the code digest its protocol pins for each opponent."""
    tasks = [task for task in protocol if task.spec.pool is not None]
    if not tasks or tasks[0].spec.pool is None:
        raise ValueError("a social board's protocol has a task played against a pool")
    pool = tasks[0].spec.pool
    return pool, {o.name: pinned_digest(tasks[0].simulator_versions, o) for o in pool.opponents}


def rank_social(store: ResultsStore, label: str, protocol: RunProtocol, reps: int = RATING_REPS) -> SocialRanking:
    """The social board of ``label`` under ``protocol``."""
    pool, digests = _pool_of(protocol)
    ranked, apart = by_protocol(store.suite_runs(label), protocol)
    names = [o.name for o in pool.opponents]
    member_by_code = {digests[o.name]: index for index, o in enumerate(pool.opponents)}
    rows: list[tuple[int, int, bool, float]] = []
    chosen, player_of, unranked = [], {}, []
    for run in newest_per_agent(ranked)[0]:
        games: list[tuple[Any, Any, Any]] = [(r.extra.get("opponent"), r.extra.get("role"), r.extra.get("won"))
                                             for r in store.episodes(run.id) if r.error is None]
        if not games or any(o not in names or role not in pool.roles or won not in (0, 0.5, 1) for o, role, won in games):
            unranked.append({"run": run.id, "agent": run.agent.name, "reason": "its episodes are not games of this "
                             "board's pool (opponent, role and result)"})
            continue
        if run.agent.content_hash in member_by_code:
            player = member_by_code[run.agent.content_hash]
        else:
            player = len(names)
            names.append(f"{run.agent.name} (run {run.id})")
        player_of[run.id] = player
        chosen.append((run, games))
        rows += [(player, names.index(o), role == "crewmate", float(won)) for o, role, won in games]
    if not chosen:
        return SocialRanking(label, protocol.hash, tuple(o.name for o in pool.opponents), pool.roles, [], {}, None,
                             unranked, apart)
    ratings, advantage = ratings_with_intervals(Games.of(names, rows), range(len(pool.opponents)),
                                                np.random.default_rng(RATING_SEED), reps)
    points = [ratings[player_of[run.id]].point for run, _ in chosen]
    order = sorted(range(len(chosen)), key=lambda i: (-points[i], chosen[i][0].id))
    ranks = aggregate.competition_ranks([points[i] for i in order])
    entries = [_entry(chosen[i][0], chosen[i][1], ratings[player_of[chosen[i][0].id]], rank, pool,
                      player_of[chosen[i][0].id])
               for i, rank in zip(order, ranks)]
    pool_ratings = {o.name: {"point": ratings[i].point, "low": ratings[i].low, "high": ratings[i].high}
                    for i, o in enumerate(pool.opponents)}
    return SocialRanking(label, protocol.hash, tuple(o.name for o in pool.opponents), pool.roles, entries,
                         pool_ratings, advantage, unranked, apart)


def _entry(run: RunInfo, games: list[tuple[Any, Any, Any]], rating: Any, rank: int, pool: OpponentPool,
           player: int) -> SocialEntry:
    roles = []
    for role in pool.roles:
        results = [float(won) for _, r, won in games if r == role]
        low, high = wilson_interval(sum(results), len(results), Z95)
        roles.append(RoleRecord(role, len(results), float(np.mean(results)) if results else float("nan"), low, high))
    cross: dict[str, dict[str, float | None]] = {}
    for opponent in pool.opponents:
        cross[opponent.name] = {}
        for role in pool.roles:
            results = [float(won) for o, r, won in games if o == opponent.name and r == role]
            cross[opponent.name][role] = float(np.mean(results)) if results else None
    return SocialEntry(
        **Listed.of(run), rank=rank, rating=rating.point,
        rating_low=rating.low, rating_high=rating.high, roles=tuple(roles), games=len(games),
        pool_member=pool.opponents[player].name if player < len(pool.opponents) else None, cross_play=cross,
    )


def social_payload(ranking: SocialRanking) -> dict[str, Any]:
    return {
        "board": "social",
        "suite": ranking.suite,
        "protocol_hash": ranking.protocol_hash,
        "pool": list(ranking.pool),
        "roles": list(ranking.roles),
        "rating_unit": "Bradley-Terry rating on the Elo scale (pool mean 0), 95% bootstrap interval over games",
        "crew_advantage": ranking.crew_advantage,
        "pool_ratings": ranking.pool_ratings,
        "entries": [{
            "rank": e.rank, "run": e.run_id, "agent_id": e.agent_id, "agent": e.agent, "version": e.version,
            "owner": e.owner, "kind": e.kind, "date": e.date.isoformat(),
            "rating": {"point": e.rating, "low": e.rating_low, "high": e.rating_high},
            "roles": {r.role: {"games": r.games, "win_rate": r.win_rate, "low": r.low, "high": r.high} for r in e.roles},
            "games": e.games, "pool_member": e.pool_member, "cross_play": e.cross_play,
        } for e in ranking.entries],
        "unranked": ranking.unranked,
        "apart": [apart_payload(group) for group in ranking.apart],
        "notes": [],
    }


def cross_play_figure(payload: dict[str, Any]) -> str:
    """The cross-play matrix: each ranked agent's win rate against each pool player, per role."""
    from gymarena.leaderboard.matrix_svg import matrix_svg

    if not payload["entries"]:
        return ""
    columns = [(o, role) for o in payload["pool"] for role in payload["roles"]]
    values = [[e["cross_play"][o][role] for o, role in columns] for e in payload["entries"]]
    labels = [f"{o}\nas {'crew' if r == 'crewmate' else 'impostor'}" for o, r in columns]
    return matrix_svg([e["agent"] for e in payload["entries"]], labels, values,
                      f"{payload['suite']}: win rate of each agent (row) against each pool player (column)")


def social_payload_under(store: ResultsStore, label: str, reps: int):
    """The board ranked under a protocol, as its page's data."""
    return lambda protocol: social_payload(rank_social(store, label, protocol, min(reps, RATING_REPS)))


def social_figure(payload: dict[str, Any]) -> str:
    """The ratings with their intervals, then the cross-play matrix."""
    from gymarena.leaderboard.pages import interval_figure

    ratings = interval_figure({e["agent"]: e["rating"] for e in payload["entries"]},
                              f"{payload['suite']}: rating, 95% bootstrap interval over games",
                              "rating (Elo scale, pool mean 0)", (0.0, 0.0))
    return ratings + cross_play_figure(payload)


def social_board(store: ResultsStore, suite: str, reps: int = RATING_REPS) -> SocialRanking:
    """The social board of a suite (name, ``name@N`` or file) under its installed protocol."""
    from gymarena.installed import suite_protocol
    from gymarena.suites import load_suite

    return rank_social(store, load_suite(suite).label, suite_protocol(suite), min(reps, RATING_REPS))
