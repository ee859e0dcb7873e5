"""What a testing run's outcomes say: the crash rate with its 90% CI, the relative
half-width and the tests needed for 0.3 (metrics/efficiency.py).

The relative half-width is the papers' (z x standard error / estimate, normal
approximation), unchanged. The reported interval respects that a crash rate is never
negative: naturalistic (NDE) outcomes are Bernoulli, so their interval is Wilson's score
interval, which stays inside [0, 1] and is sound for rare events (0 crashes in n tests
gives [0, z^2 / (n + z^2)], not [0, 0]); importance-sampled outcomes (NADE, adaptive, AdaTE) are
weighted, not Bernoulli, so theirs is the normal interval cut at 0, its upper end widened (in
quadrature) by the crashes the barely steered tests may still hide (metrics/importance.py: the normal
interval alone under-covered, bench/cav_coverage.py).

An importance-sampled run also keeps its weight diagnostics (metrics/importance.py: the
effective tests and crashes, the heaviest test's share, the Pareto k-hat of the crash
contributions) and whether they let its interval be trusted (cavtest/trust.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena.metrics.efficiency import TestOutcomes, relative_half_width, tests_needed, z_value
from gymarena.metrics.importance import UNSTEERED_WEIGHT, WeightDiagnostics, diagnose
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
    diagnostics: WeightDiagnostics | None = None  # importance-sampled runs only

    @property
    def untrusted_because(self) -> str | None:
        """Why the interval cannot be trusted yet (None: it can), by the weight diagnostics."""
        from gymarena.cavtest.trust import verdict

        return verdict(self.diagnostics, self.crashes, self.naturalistic)

    def settled(self, target_rhw: float) -> bool:
        """The relative half-width reached ``target_rhw`` and the diagnostics trust the interval."""
        from gymarena.cavtest.trust import not_settled_because

        return not_settled_because(self.relative_half_width, target_rhw, self.diagnostics, self.crashes,
                                   self.naturalistic) is None

    def to_json(self, values: np.ndarray) -> dict[str, Any]:
        """The run's stored summary, with its RHW path at up to ~200 log-spaced test counts."""
        path = []
        if self.crashes:
            rhw = relative_half_width(TestOutcomes.from_array(values), naturalistic=self.naturalistic)
            counts = np.unique(np.geomspace(1, values.size, num=200).astype(int))
            path = [[int(n), None if np.isnan(rhw[n - 1]) else round(float(rhw[n - 1]), 6)] for n in counts]
        return {"tests": self.tests, "crashes": self.crashes, "crash_rate": self.crash_rate,
                "ci90": [self.low, self.high], "relative_half_width": self.relative_half_width,
                "tests_needed": self.tests_needed, "naturalistic": self.naturalistic, "rhw_path": path,
                **self._trust_json()}

    def _trust_json(self) -> dict[str, Any]:
        from gymarena.cavtest.trust import TRUST

        return {"diagnostics": None if self.diagnostics is None else self.diagnostics.to_json(),
                "untrusted_because": self.untrusted_because, "trust_rule": TRUST.describe()}

    def line(self) -> str:
        rhw = "undefined" if self.relative_half_width is None else f"{self.relative_half_width:.3f}"
        needed = "not reached" if self.tests_needed is None else f"{self.tests_needed:,}"
        return (f"{self.tests:,} tests, {self.crashes} crashes: crash rate {self.crash_rate:.3e} "
                f"(90% CI [{self.low:.3e}, {self.high:.3e}]), relative half-width {rhw}, tests needed for 0.3: {needed}")

    def trust_line(self) -> str | None:
        """The weight diagnostics and their verdict in words (None for naturalistic runs)."""
        if self.diagnostics is None:
            return None
        why = self.untrusted_because
        return f"{diagnostics_line(self.diagnostics)}: " + ("interval trusted" if why is None else
                                                           f"interval not trusted yet: {why}")


def diagnostics_line(diagnostics: WeightDiagnostics) -> str:
    """The weight diagnostics in words, as `cav test` and `cav compare` print them."""
    shape = "undefined (under 25 crashes)" if diagnostics.tail_shape is None else f"{diagnostics.tail_shape:.2f}"
    unseen = "unbounded" if math.isinf(diagnostics.unseen_share) else f"{diagnostics.unseen_share:.0%} of the estimate"
    return (f"weights: {diagnostics.effective_tests:,.0f} effective tests, {diagnostics.effective_crashes:,.1f} effective "
            f"crashes, the heaviest test {diagnostics.largest_share:.1%} of the estimate, tail Pareto k-hat {shape}; "
            f"{diagnostics.unsteered_tests:,} barely steered tests (weight >= {UNSTEERED_WEIGHT}) with "
            f"{diagnostics.unsteered_crashes} crashes may hide up to {unseen} more")


def summarise(values: np.ndarray, naturalistic: bool, weights: np.ndarray | None = None) -> Summary:
    """A run's summary from each test's outcome (weight x 1[crash]); an importance-sampled
    run's weights (every test's, crashed or not) add its diagnostics."""
    n = values.size
    z = z_value(0.9)
    mu = float(values.mean()) if n else 0.0
    sd = np.sqrt(mu * (1 - mu)) if naturalistic else (float(values.std(ddof=1)) if n > 1 else 0.0)
    half = z * sd / np.sqrt(max(n, 1))
    crashes = int(np.count_nonzero(values))
    rhw = half / mu if mu > 0 else None
    needed = tests_needed(TestOutcomes.from_array(values), naturalistic=naturalistic) if crashes else None
    low, high = wilson_interval(crashes, n, z) if naturalistic else (max(0.0, mu - half), mu + half)
    diagnostics = None if naturalistic or weights is None else diagnose(weights, values > 0, z)
    if diagnostics is not None:  # the crashes the barely steered tests may still hide widen the upper end
        high = mu + float(np.hypot(high - mu, diagnostics.unseen_allowance))
    return Summary(n, crashes, mu, low, high, rhw, needed, naturalistic, diagnostics)


