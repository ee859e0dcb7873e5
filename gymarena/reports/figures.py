"""The report's figures, drawn with matplotlib's object API (no pyplot, no global state).

Every figure says what it shows without the code: a title with the statistic and the
interval method, labelled axes with units, and a legend or direct labels per run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gymarena.errors import MissingExtraError
from gymarena.metrics.aggregate import IntervalEstimate, ProfileEstimate

AGGREGATE_TITLES = {
    "median": "Median",
    "iqm": "IQM (interquartile mean)",
    "mean": "Mean",
    "optimality_gap": "Optimality gap (lower is better)",
}
NORMALISED_UNIT = "normalised score (0 = random, 1 = reference)"


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "report", exc, what="plotting library") from None
    return Figure(figsize=(width, height), layout="constrained")


def save(figure: Any, directory: Path, stem: str) -> list[Path]:
    """Write the figure as PNG and SVG; returns the two paths."""
    paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
    figure.savefig(paths[0], dpi=150)
    figure.savefig(paths[1])
    return paths


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return [palette(i % 10) for i in range(count)]


def aggregate_figure(
    estimates: Mapping[str, Mapping[str, IntervalEstimate]], tasks: int, reps: int
) -> Any:
    """One panel per aggregate; one bar per run spanning its CI, the point marked."""
    labels = list(estimates)
    figure = _figure(3.4 * len(AGGREGATE_TITLES), 0.9 + 0.45 * len(labels))
    axes = figure.subplots(1, len(AGGREGATE_TITLES), sharey=True)
    colours = _colours(len(labels))
    for ax, (metric, title) in zip(axes, AGGREGATE_TITLES.items()):
        for row, label in enumerate(labels):
            estimate = estimates[label][metric]
            ax.barh(row, estimate.high - estimate.low, left=estimate.low, height=0.6, color=colours[row], alpha=0.6)
            ax.plot([estimate.point, estimate.point], [row - 0.3, row + 0.3], color="black", linewidth=1.5)
        ax.set_title(title)
        ax.set_xlabel("optimality gap (1 - clipped score)" if metric == "optimality_gap" else NORMALISED_UNIT, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(labels)), labels)
    axes[0].invert_yaxis()
    figure.suptitle(
        f"Aggregate performance over {tasks} task{'s' if tasks != 1 else ''}: point estimate (black) and 95% "
        f"stratified-bootstrap CI ({reps:,} resamples); one score per seed and task"
    )
    return figure


def task_figure(scores: Mapping[str, Mapping[str, tuple[float, float | None, float | None]]], unit: str) -> Any:
    """One panel per task: each run's mean over seeds (a dot) with its 95% interval over
    seeds (a bar), whether or not the runs share the task."""
    tasks = list(scores)
    labels = list(dict.fromkeys(label for by_run in scores.values() for label in by_run))
    columns = min(3, len(tasks))
    rows = math.ceil(len(tasks) / columns)
    figure = _figure(3.6 * columns, 0.8 + (0.5 + 0.32 * len(labels)) * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    colours = dict(zip(labels, _colours(len(labels))))
    for ax, task in zip(axes, tasks):
        for row, label in enumerate(labels):
            if label not in scores[task]:
                continue
            point, low, high = scores[task][label]
            if low is not None and high is not None:
                ax.plot([low, high], [row, row], color=colours[label], linewidth=4, alpha=0.5)
            ax.plot([point], [row], "o", color=colours[label])
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel(unit, fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    figure.suptitle("Per-task scores: mean over seeds (dot) and 95% percentile-bootstrap interval over seeds (bar)")
    return figure


def profile_figure(profiles: Mapping[str, ProfileEstimate], tasks: int, reps: int) -> Any:
    """Score distributions with pointwise CI bands."""
    figure = _figure(7.0, 4.5)
    ax = figure.subplots()
    for colour, (label, profile) in zip(_colours(len(profiles)), profiles.items()):
        ax.plot(profile.taus, profile.profile, color=colour, label=label)
        ax.fill_between(profile.taus, profile.low, profile.high, color=colour, alpha=0.2)
    ax.set_xlabel(f"threshold τ on the {NORMALISED_UNIT}")
    ax.set_ylabel("fraction of (seed, task) scores > τ")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"Performance profile over {tasks} task{'s' if tasks != 1 else ''} (95% CI bands, {reps:,} resamples)")
    return figure


def improvement_figure(labels: Sequence[str], matrix: Sequence[Sequence[IntervalEstimate | None]], reps: int) -> Any:
    """P(row run > column run), each cell annotated with its value and CI."""
    size = len(labels)
    figure = _figure(max(6.5, 3.0 + 1.8 * size), max(4.0, 1.8 + 1.2 * size))
    ax = figure.subplots()
    values = np.array([[np.nan if cell is None else cell.point for cell in row] for row in matrix])
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="RdBu")
    for i, row in enumerate(matrix):
        for j, cell in enumerate(row):
            text = "-" if cell is None else f"{cell.point:.2f}\n[{cell.low:.2f}, {cell.high:.2f}]"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(size), labels, rotation=20, ha="right")
    ax.set_yticks(range(size), labels)
    ax.set_xlabel("run Y")
    ax.set_ylabel("run X")
    figure.colorbar(image, ax=ax, label="P(X > Y)")
    figure.suptitle(
        "Probability of improvement: P(X > Y) = chance that run X beats run Y\n"
        f"on a random (seed, task) pair, averaged over tasks; 95% CIs ({reps:,} resamples)",
        fontsize=10,
    )
    return figure


def fas_figure(curves: Mapping[str, Mapping[str, tuple[list[tuple[int, float]], float]]]) -> Any:
    """R(l) against the decision interval, one panel per task, one line per run.

    ``curves[task][run label] = (points [(l, mean return)], FAS)``.
    """
    tasks = list(curves)
    columns = min(3, len(tasks))
    rows = math.ceil(len(tasks) / columns)
    figure = _figure(max(6.5, 4.2 * columns), 0.6 + 3.2 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, task in zip(axes, tasks):
        for colour, (label, (points, fas)) in zip(_colours(len(curves[task])), curves[task].items()):
            intervals, returns = zip(*points)
            ax.plot(intervals, returns, marker="o", markersize=3, color=colour, label=f"{label} (FAS {fas:.3f})")
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("decision interval l (primitive steps per decision)", fontsize=8)
        ax.set_ylabel("mean return R(l)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    figure.suptitle("Mean return against decision interval (FAS sweep)\nactions run open loop between decisions",
                    fontsize=10)
    return figure

