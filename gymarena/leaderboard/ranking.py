"""Suite rankings: which agents did best on one suite version, with how sure we are.

Only complete runs of the suite that share one protocol hash are ranked together (by
default the suite's protocol as installed here, see :func:`leaderboard`); runs under
other protocols are listed apart with what differs. Each agent (reference and code hash)
counts once, by its newest run; the others are counted. An agent belongs to its owner (the
token that submitted it), so another submitter's run under the same reference and code is
another entry, never a replacement.

A run that cannot be scored (a task without scored episodes, a score that is not a finite
number, a ranking key it cannot give) is listed apart as *unranked*, with the reason; it
never stops the others from being ranked.

An entry's score is built from per-seed means computed in SQL (``seed_means``): for
every task with score references, one normalised score per seed, (mean return or
success rate - random) / (reference - random), as every face computes it
(gymarena/scoring.py). The rliable aggregates then treat seeds
as runs: IQM with its 95% stratified-bootstrap CI, rank intervals from the same
bootstrap (``metrics.aggregate.rank_agents``) and the probability of improvement over
the next agent down. Suites may order agents by other keys (their ``ranking``, e.g.
the NetHack Challenge's ascension rate, then median score); those are computed from the
runs' episodes and decide the rank, the IQM columns stay for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from gymarena.metrics import aggregate
from gymarena.protocol import RunProtocol
from gymarena.records import SeedMean
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import normalised_episode_scores, seed_scores, seed_success_rates
from gymarena.suites import DEFAULT_RANKING

RANKING_SEED = 0  # rankings are reproducible: the same results always give the same intervals
RANKING_REPS = 2_000


@dataclass(frozen=True)
class Entry:
    """One agent's place in a suite ranking."""

    run_id: int
    agent_id: int
    agent: str
    reference: str
    version: str
    owner: str
    kind: str
    date: datetime
    rank: int
    rank_low: int | None
    rank_high: int | None
    iqm: aggregate.IntervalEstimate
    poi_next: aggregate.IntervalEstimate | None
    mean_score: float
    success_rate: float | None
    ranking_values: tuple[float, ...]
    runs: int
    seeds: int
    episodes: int
    task_scores: dict[str, float]


@dataclass(frozen=True)
class ApartGroup:
    """Runs of the suite under another protocol, and how it differs from the ranked one."""

    protocol_hash: str
    run_ids: list[int]
    agents: list[str]
    differences: list[str]


@dataclass(frozen=True)
class Unranked:
    """A run under the ranked protocol that could not be scored, and why."""

    run_id: int
    agent: str
    reason: str


@dataclass(frozen=True)
class SuiteRanking:
    suite: str
    protocol_hash: str | None
    ranking: tuple[str, ...]
    tasks: list[str]
    entries: list[Entry]
    apart: list[ApartGroup]
    notes: list[str] = field(default_factory=list)
    unranked: list[Unranked] = field(default_factory=list)


def _task_scores(run: RunInfo, tasks: Sequence[str], means: Sequence[SeedMean]) -> dict[str, np.ndarray]:
    """Per scored task, one normalised score per seed (native decision interval only)."""
    return {task: seed_scores(run.protocol.task(task), means) for task in tasks}


def _success_rate(run: RunInfo, tasks: Sequence[str], means: Sequence[SeedMean]) -> float | None:
    """The mean over tasks with a success rule of each task's success rate (over seeds)."""
    per_task = [seed_success_rates(run.protocol.task(task), means) for task in tasks]
    rates = [float(r.mean()) for r in per_task if r.size]
    return float(np.mean(rates)) if rates else None


def _newest_per_agent(runs: Sequence[RunInfo]) -> tuple[list[RunInfo], dict[int, int]]:
    """The newest run of each agent (reference, code and owner: one stored agent), and how
    many runs each has."""
    newest: dict[int, RunInfo] = {}
    counts: dict[int, int] = {}
    for run in runs:
        counts[run.agent_id] = counts.get(run.agent_id, 0) + 1
        if run.agent_id not in newest or run.created_at >= newest[run.agent_id].created_at:
            newest[run.agent_id] = run
    chosen = list(newest.values())
    return chosen, {run.id: counts[run.agent_id] for run in chosen}


def _unscorable(scores: dict[str, np.ndarray]) -> str | None:
    """Why a run's per-seed scores cannot be ranked, or None if they can."""
    empty = [task for task, s in scores.items() if s.size == 0]
    if empty:
        return f"no scored episodes on {', '.join(empty)}"
    broken = [task for task, s in scores.items() if not np.all(np.isfinite(s))]
    if broken:
        return f"scores that are not finite numbers on {', '.join(broken)}"
    return None


def rank_suite(
    store: ResultsStore,
    suite: str,
    protocol: RunProtocol | None = None,
    ranking: Sequence[str] = DEFAULT_RANKING,
    reps: int = RANKING_REPS,
) -> SuiteRanking:
    """Rank the complete runs of ``suite`` (``name@version``) under ``protocol``.

    ``protocol`` is the suite's task protocols to rank under (without one: the protocol of
    the newest complete run); ``ranking`` the suite's ranking keys.
    """
    runs = store.suite_runs(suite)
    groups: dict[str, list[RunInfo]] = {}
    for run in runs:
        groups.setdefault(run.protocol_hash, []).append(run)
    notes: list[str] = []
    if protocol is None and runs:
        protocol = runs[-1].protocol
    if protocol is None:  # no protocol given and no run stored: nothing to rank
        return SuiteRanking(suite, None, tuple(ranking), [], [], [], notes)
    ranked_hash = protocol.hash
    ranked_runs = groups.pop(ranked_hash, [])
    apart = [
        ApartGroup(h, [r.id for r in group], sorted({r.agent.name for r in group}), protocol.differences(group[0].protocol))
        for h, group in groups.items()
    ]
    tasks = [t.task_id for t in protocol if t.scored]
    if len(tasks) < len(protocol):
        unscored = [t.task_id for t in protocol if not t.scored]
        notes.append(f"not in the scores (no score references): {', '.join(unscored)}")
    unranked: list[Unranked] = []
    entries = _entries(store, ranked_runs, tasks, tuple(ranking), reps, unranked) if tasks else []
    return SuiteRanking(suite, ranked_hash, tuple(ranking), tasks, entries, apart, notes, unranked)


def _entries(
    store: ResultsStore, runs: Sequence[RunInfo], tasks: list[str], ranking: tuple[str, ...], reps: int,
    unranked: list[Unranked],
) -> list[Entry]:
    if not runs:
        return []
    chosen, counts = _newest_per_agent(runs)
    means = store.seed_means(r.id for r in chosen)
    by_run: dict[int, list[SeedMean]] = {}
    for mean in means:
        by_run.setdefault(mean.run_id, []).append(mean)
    custom = tuple(ranking) != DEFAULT_RANKING
    scores: dict[int, dict[str, np.ndarray]] = {}
    custom_values: dict[int, tuple[float, ...]] = {}
    for run in chosen:  # each run on its own: one that cannot be scored is set apart with the reason
        run_scores = _task_scores(run, tasks, by_run.get(run.id, []))
        reason = _unscorable(run_scores)
        if reason is None and custom:
            try:
                custom_values[run.id] = _ranking_values(store, run, ranking)
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                reason = f"its episodes cannot give the suite's ranking keys ({type(exc).__name__}: {exc})"[:500]
        if reason is None:
            scores[run.id] = run_scores
        else:
            unranked.append(Unranked(run.id, run.agent.name, reason))
    chosen = [run for run in chosen if run.id in scores]
    if not chosen:
        return []
    rng = np.random.default_rng(RANKING_SEED)
    matrices = {str(run_id): [task_scores[t] for t in tasks] for run_id, task_scores in scores.items()}
    ranked = {int(r.name): r for r in aggregate.rank_agents(matrices, rng, "iqm", reps)}
    values = {run.id: custom_values[run.id] if custom else (ranked[run.id].estimate.point,) for run in chosen}
    order = sorted(chosen, key=lambda run: (*tuple(-v for v in values[run.id]), run.id))
    ranks = dict(zip((run.id for run in order), aggregate.competition_ranks([values[run.id] for run in order])))
    entries = []
    for position, run in enumerate(order):
        below = order[position + 1] if position + 1 < len(order) else None
        poi = None
        if below is not None:
            poi = aggregate.poi_interval(matrices[str(run.id)], matrices[str(below.id)], rng, reps)
        run_means = by_run.get(run.id, [])
        ranked_run = ranked[run.id]
        entries.append(Entry(
            run_id=run.id, agent_id=run.agent_id, agent=run.agent.name, reference=run.agent.reference, version=run.agent.version,
            owner=run.agent.owner, kind=run.kind, date=run.finished_at or run.updated_at,
            rank=ranks[run.id],
            rank_low=None if custom else ranked_run.rank_low, rank_high=None if custom else ranked_run.rank_high,
            iqm=ranked_run.estimate, poi_next=poi,
            mean_score=float(np.mean([s.mean() for s in scores[run.id].values()])),
            success_rate=_success_rate(run, tasks, run_means),
            ranking_values=values[run.id], runs=counts[run.id],
            seeds=len({m.seed for m in run_means}), episodes=sum(m.episodes for m in run_means),
            task_scores={task: float(s.mean()) for task, s in scores[run.id].items()},
        ))
    return entries


def _ranking_values(store: ResultsStore, run: RunInfo, ranking: Sequence[str]) -> tuple[float, ...]:
    """A run's values of the suite's ranking keys (higher is better), from its episodes."""
    episodes = [r for r in store.episodes(run.id) if r.scored]
    values = []
    for key in ranking:
        statistic, _, quantity = key.partition(":")
        if quantity == "normalised":
            data = np.concatenate([
                normalised_episode_scores(task.spec.scores, [r for r in episodes if r.task_id == task.task_id])
                for task in run.protocol if task.spec.scores is not None
            ] or [np.zeros(0)])
        elif quantity == "return":
            data = np.array([r.episode_return for r in episodes])
        elif quantity == "success":
            data = np.array([float(r.success) for r in episodes if r.success is not None])
        else:
            name = quantity.removeprefix("metrics.")
            data = np.array([float(r.extra[name]) for r in episodes if r.extra.get(name) is not None])
        if data.size == 0:
            values.append(float("-inf"))
        elif statistic == "mean":
            values.append(float(data.mean()))
        elif statistic == "median":
            values.append(float(np.median(data)))
        else:
            values.append(aggregate.aggregate_iqm([data]))
    return tuple(values)


def leaderboard(store: ResultsStore, suite: str, reps: int = RANKING_REPS) -> SuiteRanking:
    """The ranking of a suite (name or ``name@N``) under its protocol as installed here."""
    from gymarena.protocol import suite_protocol
    from gymarena.suites import load_suite

    loaded = load_suite(suite)
    return rank_suite(store, loaded.label, suite_protocol(suite), loaded.ranking, reps)
