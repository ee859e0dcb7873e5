"""CAV testing: tests per second, crash-rate estimates and evaluation efficiency of NDE,
NADE and adaptive testing for built-in AVs.

    python bench/cav.py [--avs idm,aggressive] [--nde-tests 400000] [--nade-tests 20000]
                        [--adaptive-tests 20000] [--reps 300]

For each AV: the naturalistic (NDE) estimate mu_NDE with its 90% CI (the named
baseline), the NADE and adaptive estimates with theirs (are they inside NDE's?), the
tests each needs to reach a relative half-width of 0.3 at 90% confidence, and the
efficiency (NDE's closed form z^2 (1 - mu) / (0.3^2 mu) at mu_NDE / the method's).

The tests needed of a single run depend on the order its tests came in (one early heavy
test moves the RHW path a lot), so each method's figure is the median, with the 95%
interval, of a bootstrap over test orders (``--reps`` resamples of the run's tests, the
RHW path of each); the run's own path is printed beside it. Tests per second of each
mode are printed as they finish. The last line is NADE's efficiency (bootstrap median)
for the first AV.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gymarena.cavtest import summarise
from gymarena.envs.cav.adaptive import run_adaptive
from gymarena.envs.cav.avs import AVS
from gymarena.envs.cav.nade import AdversarialBVs
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.testing import NaturalisticBVs, run_tests
from gymarena.metrics.efficiency import (
    TestOutcomes,
    naturalistic_tests_needed,
    tests_needed,
    tests_needed_bootstrap,
)


def interval(values: np.ndarray, naturalistic: bool) -> tuple[float, float, float]:
    """(mean, low, high) at 90%, as `gymarena cav test` reports them."""
    summary = summarise(values, naturalistic)
    return summary.crash_rate, summary.low, summary.high


def needed_over_orders(values: np.ndarray, naturalistic: bool, reps: int, seed: int
                       ) -> tuple[int | None, float, float, float]:
    """(tests needed on the run's own order, then the bootstrap's median, 2.5% and 97.5%
    over test orders; inf where a resample never reaches the RHW)."""
    outcomes = TestOutcomes.from_array(values)
    if outcomes.n_crashes == 0:
        return None, np.inf, np.inf, np.inf
    needed = tests_needed(outcomes, naturalistic=naturalistic)
    samples, _ = tests_needed_bootstrap(outcomes, np.random.default_rng(seed), reps, naturalistic=naturalistic)
    median, low, high = np.percentile(samples, [50, 2.5, 97.5], method="nearest")  # inf (never reached) stays inf
    return needed, float(median), float(low), float(high)


def count(value: float) -> str:
    return "never" if not np.isfinite(value) else f"{value:,.0f}"


def timed(label: str, tests: int, run):
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"  {label}: {tests} tests in {seconds:.1f} s ({tests / seconds:.0f} tests/s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avs", default="idm,aggressive")
    parser.add_argument("--nde-tests", type=int, default=400_000)
    parser.add_argument("--nade-tests", type=int, default=20_000)
    parser.add_argument("--adaptive-tests", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    ndd = load_ndd()
    first_efficiency = None
    for name in args.avs.split(","):
        policy = AVS[name]
        print(f"AV {name}:", flush=True)
        nde = timed("NDE", args.nde_tests,
                    lambda policy=policy: run_tests(args.nde_tests, policy, NaturalisticBVs(ndd), seed=1))
        nade = timed("NADE", args.nade_tests,
                     lambda policy=policy: run_tests(args.nade_tests, policy, AdversarialBVs(ndd), seed=2, batch_size=4096))
        adaptive = timed("adaptive", args.adaptive_tests,
                         lambda policy=policy: run_adaptive(args.adaptive_tests, policy, ndd, seed=3)).outcomes
        mu, low, high = interval(nde.values, naturalistic=True)
        closed = naturalistic_tests_needed(mu) if 0 < mu < 1 else np.inf
        own, median, n_low, n_high = needed_over_orders(nde.values, True, args.reps, 4)
        print(f"  NDE estimate {mu:.3e} [{low:.3e}, {high:.3e}] ({int(nde.crashed.sum())} crashes); "
              f"tests needed: closed form {closed:,.0f}; bootstrap median {count(median)} [{count(n_low)}, "
              f"{count(n_high)}] (this order: {own})")
        for label, outcomes in (("NADE", nade), ("adaptive", adaptive)):
            m, lo, hi = interval(outcomes.values, naturalistic=False)
            own, median, n_low, n_high = needed_over_orders(outcomes.values, False, args.reps, 5)
            inside = "inside" if low <= m <= high else "OUTSIDE"
            efficiency = closed / median if np.isfinite(median) else 0.0
            print(f"  {label} estimate {m:.3e} [{lo:.3e}, {hi:.3e}] ({inside} NDE's CI; {int(outcomes.crashed.sum())} "
                  f"crashes); tests needed: bootstrap median {count(median)} [{count(n_low)}, {count(n_high)}] "
                  f"(this order: {own}); efficiency {efficiency:.0f}x "
                  f"[{closed / n_high if np.isfinite(n_high) else 0:.0f}, {closed / n_low if np.isfinite(n_low) else 0:.0f}]")
            if label == "NADE" and first_efficiency is None:
                first_efficiency = efficiency
    print(f"ratio {first_efficiency:.1f}")


if __name__ == "__main__":
    main()
