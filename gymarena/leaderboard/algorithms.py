"""The algorithms page: every algorithm (name, version, code, owner) with runs stored, and
what its runs were evaluated on.

Suites rank algorithms among others (ranking.py); this page also shows the algorithms'
runs on single tasks, which no suite ranks (the SAC baselines' MuJoCo tasks). Per subject
(a suite, or a task alone) and protocol: the number of training runs (one per trained
checkpoint: each agent's newest run) and, on tasks with score references, the IQM of
normalised scores over runs x tasks with its 95% stratified-bootstrap CI over runs, as
rliable computes it (no CI with one run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.leaderboard.ranking import RANKING_REPS, RANKING_SEED, contenders, entry_scores
from gymarena.metrics import aggregate
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import seed_scores


def algorithms_page(store: ResultsStore, reps: int = RANKING_REPS) -> dict[str, Any]:
    runs = store.algorithm_runs()
    subjects: dict[tuple[str, str], list[RunInfo]] = {}
    for run in runs:
        subject = run.suite or ", ".join(task.task_id for task in run.protocol)
        subjects.setdefault((subject, run.protocol_hash), []).append(run)
    algorithms: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    means = store.seed_means(run.id for run in runs)
    by_run: dict[int, list[Any]] = {}
    for mean in means:
        by_run.setdefault(mean.run_id, []).append(mean)
    for (subject, protocol_hash), subject_runs in sorted(subjects.items()):
        for contender in contenders(subject_runs):
            algorithm = contender.algorithm
            if algorithm is None:
                continue
            key = (contender.newest.agent.owner, algorithm.name, algorithm.version, algorithm.code_hash)
            row = algorithms.setdefault(key, {"name": algorithm.name, "version": algorithm.version,
                                              "code_hash": algorithm.code_hash, "owner": key[0], "subjects": []})
            row["subjects"].append(_subject(subject, protocol_hash, contender, by_run, reps))
    return {"algorithms": sorted(algorithms.values(), key=lambda row: (row["name"], row["version"], row["owner"]))}


def _subject(subject: str, protocol_hash: str, contender: Any, by_run: dict[int, list[Any]], reps: int) -> dict[str, Any]:
    protocol = contender.newest.protocol
    tasks = [task.task_id for task in protocol if task.scored]
    iqm: dict[str, float | None] | None = None
    if tasks:
        per_run = {run.id: {t: seed_scores(run.protocol.task(t), by_run.get(run.id, [])) for t in tasks}
                   for run in contender.runs}
        if all(s.size and np.all(np.isfinite(s)) for scores in per_run.values() for s in scores.values()):
            matrix = entry_scores(contender, per_run, tasks) if contender.unit == "runs" else [
                np.array([per_run[contender.runs[0].id][t].mean()]) for t in tasks]
            if contender.unit == "runs":
                estimate = aggregate.interval_estimate(matrix, "iqm", np.random.default_rng(RANKING_SEED), reps)
                iqm = {"point": estimate.point, "low": estimate.low, "high": estimate.high}
            else:
                iqm = {"point": aggregate.aggregate_iqm(matrix), "low": None, "high": None}
    return {"subject": subject, "protocol_hash": protocol_hash, "runs": len(contender.runs),
            "run_ids": [run.id for run in contender.runs], "kind": contender.newest.kind, "iqm": iqm,
            "tasks": tasks}
