"""Two testing runs side by side: their estimates, whether they agree, and the efficiency
of one over the other with bootstrap CIs (tests needed by A / tests needed by B)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gymarena.cavtest.runs import stored_outcomes, stored_weights
from gymarena.cavtest.summary import Summary, summarise
from gymarena.metrics.efficiency import (
    TestOutcomes,
    naturalistic_tests_needed,
    relative_half_width,
    tests_needed_bootstrap,
    z_value,
)
from gymarena.results import ResultsStore

AGREEMENT_Z = 2.0  # unbiased estimators of one crash rate differ by less than ~2 standard errors


@dataclass
class Comparison:
    summaries: tuple[Summary, Summary]
    z: float  # difference of the two estimates in standard errors: unbiased methods agree within ~2
    needed: tuple[tuple[float, float, float], tuple[float, float, float]]  # (measured, 95% low, high) per run
    efficiency: tuple[float, float, float]  # tests needed by A / by B, with a bootstrap 95% CI

    @property
    def agree(self) -> bool:
        """Whether the two estimates agree within sampling error (|z| < 2)."""
        return abs(self.z) < AGREEMENT_Z


def compare(store: ResultsStore, run_a: int, run_b: int, reps: int = 300, seed: int = 0) -> tuple[Comparison, list[np.ndarray]]:
    """Two testing runs side by side; also each run's RHW path (for a plot)."""
    rng = np.random.default_rng(seed)
    summaries, needed, samples, paths = [], [], [], []
    for run_id in (run_a, run_b):
        run, values, records = stored_outcomes(store, run_id)
        naturalistic = run.config["mode"] == "nde"
        summary = summarise(values, naturalistic, weights=stored_weights(records))
        summaries.append(summary)
        outcomes = TestOutcomes.from_array(values)
        if summary.crashes:
            boot, _ = tests_needed_bootstrap(outcomes, rng, reps, naturalistic=naturalistic)
        else:
            boot = np.full(reps, np.inf)
        samples.append(boot)
        low, high = np.percentile(boot, [2.5, 97.5], method="nearest")  # inf (never reached) stays inf
        measured = summary.tests_needed if summary.tests_needed is not None else np.inf
        if naturalistic and 0 < summary.crash_rate < 1:
            measured = naturalistic_tests_needed(summary.crash_rate)  # the closed form is NDE's reference
        needed.append((float(measured), float(low), float(high)))
        no_path = np.full(values.size, np.nan)
        paths.append(relative_half_width(outcomes, naturalistic=naturalistic) if summary.crashes else no_path)
    a, b = summaries
    se = np.sqrt(_standard_error(a) ** 2 + _standard_error(b) ** 2)
    z = (a.crash_rate - b.crash_rate) / se if se > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):  # runs that never reach 0.3: inf / inf
        ratio = samples[0] / samples[1]
    finite = ratio[np.isfinite(ratio)]
    low, high = np.percentile(finite, [2.5, 97.5], method="nearest") if finite.size else (np.nan, np.nan)
    point = needed[0][0] / needed[1][0] if np.isfinite(needed[1][0]) and needed[1][0] > 0 else np.nan
    return Comparison((a, b), float(z), (needed[0], needed[1]), (float(point), float(low), float(high))), paths


def _standard_error(summary: Summary) -> float:
    """The estimate's standard error: from its Wilson interval for naturalistic runs (so a
    run without a crash still has one), else the normal approximation's."""
    if summary.naturalistic:
        return (summary.high - summary.low) / (2 * z_value(0.9))
    if summary.relative_half_width is None:
        return 0.0
    return summary.relative_half_width * summary.crash_rate / z_value(0.9)


def plot_paths(paths: list[np.ndarray], labels: list[str], out: str) -> str:
    """The relative half-width of each run against its number of tests (log-log), with 0.3 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5))
    for path, label in zip(paths, labels):
        n = np.arange(1, path.size + 1)
        step = max(1, path.size // 2000)
        axes.plot(n[::step], path[::step], label=label)
    axes.axhline(0.3, color="grey", linestyle="--", linewidth=1)
    axes.set(xscale="log", yscale="log", xlabel="tests", ylabel="relative half-width (90%)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
    return out
