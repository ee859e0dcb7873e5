"""What a report is computed from: stored runs, their per-seed means, and their score matrices.

A report compares runs (one agent each). Its per-task scores are the runs' scores as
every face shows them (gymarena/scoring.py). For the aggregate statistics, each run's
normalised scores form a ``(seeds x tasks)`` matrix: the entry for (seed, task) is the
normalised score of that seed's mean at the task's native decision interval, so seeds
play the part that independent runs play in rliable. Only tasks with score references,
evaluated by every run under the same protocol, enter the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gymarena.errors import GymarenaError
from gymarena.protocol import TaskProtocol
from gymarena.records import SeedMean
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import TaskScore, score_run, seed_scores


@dataclass
class RunData:
    """A run with its per-seed means, and its scores as every face shows them."""

    run: RunInfo
    means: list[SeedMean]
    scores: list[TaskScore] = field(init=False)

    def __post_init__(self) -> None:
        self.scores = score_run(self.run.protocol, self.means)

    @property
    def label(self) -> str:
        return f"run {self.run.id}: {self.run.agent.name}"

    def protocol(self, task_id: str) -> TaskProtocol | None:
        return self.run.protocol.get(task_id)

    def seed_scores(self, task_id: str) -> np.ndarray:
        """Per-seed normalised score on one task (seeds without scored episodes left out)."""
        return seed_scores(self.run.protocol.task(task_id), self.means)


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
        runs.append(RunData(run, store.seed_means([run_id])))
    if not runs:
        raise GymarenaError("give at least one run id; `gymarena results` lists the runs")
    return runs


def compare(runs: Sequence[RunData]) -> Comparison:
    """Choose the tasks that can be aggregated across all the runs."""
    ordered: list[str] = []
    for run in runs:
        ordered.extend(t for t in run.run.protocol.task_ids if t not in ordered)
    tasks, excluded = [], {}
    for task_id in ordered:
        found = [run.protocol(task_id) for run in runs]
        protocols = [p for p in found if p is not None]
        if len(protocols) < len(runs):
            missing = [run.label for run, p in zip(runs, found) if p is None]
            excluded[task_id] = f"not evaluated by {', '.join(missing)}"
        elif not protocols[0].scored:
            excluded[task_id] = "no score references (random and reference returns) to normalise with"
        elif len({p.hash for p in protocols}) > 1:
            excluded[task_id] = f"protocols differ between runs ({', '.join(sorted({p.hash[:12] for p in protocols}))})"
        elif any(run.seed_scores(task_id).size == 0 for run in runs):
            excluded[task_id] = "some run has no episodes of it yet"
        else:
            tasks.append(task_id)
    return Comparison(tasks, excluded)
