"""CAV testing: tests per second, crash-rate estimates and evaluation efficiency of NDE,
NADE, adaptive testing and AdaTE for built-in AVs.

    python bench/cav.py [--avs idm,aggressive,acc] [--nde-tests idm=400000,aggressive=1200000,acc=60000]
                        [--nade-tests 20000] [--adaptive-tests 20000] [--adate-tests 20000] [--reps 300]

For each AV: the naturalistic (NDE) estimate mu_NDE with its 90% CI (the named
baseline; each AV's NDE run is long enough for 50+ crashes), the NADE, adaptive and
AdaTE estimates with theirs (are they inside NDE's?), the tests each needs to reach a
relative half-width of 0.3 at 90% confidence, and the efficiency (NDE's closed form
z^2 (1 - mu) / (0.3^2 mu) at mu_NDE / the method's).

The tests needed of a single run depend on the order its tests came in (one early heavy
test moves the RHW path a lot), so each method's figure is the median, with the 95%
interval, of a bootstrap over test orders (``--reps`` resamples of the run's tests, the
RHW path of each); the run's own path is printed beside it. Tests per second of each
mode are printed as they finish. The last line is the smallest AdaTE/NADE ratio of
tests needed (bootstrap medians) over the AVs that NADE's IDM surrogate does not match
(every AV but ``idm``); the goal is >= 3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gymarena.cavtest import summarise
from gymarena.cavtest.av import BUILTIN_AVS
from gymarena.envs.cav.adaptive import run_adaptive
from gymarena.envs.cav.adate import run_adate
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
    parser.add_argument("--avs", default="idm,aggressive,acc")
    parser.add_argument("--nde-tests", default="idm=400000,aggressive=1200000,acc=60000",
                        help="NDE tests per AV (name=count,...), or one count for all")
    parser.add_argument("--nade-tests", type=int, default=20_000)
    parser.add_argument("--adaptive-tests", type=int, default=20_000)
    parser.add_argument("--adate-tests", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    ndd = load_ndd()
    nde_tests = nde_counts(args.nde_tests)
    ratios: dict[str, float] = {}
    for name in args.avs.split(","):
        policy = BUILTIN_AVS[name]
        tests = nde_tests.get(name, nde_tests.get("*", 400_000))
        print(f"AV {name}:", flush=True)
        nde = timed("NDE", tests, lambda policy=policy, tests=tests: run_tests(tests, policy, NaturalisticBVs(ndd), seed=1))
        nade = timed("NADE", args.nade_tests,
                     lambda policy=policy: run_tests(args.nade_tests, policy, AdversarialBVs(ndd), seed=2, batch_size=4096))
        adaptive = timed("adaptive", args.adaptive_tests,
                         lambda policy=policy: run_adaptive(args.adaptive_tests, policy, ndd, seed=3)).outcomes
        adate_run = timed("AdaTE", args.adate_tests, lambda policy=policy: run_adate(args.adate_tests, policy, ndd, seed=6))
        print(f"  AdaTE's last coefficients (constant; cautious, IDM, aggressive surrogates): "
              f"{np.array2string(adate_run.coefficients[-1], precision=5)}")
        mu, low, high = interval(nde.values, naturalistic=True)
        closed = naturalistic_tests_needed(mu) if 0 < mu < 1 else np.inf
        own, median, n_low, n_high = needed_over_orders(nde.values, True, args.reps, 4)
        print(f"  NDE estimate {mu:.3e} [{low:.3e}, {high:.3e}] ({int(nde.crashed.sum())} crashes); "
              f"tests needed: closed form {closed:,.0f}; bootstrap median {count(median)} [{count(n_low)}, "
              f"{count(n_high)}] (this order: {own})")
        needed: dict[str, float] = {}
        for label, outcomes in (("NADE", nade), ("adaptive", adaptive), ("AdaTE", adate_run.outcomes)):
            m, lo, hi = interval(outcomes.values, naturalistic=False)
            own, median, n_low, n_high = needed_over_orders(outcomes.values, False, args.reps, 5)
            inside = "inside" if low <= m <= high else "OUTSIDE"
            efficiency = closed / median if np.isfinite(median) else 0.0
            print(f"  {label} estimate {m:.3e} [{lo:.3e}, {hi:.3e}] ({inside} NDE's CI; {int(outcomes.crashed.sum())} "
                  f"crashes); tests needed: bootstrap median {count(median)} [{count(n_low)}, {count(n_high)}] "
                  f"(this order: {own}); efficiency {efficiency:.0f}x "
                  f"[{closed / n_high if np.isfinite(n_high) else 0:.0f}, {closed / n_low if np.isfinite(n_low) else 0:.0f}]")
            needed[label] = median
        ratio = needed["NADE"] / needed["AdaTE"] if np.isfinite(needed["AdaTE"]) else 0.0
        print(f"  AdaTE needs 1/{ratio:.2f} of NADE's tests (bootstrap medians)")
        if name != "idm":
            ratios[name] = ratio
    worst = min(ratios, key=ratios.get) if ratios else None
    print(f"smallest AdaTE/NADE ratio of tests needed over the AVs NADE's surrogate does not match: {worst}")
    print(f"ratio {ratios[worst]:.2f}" if worst else "ratio nan")


def nde_counts(text: str) -> dict[str, int]:
    """``name=count,...`` (or a single count, for every AV)."""
    if "=" not in text:
        return {"*": int(text)}
    return {name: int(count) for name, count in (part.split("=") for part in text.split(","))}


if __name__ == "__main__":
    main()
