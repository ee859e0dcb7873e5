"""When a testing run's interval can be trusted: "settled" means its relative half-width is
reached *and* its weights say the interval is sound (metrics/importance.py).

An importance-sampled run can reach a small relative half-width on the light crashes of
steered tests alone, before it has seen the rare crashes of the tests the importance
function barely steered, which carry part of the rate; its normal interval is then
confident and low. The coverage benchmark (``bench/cav_coverage.py``, docs/cav.md) measured
it: the papers' rule (the half-width alone) settled 45-80% of the IDM AV's runs on an
interval missing the NDE reference. So a run settles only once it has seen enough crashes
and the crashes its barely steered tests may still hide (their Wilson bound, which also
widens the interval's upper end) are at most half the estimate. The benchmark chose the
half: the widened interval covered the reference in every settled run whether the share
allowed was 0.3, 0.5 or 1, so the share trades precision for tests only; at 0.3 the IDM AV
settled in 2 of 20 runs of 131,072 tests (the board's budget is 100,000), at 0.5 in 17 (a
median of 90,112 tests), at 1 in all 20 (32,768) but with an upper end up to twice the
estimate; at 0.5 it stays within 1.6 times.

The Pareto k-hat of the crash contributions is measured and shown, but is not part of the
rule: on these weights (a few discrete levels, and a second population of unsteered
crashes near 1) its fit says "heavy" on runs whose heaviest test holds 1.5% of the
estimate, and in the benchmark the runs it flagged covered the reference *more* often than
the others (docs/cav.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gymarena.metrics.importance import MIN_CRASHES_FOR_SHAPE, WeightDiagnostics


@dataclass(frozen=True)
class TrustRule:
    """What an importance-sampled run's interval needs to be trusted."""

    min_crashes: int = MIN_CRASHES_FOR_SHAPE
    max_unseen_share: float = 0.5  # the crashes the barely steered tests may hide, against the estimate

    def key(self) -> str:
        """The rule in a run's settings: a run that stops under another rule is another run."""
        return f"rhw+crashes>={self.min_crashes}+unseen<={self.max_unseen_share:g}"

    def describe(self) -> str:
        return (f"at least {self.min_crashes} crashes, and barely steered tests that may hide at most "
                f"{self.max_unseen_share:.0%} of the estimate")


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
    if diagnostics.unseen_share > rule.max_unseen_share:
        share = "an unbounded share" if math.isinf(diagnostics.unseen_share) else f"{diagnostics.unseen_share:.0%}"
        return (f"the {diagnostics.unsteered_tests:,} barely steered tests may hide {share} of the estimate more "
                f"(at most {rule.max_unseen_share:.0%}): test on")
    return None


def not_settled_because(relative_half_width: float | None, target: float, diagnostics: WeightDiagnostics | None,
                        crashes: int, naturalistic: bool = False, rule: TrustRule = TRUST) -> str | None:
    """Why a run has not settled at relative half-width ``target`` (None: it has): its
    half-width first, then its weights. The one rule of `cav test --until-rhw` and the boards."""
    if relative_half_width is None or not relative_half_width <= target + 1e-12:
        shown = "undefined" if relative_half_width is None else f"{relative_half_width:.3f}"
        return f"relative half-width {shown} above {target}"
    return verdict(diagnostics, crashes, naturalistic, rule)
