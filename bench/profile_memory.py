"""How much memory do performance-profile intervals take at many resamples and thresholds?

Measured: ``gymarena.metrics.aggregate.profile_interval`` at 20,000 resamples and 200
thresholds on a 10-run x 5-task score matrix (the profile computed one threshold at a
time inside each bootstrap chunk). Baseline, in the same run: the same bootstrap with the
profile computed as one (resamples x runs x thresholds) comparison per chunk, as gymarena
did before (4.7 GB at these settings on a 10 x 10 matrix). Peak memory is tracemalloc's
peak of Python-allocated memory (numpy's buffers included) during the call; both give the
same profile and intervals (checked).

    python bench/profile_memory.py    # last line: ratio <measured peak / baseline peak>
Target: ratio <= 0.1 (and the measured peak under 200 MB).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from gymarena.metrics import aggregate

REPS = 20_000
TAUS = np.linspace(0.0, 2.0, 200)


def _baseline_profile(batch: np.ndarray, layout: aggregate.TaskScores, taus: np.ndarray, use_task_means: bool) -> np.ndarray:
    """The former profile statistic: one 3-D comparison array per chunk."""
    above = (batch[:, :, None] > taus).astype(float)
    per_task = np.add.reduceat(above, layout.offsets[:-1], axis=1) / layout.runs_per_task[:, None]
    return per_task.mean(axis=1)


def measure(profile_function) -> tuple[aggregate.ProfileEstimate, float, float]:
    scores = np.random.default_rng(1).uniform(0.0, 2.0, size=(10, 5))
    original = aggregate._batch_profile
    aggregate._batch_profile = profile_function
    try:
        tracemalloc.start()
        started = time.perf_counter()
        result = aggregate.profile_interval(scores, TAUS, np.random.default_rng(0), reps=REPS)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        aggregate._batch_profile = original
    return result, peak / 1e6, seconds


def main() -> None:
    ours, ours_mb, ours_s = measure(aggregate._batch_profile)
    base, base_mb, base_s = measure(_baseline_profile)
    same = all(np.array_equal(getattr(ours, f), getattr(base, f)) for f in ("profile", "low", "high"))
    print(f"profile_interval, {REPS:,} resamples x {TAUS.size} thresholds, 10 runs x 5 tasks")
    print(f"baseline (3-D comparison per chunk): peak {base_mb:,.0f} MB, {base_s:.2f} s")
    print(f"gymarena (one threshold at a time):  peak {ours_mb:,.0f} MB, {ours_s:.2f} s")
    print(f"identical results: {same}")
    print(f"ratio {ours_mb / base_mb:.3f}")


if __name__ == "__main__":
    main()
