"""What a report is computed from: stored runs, their episodes, and their score matrices.

A report compares runs (one agent each). For the aggregate statistics, each run's
normalised scores form a ``(seeds x tasks)`` matrix: the entry for (seed, task) is the
mean normalised score of that seed's episodes at the task's native decision interval,
so seeds play the part that independent runs play in rliable. Only tasks with score
references, evaluated by every run under the same protocol, enter the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gymarena.errors import GymarenaError
from gymarena.records import EpisodeRecord
from gymarena.results import ResultsStore, RunInfo, TaskProtocol
from gymarena.summary import TaskSummary, normalised_episode_scores, summarise


@dataclass
class RunData:
    run: RunInfo
    records: list[EpisodeRecord]
    summaries: list[TaskSummary] = field(init=False)

    def __post_init__(self) -> None:
        self.summaries = summarise(self.run.tasks, self.records)

    @property
    def label(self) -> str:
        return f"run {self.run.id}: {self.run.agent.name}"

    def protocol(self, task_id: str) -> TaskProtocol | None:
        return next((t for t in self.run.tasks if t.task_id == task_id), None)

    def seed_scores(self, task_id: str) -> np.ndarray:
        """Per-seed mean normalised score on one task (seeds without episodes left out)."""
        task = self.protocol(task_id)
        native = task.spec.get("decision_intervals", [1])[0]
        by_seed: dict[int, list[EpisodeRecord]] = {}
        for record in self.records:
            if record.task_id == task_id and record.decision_interval == native and record.scored:
                by_seed.setdefault(record.seed, []).append(record)
        refs = task.spec["scores"]
        return np.array([normalised_episode_scores(refs, v).mean() for _, v in sorted(by_seed.items())])


@dataclass(frozen=True)
class Comparison:
    """The tasks every run shares with score references, and why others were left out."""

    tasks: list[str]
    excluded: dict[str, str]

    def matrix(self, run: RunData) -> list[np.ndarray]:
        return [run.seed_scores(task) for task in self.tasks]


def load_runs(store: ResultsStore, run_ids: Sequence[int]) -> list[RunData]:
    """The runs with their episodes, in the order given; unknown ids are an error."""
    runs = []
    for run_id in dict.fromkeys(run_ids):
        run = store.get_run(run_id)
        if run is None:
            raise GymarenaError(f"there is no run {run_id} in {store.display_url}; `gymarena results` lists the runs")
        runs.append(RunData(run, store.episodes(run_id)))
    if not runs:
        raise GymarenaError("give at least one run id; `gymarena results` lists the runs")
    return runs


def compare(runs: Sequence[RunData]) -> Comparison:
    """Choose the tasks that can be aggregated across all the runs."""
    ordered: list[str] = []
    for run in runs:
        ordered.extend(t.task_id for t in run.run.tasks if t.task_id not in ordered)
    tasks, excluded = [], {}
    for task_id in ordered:
        protocols = [run.protocol(task_id) for run in runs]
        if any(p is None for p in protocols):
            missing = [run.label for run, p in zip(runs, protocols) if p is None]
            excluded[task_id] = f"not evaluated by {', '.join(missing)}"
        elif not protocols[0].spec.get("scores"):
            excluded[task_id] = "no score references (random and reference returns) to normalise with"
        elif len({p.protocol_hash for p in protocols}) > 1:
            excluded[task_id] = f"protocols differ between runs ({', '.join(sorted({p.protocol_hash[:12] for p in protocols}))})"
        elif any(run.seed_scores(task_id).size == 0 for run in runs):
            excluded[task_id] = "some run has no episodes of it yet"
        else:
            tasks.append(task_id)
    return Comparison(tasks, excluded)
