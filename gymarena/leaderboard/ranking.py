"""Suite rankings: which agents did best on one suite version, with how sure we are.

Only complete runs of the suite that share one protocol hash are ranked together (by
default the suite's protocol as installed here, see :func:`leaderboard`); runs under
other protocols are listed apart with what differs. Each agent (reference and code hash)
counts once, by its newest run; the others are counted. An agent belongs to its owner (the
token that submitted it), so another submitter's run under the same reference and code is
another entry, never a replacement.

An entry is one agent, or one **algorithm** over its independently trained checkpoints:
runs that name an algorithm (name, version, code; ``RunInfo.algorithm``) join their
owner's entry of it, one run per checkpoint. rliable's unit is the training run, so such an
entry's score matrix is runs x tasks (each run's mean over its evaluation seeds) and its
CIs resample runs; an entry of one run resamples its evaluation seeds instead, and every
entry says which (``Entry.unit``).

A run that cannot be scored (a task without scored episodes, a score that is not a finite
number, a ranking key it cannot give) is listed apart as *unranked*, with the reason; it
never stops the others from being ranked.

An entry's score is built from per-seed means computed in SQL (``seed_means``): for
every task with score references, one normalised score per seed, (mean return or
success rate - random) / (reference - random), as every face computes it
(gymarena/scoring.py). The rliable aggregates over the entry's unit (runs, or seeds):
IQM with its 95% stratified-bootstrap CI, rank intervals from the same
bootstrap (``metrics.aggregate.rank_agents``) and the probability of improvement over
the next agent down. Suites may order agents by other keys (their ``ranking``, e.g.
the NetHack Challenge's ascension rate, then median score); those are computed from the
runs' episodes and decide the rank, the IQM columns stay for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from gymarena.metrics import aggregate
from gymarena.protocol import RunProtocol
from gymarena.records import AlgorithmIdentity, SeedMean
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import normalised_episode_scores, seed_scores, seed_success_rates
from gymarena.suites import DEFAULT_RANKING

RANKING_SEED = 0  # rankings are reproducible: the same results always give the same intervals
RANKING_REPS = 2_000


@dataclass(frozen=True)
class Listed:
    """Who holds a place on any board: the run it is named by (its newest), its agent (or
    algorithm) name and version, owner, kind of run and date."""

    run_id: int
    agent_id: int
    agent: str
    version: str
    owner: str
    kind: str
    date: datetime

    @staticmethod
    def of(run: RunInfo) -> dict[str, Any]:
        """The fields of an agent's run, to build an entry with."""
        return {"run_id": run.id, "agent_id": run.agent_id, "agent": run.agent.name, "version": run.agent.version,
                "owner": run.agent.owner, "kind": run.kind, "date": run.finished_at or run.updated_at}


@dataclass(frozen=True)
class Entry(Listed):
    """One agent's (or algorithm's) place in a suite ranking."""

    reference: str
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
    run_ids: tuple[int, ...] = ()
    unit: str = "seeds"  # what the CIs resample: "runs" (training runs) or, with one run, "seeds"
    superseded: int = 0  # older runs of the entry's agents, not in its score
    algorithm: bool = False  # an algorithm over its trained checkpoints, not one agent


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


@dataclass(frozen=True, eq=False)  # compared by identity: one per entry
class Contender:
    """What one entry ranks: an agent's newest run, or an algorithm's runs (one per trained
    checkpoint: the newest run of each of its agents). ``superseded`` counts the older runs
    left out."""

    runs: tuple[RunInfo, ...]
    superseded: int
    algorithm: AlgorithmIdentity | None

    @property
    def newest(self) -> RunInfo:
        return max(self.runs, key=lambda run: (run.created_at, run.id))

    @property
    def unit(self) -> str:
        """What the entry's CI resamples: its training runs, or (with one run) its seeds."""
        return "runs" if len(self.runs) > 1 else "seeds"


def contenders(runs: Sequence[RunInfo], by_algorithm: bool = True) -> list[Contender]:
    """The entries a suite's runs make, in the order their newest runs were stored.

    A run that names an algorithm joins the entry of its owner's runs of that algorithm
    (name, version and code): an owner can never add a run to another's entry. Within an
    entry, each agent (reference, code and owner: one trained checkpoint) counts once, by
    its newest run; so does an agent whose runs name no algorithm, alone (and every agent,
    without ``by_algorithm``)."""
    groups: dict[tuple, dict[int, list[RunInfo]]] = {}
    algorithms: dict[tuple, AlgorithmIdentity | None] = {}
    for run in runs:
        if by_algorithm and run.algorithm is not None:
            key: tuple = ("algorithm", run.agent.owner, run.algorithm.name, run.algorithm.version, run.algorithm.code_hash)
        else:
            key = ("agent", run.agent_id)
        groups.setdefault(key, {}).setdefault(run.agent_id, []).append(run)
        algorithms[key] = run.algorithm if by_algorithm else None
    found = []
    for key, by_agent in groups.items():
        newest = tuple(max(agent_runs, key=lambda run: (run.created_at, run.id)) for agent_runs in by_agent.values())
        superseded = sum(len(agent_runs) for agent_runs in by_agent.values()) - len(newest)
        found.append(Contender(tuple(sorted(newest, key=lambda run: run.id)), superseded, algorithms[key]))
    return sorted(found, key=lambda c: c.newest.id)


def entry_scores(contender: Contender, per_run: dict[int, dict[str, np.ndarray]], tasks: Sequence[str]) -> list[np.ndarray]:
    """The entry's score matrix, one array per task: each run's mean over its seeds when
    the entry has several runs (rliable's runs x tasks), else its one run's per-seed scores."""
    if contender.unit == "seeds":
        return [per_run[contender.runs[0].id][task] for task in tasks]
    return [np.array([per_run[run.id][task].mean() for run in contender.runs]) for task in tasks]


def _unscorable(scores: dict[str, np.ndarray]) -> str | None:
    """Why a run's per-seed scores cannot be ranked, or None if they can."""
    empty = [task for task, s in scores.items() if s.size == 0]
    if empty:
        return f"no scored episodes on {', '.join(empty)}"
    broken = [task for task, s in scores.items() if not np.all(np.isfinite(s))]
    if broken:
        return f"scores that are not finite numbers on {', '.join(broken)}"
    return None


def by_protocol(runs: Sequence[RunInfo], protocol: RunProtocol) -> tuple[list[RunInfo], list[ApartGroup]]:
    """(the runs under ``protocol``, the others grouped by their protocol with what differs):
    every board ranks the first and lists the second apart. A run whose simulator check found
    a task that diverged from its reference fingerprint is listed apart too, saying so."""
    groups: dict[tuple[str, bool], list[RunInfo]] = {}
    for run in runs:
        groups.setdefault((run.protocol_hash, bool(diverged_tasks(run))), []).append(run)
    ranked = groups.pop((protocol.hash, False), [])
    return ranked, [ApartGroup(h, [r.id for r in group], sorted({r.agent.name for r in group}),
                               protocol.differences(group[0].protocol) + (_drift(group) if drifted else []))
                    for (h, drifted), group in groups.items()]


def diverged_tasks(run: RunInfo) -> dict[str, str]:
    """The tasks whose simulator, where the run was made, diverged from the reference
    fingerprint (its provenance's simulator check), with where."""
    from gymarena.fingerprints.drift import recorded_checks

    return {task: words for task, words in recorded_checks(run.provenance).items() if words.startswith("diverged")}


def _drift(group: Sequence[RunInfo]) -> list[str]:
    found = {task: words for run in group for task, words in diverged_tasks(run).items()}
    return [f"{task}: made on a simulator that departs from its reference fingerprint ({words}; gymarena check)"
            for task, words in sorted(found.items())]


def newest_per_agent(runs: Sequence[RunInfo]) -> tuple[list[RunInfo], dict[int, int]]:
    """Each agent's newest run (in run order), and per agent how many older runs it has: the
    boards whose entries are agents (safety, social) rank those."""
    found = contenders(runs, by_algorithm=False)
    return [c.newest for c in found], {c.newest.agent_id: c.superseded for c in found}


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
    notes: list[str] = []
    if protocol is None and runs:
        protocol = runs[-1].protocol
    if protocol is None:  # no protocol given and no run stored: nothing to rank
        return SuiteRanking(suite, None, tuple(ranking), [], [], [], notes)
    ranked_hash = protocol.hash
    ranked_runs, apart = by_protocol(runs, protocol)
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
    candidates = contenders(runs)
    means = store.seed_means(run.id for c in candidates for run in c.runs)
    by_run: dict[int, list[SeedMean]] = {}
    for mean in means:
        by_run.setdefault(mean.run_id, []).append(mean)
    custom = tuple(ranking) != DEFAULT_RANKING
    per_run: dict[int, dict[str, np.ndarray]] = {}
    custom_values: dict[int, tuple[float, ...]] = {}
    scored: list[Contender] = []
    for contender in candidates:  # each on its own: one that cannot be scored is set apart with the reason
        reason = None
        for run in contender.runs:
            run_scores = _task_scores(run, tasks, by_run.get(run.id, []))
            reason = _unscorable(run_scores)
            if reason is None and custom:
                try:
                    custom_values[run.id] = _ranking_values(store, run, ranking)
                except (TypeError, ValueError, KeyError, OverflowError) as exc:
                    reason = f"its episodes cannot give the suite's ranking keys ({type(exc).__name__}: {exc})"[:500]
            if reason is not None:
                if len(contender.runs) > 1:
                    reason = f"run {run.id}: {reason}"
                break
            per_run[run.id] = run_scores
        if reason is None:
            scored.append(contender)
        else:
            unranked.append(Unranked(contender.newest.id, _name(contender), reason))
    if not scored:
        return []
    rng = np.random.default_rng(RANKING_SEED)
    ids = {c: c.newest.id for c in scored}  # an entry is named by its newest run
    matrices = {str(ids[c]): entry_scores(c, per_run, tasks) for c in scored}
    ranked = {int(r.name): r for r in aggregate.rank_agents(matrices, rng, "iqm", reps)}

    def values_of(c: Contender) -> tuple[float, ...]:
        if not custom:
            return (ranked[ids[c]].estimate.point,)
        return tuple(float(v) for v in np.mean([custom_values[run.id] for run in c.runs], axis=0))

    values = {c: values_of(c) for c in scored}
    order = sorted(scored, key=lambda c: (*tuple(-v for v in values[c]), ids[c]))
    ranks = dict(zip(order, aggregate.competition_ranks([values[c] for c in order])))
    entries = []
    for position, contender in enumerate(order):
        below = order[position + 1] if position + 1 < len(order) else None
        poi = None
        if below is not None:
            poi = aggregate.poi_interval(matrices[str(ids[contender])], matrices[str(ids[below])], rng, reps)
        entries.append(_entry(contender, per_run, by_run, tasks, ranked[ids[contender]], ranks[contender],
                              values[contender], poi, custom))
    return entries


def _name(contender: Contender) -> str:
    return contender.algorithm.label if contender.algorithm is not None else contender.newest.agent.name


def _entry(contender: Contender, per_run: dict[int, dict[str, np.ndarray]], by_run: dict[int, list[SeedMean]],
           tasks: list[str], ranked: aggregate.RankedAgent, rank: int, values: tuple[float, ...],
           poi: aggregate.IntervalEstimate | None, custom: bool) -> Entry:
    run = contender.newest
    run_means = [m for r in contender.runs for m in by_run.get(r.id, [])]
    rates = [rate for r in contender.runs if (rate := _success_rate(r, tasks, by_run.get(r.id, []))) is not None]
    task_means = {task: float(np.mean([per_run[r.id][task].mean() for r in contender.runs])) for task in tasks}
    algorithm = contender.algorithm
    named = {} if algorithm is None else {"agent": algorithm.name, "version": algorithm.version}
    return Entry(
        **(Listed.of(run) | named), reference=run.agent.reference if algorithm is None else algorithm.code_hash,
        rank=rank, rank_low=None if custom else ranked.rank_low, rank_high=None if custom else ranked.rank_high,
        iqm=ranked.estimate, poi_next=poi,
        mean_score=float(np.mean(list(task_means.values()))),
        success_rate=float(np.mean(rates)) if rates else None,
        ranking_values=values, runs=len(contender.runs),
        seeds=len({(m.run_id, m.seed) for m in run_means}), episodes=sum(m.episodes for m in run_means),
        task_scores=task_means,
        run_ids=tuple(r.id for r in contender.runs), unit=contender.unit, superseded=contender.superseded,
        algorithm=algorithm is not None,
    )


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
    from gymarena.installed import suite_protocol
    from gymarena.suites import load_suite

    loaded = load_suite(suite)
    return rank_suite(store, loaded.label, suite_protocol(suite), loaded.ranking, reps)
