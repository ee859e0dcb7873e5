"""When a testing run's interval can be trusted: "settled" means its relative half-width is
reached *and* its weights say the interval is sound (metrics/importance.py).

An importance-sampled run can reach a small relative half-width on light crashes alone,
before it has seen the rare heavy ones that carry part of the rate; its interval is then
confident and wrong. The rule asks, besides the half-width, for enough crashes to fit the
tail, a tail whose Pareto k-hat is below the PSIS paper's threshold, and enough effective
crashes (no few tests holding the estimate). The thresholds are chosen from the coverage
benchmark (``bench/cav_coverage.py``, docs/cav.md), not by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gymarena.metrics.importance import MIN_CRASHES_FOR_SHAPE, WeightDiagnostics


@dataclass(frozen=True)
class TrustRule:
    """The diagnostics an importance-sampled run's interval needs to be trusted."""

    min_crashes: int = MIN_CRASHES_FOR_SHAPE
    max_tail_shape: float = 0.7
    min_effective_crashes: float = 10.0
    max_unseen_share: float = 0.3  # the crashes the barely steered tests may hide, against the estimate

    def key(self) -> str:
        """The rule in a run's settings: a run that stops under another rule is another run."""
        return (f"rhw+crashes>={self.min_crashes}+khat<{self.max_tail_shape}+effective>={self.min_effective_crashes:g}"
                f"+unseen<={self.max_unseen_share:g}")

    def describe(self) -> str:
        return (f"at least {self.min_crashes} crashes, a crash-contribution tail with Pareto k-hat below "
                f"{self.max_tail_shape}, at least {self.min_effective_crashes:g} effective crashes, and barely steered "
                f"tests that may hide at most {self.max_unseen_share:.0%} of the estimate")


TRUST = TrustRule()


def verdict(diagnostics: WeightDiagnostics | None, crashes: int, naturalistic: bool = False,
            rule: TrustRule = TRUST) -> str | None:
    """Why a run's interval cannot be trusted yet (None: it can). Naturalistic runs need no
    weights (their interval is Wilson's); importance-sampled ones need their diagnostics."""
    if naturalistic:
        return None
    if diagnostics is None:
        return "no weight diagnostics (a run from before them: test again)"
    if crashes < rule.min_crashes:
        return f"{crashes} crashes, fewer than {rule.min_crashes}"
    if diagnostics.tail_shape is None:
        return "too few crashes to fit the tail of their weights"
    if diagnostics.tail_shape >= rule.max_tail_shape:
        return f"a heavy-tailed estimate (Pareto k-hat {diagnostics.tail_shape:.2f}, at least {rule.max_tail_shape})"
    if diagnostics.effective_crashes < rule.min_effective_crashes:
        return (f"{diagnostics.effective_crashes:.1f} effective crashes, fewer than {rule.min_effective_crashes:g} "
                "(a few tests hold the estimate)")
    if diagnostics.unseen_share > rule.max_unseen_share:
        share = "an unbounded share" if math.isinf(diagnostics.unseen_share) else f"{diagnostics.unseen_share:.0%}"
        return (f"the {diagnostics.unsteered_tests:,} barely steered tests may hide {share} of the estimate more "
                f"(at most {rule.max_unseen_share:.0%}): test on")
    return None
