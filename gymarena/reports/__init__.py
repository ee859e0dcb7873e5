"""``gymarena report``: tables and figures for one or more stored runs.

Writes into one directory: ``report.md`` (everything, with the figures inline),
``tasks.csv`` (per-task scores of every run), ``aggregates.csv`` (IQM, mean, median and
optimality gap with 95% CIs), and PNG + SVG figures: every run's per-task scores, and,
over the tasks the runs share under one protocol, aggregate intervals, performance
profiles and the probability-of-improvement matrix (two or more runs), and R(l) curves
for decision-interval sweeps. Bootstrap draws come from a fixed seed: the same runs
give the same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gymarena.errors import GymarenaError
from gymarena.metrics import aggregate
from gymarena.reports import figures
from gymarena.reports.data import Comparison, RunData, compare, load_runs
from gymarena.reports.tables import markdown_table, write_csv
from gymarena.results import ResultsStore
from gymarena.views import SCORE_COLUMNS, score_row

REPORT_SEED = 0
PROFILE_POINTS = 81
AGGREGATE_COLUMNS = ["run", "agent", "metric", "point", "ci_low", "ci_high", "tasks", "resamples"]


@dataclass
class Report:
    """What was written, and what could not be compared (with the reason)."""

    directory: Path
    comparison: Comparison
    files: list[Path] = field(default_factory=list)


def write_report(
    store: ResultsStore, run_ids: Sequence[int], directory: Path, reps: int = aggregate.DEFAULT_REPS
) -> Report:
    """Write the report of these runs into ``directory`` (created if needed)."""
    runs = load_runs(store, run_ids)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # an existing file, a read-only place
        raise GymarenaError(f"cannot write the report into {directory}: {exc.strerror or exc}; "
                            "give --out a directory (new or existing)") from None
    report = Report(directory, compare(runs))
    rng = np.random.default_rng(REPORT_SEED)
    task_rows = [score_row(run.run.id, s) for run in runs for s in run.scores]
    report.files.append(write_csv(directory / "tasks.csv", task_rows, SCORE_COLUMNS))
    sections = [_header(runs), "## Per-task scores", markdown_table(task_rows, _TASK_TABLE), _task_notes()]
    sections += _task_figure_section(runs, report)
    if report.comparison.tasks:
        sections += _aggregate_sections(runs, report, rng, reps)
    sections += _excluded_section(report.comparison)
    sections += _fas_section(runs, report)
    markdown = directory / "report.md"
    markdown.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    report.files.insert(0, markdown)
    return report


_TASK_TABLE = ["run", "task", "seeds", "episodes", "mean_return", "mean_return_low", "mean_return_high", "return_std",
               "normalised", "normalised_low", "normalised_high", "success", "fas"]


def _header(runs: Sequence[RunData]) -> str:
    rows = [
        {"run": r.run.id, "agent": r.run.agent.reference, "suite": r.run.suite or "-", "status": r.run.status,
         "episodes": r.run.episode_count, "protocol": r.run.protocol_hash[:12],
         "gymarena": r.run.provenance.get("gymarena", "-")}
        for r in runs
    ]
    return "# gymarena report\n\n" + markdown_table(rows, list(rows[0]))


def _task_notes() -> str:
    return ("Returns are undiscounted episode returns at each task's native decision interval, averaged per seed; "
            "each score is the mean over seeds and its interval (`_low`, `_high`) a 95% percentile-bootstrap "
            "interval over seeds, the run's independent replicates (none with a single seed); `return_std` is the "
            "spread of episode returns. `normalised` maps the random return to 0 and the reference return to 1 "
            "(sources in the task catalog). The same numbers as `gymarena results` and the leaderboard's run pages.")


def _task_figure_section(runs: Sequence[RunData], report: Report) -> list[str]:
    """Every run's per-task scores in one figure, shared tasks or not: normalised scores
    where every task has references to normalise with, else returns."""
    normalised = all(s.normalised is not None for run in runs for s in run.scores)
    scores: dict[str, dict[str, tuple[float, float | None, float | None]]] = {}
    for run in runs:
        for score in run.scores:
            estimate = score.normalised if normalised else score.mean_return
            if estimate is not None:
                scores.setdefault(score.task_id, {})[run.label] = (estimate.point, estimate.low, estimate.high)
    if not scores:
        return []
    unit = figures.NORMALISED_UNIT if normalised else "undiscounted episode return"
    report.files += figures.save(figures.task_figure(scores, unit), report.directory, "task_scores")
    return ["![Per-task scores](task_scores.png)"]


def _aggregate_sections(runs: Sequence[RunData], report: Report, rng: np.random.Generator, reps: int) -> list[str]:
    comparison = report.comparison
    matrices = {run.label: comparison.matrix(run) for run in runs}
    estimates = {
        label: {m: aggregate.interval_estimate(matrix, m, rng, reps=reps) for m in figures.AGGREGATE_TITLES}
        for label, matrix in matrices.items()
    }
    rows = [
        {"run": run.run.id, "agent": run.run.agent.name, "metric": metric, "point": e.point, "ci_low": e.low,
         "ci_high": e.high, "tasks": len(comparison.tasks), "resamples": reps}
        for run in runs for metric, e in estimates[run.label].items()
    ]
    report.files.append(write_csv(report.directory / "aggregates.csv", rows, AGGREGATE_COLUMNS))
    report.files += figures.save(figures.aggregate_figure(estimates, len(comparison.tasks), reps),
                                 report.directory, "aggregates")
    profile_reps = aggregate.DEFAULT_PROFILE_REPS
    taus = _profile_taus(matrices.values())
    profiles = {label: aggregate.profile_interval(m, taus, rng, reps=profile_reps) for label, m in matrices.items()}
    report.files += figures.save(figures.profile_figure(profiles, len(comparison.tasks), profile_reps),
                                 report.directory, "performance_profile")
    sections = [
        "## Aggregate performance",
        f"Over the {len(comparison.tasks)} task(s) every run shares under one protocol: {', '.join(comparison.tasks)}. "
        "One normalised score per (seed, task); 95% stratified-bootstrap CIs (seeds resampled within tasks).",
        markdown_table(rows, AGGREGATE_COLUMNS[:6]),
        "![Aggregate performance](aggregates.png)",
        "![Performance profile](performance_profile.png)",
    ]
    if len(runs) > 1:
        labels = list(matrices)
        matrix = [
            [None if x == y else aggregate.poi_interval(matrices[x], matrices[y], rng, reps=reps) for y in labels]
            for x in labels
        ]
        report.files += figures.save(figures.improvement_figure(labels, matrix, reps),
                                     report.directory, "probability_of_improvement")
        poi_rows = [
            {"X": x, "Y": y, "P(X > Y)": cell.point, "ci_low": cell.low, "ci_high": cell.high}
            for x, row in zip(labels, matrix) for y, cell in zip(labels, row) if cell is not None
        ]
        sections += ["## Probability of improvement", markdown_table(poi_rows, list(poi_rows[0])),
                     "![Probability of improvement](probability_of_improvement.png)"]
    return sections


def _profile_taus(matrices) -> np.ndarray:
    """Thresholds from 0 (or the lowest score) to 1 (or the highest): the whole curve shows."""
    scores = np.concatenate([np.concatenate(m) for m in matrices])
    return np.linspace(min(0.0, scores.min()), max(1.0, scores.max()), PROFILE_POINTS)


def _excluded_section(comparison: Comparison) -> list[str]:
    if not comparison.excluded:
        return []
    rows = [{"task": task, "left out of the aggregates because": reason} for task, reason in comparison.excluded.items()]
    return ["## Tasks left out of the aggregates", markdown_table(rows, list(rows[0]))]


def _fas_section(runs: Sequence[RunData], report: Report) -> list[str]:
    curves: dict[str, dict[str, tuple[list[tuple[int, float]], float]]] = {}
    for run in runs:
        for score in run.scores:
            if score.fas is not None:
                curves.setdefault(score.task_id, {})[run.label] = (list(score.fas.curve), score.fas.point)
    if not curves:
        return []
    report.files += figures.save(figures.fas_figure(curves), report.directory, "fas_curves")
    rows = [
        {"task": task, "run": label, "FAS": fas, **{f"R({interval})": r for interval, r in points}}
        for task, by_run in curves.items() for label, (points, fas) in by_run.items()
    ]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return ["## Frequency-Averaged Score", markdown_table(rows, columns), "![R(l) curves](fas_curves.png)"]
