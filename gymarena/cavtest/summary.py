"""What a testing run's outcomes say: the crash rate with its 90% CI, the relative
half-width and the tests needed for 0.3 (metrics/efficiency.py).

The relative half-width is the papers' (z x standard error / estimate, normal
approximation), unchanged. The reported interval respects that a crash rate is never
negative: naturalistic (NDE) outcomes are Bernoulli, so their interval is Wilson's score
interval, which stays inside [0, 1] and is sound for rare events (0 crashes in n tests
gives [0, z^2 / (n + z^2)], not [0, 0]); importance-sampled outcomes (NADE, adaptive, AdaTE) are
weighted, not Bernoulli, so theirs is the normal interval cut at 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena.metrics.efficiency import TestOutcomes, relative_half_width, tests_needed, z_value
from gymarena.metrics.proportions import wilson_interval


@dataclass
class Summary:
    tests: int
    crashes: int
    crash_rate: float
    low: float
    high: float
    relative_half_width: float | None
    tests_needed: int | None
    naturalistic: bool

    def to_json(self, values: np.ndarray) -> dict[str, Any]:
        """The run's stored summary, with its RHW path at up to ~200 log-spaced test counts."""
        path = []
        if self.crashes:
            rhw = relative_half_width(TestOutcomes.from_array(values), naturalistic=self.naturalistic)
            counts = np.unique(np.geomspace(1, values.size, num=200).astype(int))
            path = [[int(n), None if np.isnan(rhw[n - 1]) else round(float(rhw[n - 1]), 6)] for n in counts]
        return {"tests": self.tests, "crashes": self.crashes, "crash_rate": self.crash_rate,
                "ci90": [self.low, self.high], "relative_half_width": self.relative_half_width,
                "tests_needed": self.tests_needed, "naturalistic": self.naturalistic, "rhw_path": path}

    def line(self) -> str:
        rhw = "undefined" if self.relative_half_width is None else f"{self.relative_half_width:.3f}"
        needed = "not reached" if self.tests_needed is None else f"{self.tests_needed:,}"
        return (f"{self.tests:,} tests, {self.crashes} crashes: crash rate {self.crash_rate:.3e} "
                f"(90% CI [{self.low:.3e}, {self.high:.3e}]), relative half-width {rhw}, tests needed for 0.3: {needed}")


def summarise(values: np.ndarray, naturalistic: bool) -> Summary:
    n = values.size
    z = z_value(0.9)
    mu = float(values.mean()) if n else 0.0
    sd = np.sqrt(mu * (1 - mu)) if naturalistic else (float(values.std(ddof=1)) if n > 1 else 0.0)
    half = z * sd / np.sqrt(max(n, 1))
    crashes = int(np.count_nonzero(values))
    rhw = half / mu if mu > 0 else None
    needed = tests_needed(TestOutcomes.from_array(values), naturalistic=naturalistic) if crashes else None
    low, high = wilson_interval(crashes, n, z) if naturalistic else (max(0.0, mu - half), mu + half)
    return Summary(n, crashes, mu, low, high, rhw, needed, naturalistic)


