"""CAV testing: do the crash-rate intervals hold? Coverage over independent runs.

    python bench/cav_coverage.py [--avs idm,cautious,aggressive,acc] [--modes nade,adaptive,adate]
                                 [--runs 20] [--budgets 4096,16384] [--jobs 1] [--reduced]

For every built-in AV and importance-sampling mode, ``--runs`` independent runs (seeds
1000, 1001, ...) exactly as ``gymarena cav test`` plays them (batches of 4,096 tests, batch i
drawn from (seed, i), the learning modes refitted between batches), each to the largest
budget; a smaller budget, and stopping at ``--until-rhw 0.3``, are prefixes of the same run
(the check happens where `cav test` makes it: at the end of each batch). The named baseline
is an NDE (naturalistic) reference per AV, long enough for 200+ crashes, computed once and
kept in ``bench/data/cav_nde_reference.json`` with the versions it was measured under.

Per AV and mode it prints, at each budget and at ``--until-rhw``:

- the **bias**: the mean estimate over the runs / the reference;
- the **coverage** of the nominal 90% interval: the share of runs whose interval holds the
  reference once the reference's own uncertainty is added (the interval's half-width and
  the reference's, in quadrature; the strict share, the reference's point inside the
  interval, beside it),
  of the papers' normal interval and of gymarena's tail-aware one (its upper end widened by
  the crashes the barely steered tests may hide: metrics/importance.py);
- under ``--until-rhw``: the share of runs that settle within the largest budget, the tests
  they took (median and 10-90%), the coverage among them and the share that settle on an
  interval missing the reference: on the RHW alone (the papers' rule, the normal interval),
  and once "settled" also asks the weight diagnostics to hold (``gymarena/cavtest/trust.py``,
  the tail-aware interval);
- whether the PSIS k-hat >= 0.7 tells the runs whose normal interval misses (coverage of
  the flagged runs and of the others, pooled over the budgets);
- the tests needed for a relative half-width of 0.3 of each run (its own order, D2RL's
  definition) with the median and 10-90% over runs, and the efficiency of AdaTE against
  NADE: the ratio of their medians over independent runs, its 90% interval from resampling
  runs.

The simulated runs are cached (``--cache``, by the versions of the simulator, AdaTE and the
AVs) so the analysis can be re-run alone. ``--reduced`` (CI) plays 3 short runs of one AV
and mode against a short reference and only checks that everything computes. The last line
is the smallest coverage after trust over every AV and mode (the goal is >= 0.85).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gymarena import versions
from gymarena.cavtest.samplers import Sampler
from gymarena.cavtest.summary import summarise
from gymarena.cavtest.trust import TRUST, TrustRule, not_settled_because
from gymarena.envs.cav.builtin_avs import BUILTIN_AVS
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.sim import Road
from gymarena.envs.cav.testing import NaturalisticBVs, play_batch, run_tests
from gymarena.metrics.efficiency import TestOutcomes, tests_needed, z_value

REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "cav_nde_reference.json"
DEFAULT_CACHE = Path.home() / ".cache" / "gymarena" / "bench" / "cav_coverage"
BATCH_SIZE, EPSILON, TARGET_RHW = 4096, 0.1, 0.3
FIRST_SEED = 1000
UNSEEN_SHARES = (0.3, 0.5, 1.0)  # the unseen allowances compared (gymarena's rule: cavtest/trust.py)
Z90 = z_value(0.9)


def measured_under(av: str) -> dict[str, str]:
    """The versions a result of this AV depends on (a bump invalidates cached runs and references)."""
    return {"simulator": versions.CAV_SIMULATOR.current, "adate": versions.CAV_ADATE.current,
            "av": versions.BUILTIN_AVS[av].current}


# -- the named baseline: NDE ---------------------------------------------------------------------

def nde_reference(av: str, min_crashes: int, chunk: int, path: Path = REFERENCE_FILE) -> dict:
    """The AV's NDE reference {tests, crashes, rate, versions}: read from ``path`` when it was
    measured under today's versions with enough crashes, else played (chunks of fresh seeds)
    and written back."""
    stored = json.loads(path.read_text()) if path.is_file() else {}
    entry = stored.get(av)
    if entry and entry.get("versions") == measured_under(av) and entry["crashes"] >= min_crashes:
        return entry
    ndd, tests, crashes, chunks = load_ndd(), 0, 0, 0
    began = time.perf_counter()
    while crashes < min_crashes:
        outcomes = run_tests(chunk, BUILTIN_AVS[av], NaturalisticBVs(ndd), seed=50_000 + chunks, batch_size=8192)
        tests, crashes, chunks = tests + chunk, crashes + int(outcomes.crashed.sum()), chunks + 1
    entry = {"tests": tests, "crashes": crashes, "rate": crashes / tests, "seeds": [50_000, 50_000 + chunks - 1],
             "seconds": round(time.perf_counter() - began, 1), "versions": measured_under(av)}
    print(f"  NDE reference of {av}: {tests:,} tests, {crashes} crashes ({entry['seconds']:.0f} s)", flush=True)
    if path == REFERENCE_FILE or path.parent.is_dir():
        stored = json.loads(path.read_text()) if path.is_file() else {}
        stored[av] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    return entry


# -- independent runs ------------------------------------------------------------------------------

def run_file(cache: Path, av: str, mode: str, seed: int, tests: int) -> Path:
    key = hashlib.sha256(json.dumps([measured_under(av), BATCH_SIZE, EPSILON], sort_keys=True).encode()).hexdigest()[:12]
    return cache / f"{av}-{mode}-{seed}-{tests}-{key}.npz"


def play_run(av: str, mode: str, seed: int, tests: int, cache: Path) -> Path:
    """One run as `gymarena cav test --agent AV --mode MODE --seed SEED --tests TESTS` plays it
    (without storing it): each test's crash and weight, cached."""
    path = run_file(cache, av, mode, seed, tests)
    if path.is_file():
        return path
    road = Road()
    sampler = Sampler(mode, load_ndd(), EPSILON, road)
    crashed, weights = [], []
    for index, first in enumerate(range(0, tests, BATCH_SIZE)):
        size = min(BATCH_SIZE, tests - first)
        controller = sampler.controller()
        batch, _ = play_batch(size, BUILTIN_AVS[av], controller, road, seed, index)
        crashed.append(batch.crashed.copy())
        weights.append(np.asarray(getattr(controller, "weights", np.ones(size)), dtype=float).copy())
        sampler.observe(controller, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, crashed=np.concatenate(crashed), weights=np.concatenate(weights))
    partial.replace(path)
    return path


@dataclass
class Run:
    seed: int
    crashed: np.ndarray
    weights: np.ndarray

    @property
    def values(self) -> np.ndarray:
        return np.where(self.crashed, self.weights, 0.0)


def load_run(path: Path, seed: int) -> Run:
    with np.load(path) as data:
        return Run(seed, data["crashed"], data["weights"])


# -- analysis ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    rate: float
    half_width: float  # its 90% half-width (normal, Bernoulli)

    @classmethod
    def of(cls, entry: dict) -> Reference:
        p = entry["crashes"] / entry["tests"]
        return cls(p, Z90 * float(np.sqrt(p * (1 - p) / entry["tests"])))


def covers(estimate: float, low: float, high: float, reference: Reference) -> tuple[bool, bool]:
    """(the interval, widened by the reference's half-width in quadrature, holds the reference;
    the reference's point is inside the interval itself)."""
    below = np.hypot(estimate - low, reference.half_width)
    above = np.hypot(high - estimate, reference.half_width)
    return bool(estimate - below <= reference.rate <= estimate + above), bool(low <= reference.rate <= high)


def settle_point(run: Run, tests: int, rule: TrustRule | None, step: int = BATCH_SIZE) -> int | None:
    """The first multiple of ``step`` tests at which the run settles within ``tests`` (None: it
    does not): its RHW reaches 0.3 and, with a ``rule``, the weight diagnostics hold too
    (`cav test --until-rhw 0.3` checks at the end of each batch: ``step`` = the batch size)."""
    for end in range(step, tests + 1, step):
        summary = summarise(run.values[:end], naturalistic=False, weights=run.weights[:end])
        if rule is None:
            if (summary.relative_half_width or np.inf) <= TARGET_RHW:
                return end
        elif not_settled_because(summary.relative_half_width, TARGET_RHW, summary.diagnostics, summary.crashes,
                                 rule=rule) is None:
            return end
    return None


def interval_at(run: Run, tests: int) -> tuple[float, float, float, float]:
    """(estimate, low, the normal interval's high, the tail-aware high) after ``tests`` tests."""
    summary = summarise(run.values[:tests], naturalistic=False, weights=run.weights[:tests])
    normal = summary.crash_rate + (summary.relative_half_width or 0.0) * summary.crash_rate
    return summary.crash_rate, summary.low, normal, summary.high


def spread(values: list[float]) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "never"
    median, low, high = np.percentile(values, [50, 10, 90], method="nearest")
    text = lambda v: "never" if not np.isfinite(v) else f"{v:,.0f}"  # noqa: E731
    return f"{text(median)} [{text(low)}, {text(high)}]"


def coverage(intervals: list[tuple[float, float, float]], reference: Reference) -> tuple[float, float]:
    """(coverage with the reference's uncertainty, strict coverage) of (estimate, low, high) intervals."""
    found = [covers(estimate, low, high, reference) for estimate, low, high in intervals]
    return (float(np.mean([c[0] for c in found])), float(np.mean([c[1] for c in found]))) if found else (np.nan, np.nan)


def analyse(av: str, mode: str, runs: list[Run], budgets: list[int], reference: Reference) -> dict:
    """Coverage, bias and settling of one AV and mode over its runs; printed and returned."""
    result: dict = {"av": av, "mode": mode, "runs": len(runs)}
    for budget in budgets:
        found = [interval_at(r, budget) for r in runs]
        normal, _ = coverage([(e, lo, hi) for e, lo, hi, _ in found], reference)
        aware, strict = coverage([(e, lo, hi) for e, lo, _, hi in found], reference)
        bias = float(np.mean([e for e, *_ in found])) / reference.rate
        result[f"budget {budget}"] = {"bias": bias, "coverage normal": normal, "coverage": aware, "strict": strict}
        print(f"  {mode:8} {budget:>6,} tests: bias {bias:.2f}; coverage of the normal interval {normal:.2f}, "
              f"of the tail-aware one {aware:.2f} (strict {strict:.2f})", flush=True)
    flagged: dict[bool, list[bool]] = {True: [], False: []}  # does the PSIS k-hat tell the runs that miss?
    for budget in budgets:
        for r in runs:
            summary = summarise(r.values[:budget], naturalistic=False, weights=r.weights[:budget])
            estimate, low, normal_high, _ = interval_at(r, budget)
            shape = summary.diagnostics.tail_shape if summary.diagnostics else None
            flagged[shape is not None and shape >= 0.7].append(covers(estimate, low, normal_high, reference)[0])
    result["k-hat"] = {str(k): (float(np.mean(v)) if v else None, len(v)) for k, v in flagged.items()}
    print(f"  {mode:8} normal-interval coverage where the tail k-hat >= 0.7: "
          f"{np.mean(flagged[True]) if flagged[True] else float('nan'):.2f} ({len(flagged[True])} run-budgets), "
          f"where < 0.7: {np.mean(flagged[False]) if flagged[False] else float('nan'):.2f} ({len(flagged[False])})",
          flush=True)
    largest = max(budgets)
    rules: list[tuple[str, TrustRule | None]] = [("RHW alone", None)]
    rules += [(f"RHW + diagnostics, unseen <= {share:g}", dataclasses.replace(TRUST, max_unseen_share=share))
              for share in UNSEEN_SHARES]
    for label, rule in rules:
        points = [settle_point(r, largest, rule) for r in runs]
        settled = [interval_at(r, n) for r, n in zip(runs, points) if n is not None]
        cover = [covers(e, lo, hi if rule else normal_high, reference)[0] for e, lo, normal_high, hi in settled]
        rate = float(np.mean(cover)) if cover else float("nan")
        missing = sum(not c for c in cover) / len(runs)
        result[label] = {"settled": len(settled) / len(runs), "coverage": rate, "missing": missing}
        print(f"  {mode:8} until-rhw, {label:36}: settled {len(settled):2}/{len(runs)} within {largest:,} tests, at "
              f"{spread([n if n is not None else np.inf for n in points])}; coverage {rate:.2f} "
              f"({'tail-aware' if rule else 'normal'} interval); settled missing the reference: {missing:.2f}",
              flush=True)
    needed = [tests_needed(TestOutcomes.from_array(r.values[:largest])) if r.crashed[:largest].any() else None
              for r in runs]
    result["tests needed"] = [np.inf if n is None or n >= largest else float(n) for n in needed]
    trusted_needed = [settle_point(r, largest, TRUST, step=512) for r in runs]
    result["tests needed, trusted"] = [np.inf if n is None else float(n) for n in trusted_needed]
    print(f"  {mode:8} tests needed for RHW 0.3, each run's own order (D2RL's definition): "
          f"{spread(result['tests needed'])}; until also trusted (every 512 tests): "
          f"{spread(result['tests needed, trusted'])}", flush=True)
    return result


def spread_float(values: list[float]) -> str:
    if not values:
        return "undefined"
    median, low, high = np.percentile(values, [50, 10, 90])
    return f"{median:.2f} [{low:.2f}, {high:.2f}]"


def median_ratio(numerator: list[float], denominator: list[float], reps: int = 2000) -> tuple[float, float, float]:
    """median(numerator) / median(denominator) over independent runs, with its 90% interval
    from resampling the runs of each (inf: a median never reached)."""
    rng = np.random.default_rng(0)
    a, b = np.array(numerator), np.array(denominator)

    def ratio(x: np.ndarray, y: np.ndarray) -> float:
        top, bottom = np.percentile(x, 50, method="nearest"), np.percentile(y, 50, method="nearest")
        return float(top / bottom) if np.isfinite(bottom) else 0.0

    samples = [ratio(a[rng.integers(a.size, size=a.size)], b[rng.integers(b.size, size=b.size)]) for _ in range(reps)]
    low, high = np.percentile(samples, [5, 95], method="nearest")  # inf (a median never reached) stays inf
    return ratio(a, b), float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avs", default="idm,cautious,aggressive,acc")
    parser.add_argument("--modes", default="nade,adaptive,adate")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--budgets", default="4096,16384")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--min-crashes", type=int, default=200, help="the NDE reference's")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--reduced", action="store_true", help="CI: 3 short runs of one AV and mode; checks it computes")
    parser.add_argument("--out", type=Path, default=None, help="also write every figure as JSON to this file")
    args = parser.parse_args()
    reference_path, chunk = REFERENCE_FILE, 200_000
    if args.reduced:
        args.avs, args.modes, args.runs, args.budgets, args.min_crashes = "cautious", "nade", 3, "4096,8192", 20
        reference_path, chunk = args.cache / "reduced-reference.json", 20_000
    avs, modes = args.avs.split(","), args.modes.split(",")
    budgets = sorted(int(b) for b in args.budgets.split(","))
    if any(b % BATCH_SIZE for b in budgets):
        parser.error(f"--budgets must be multiples of the batch size {BATCH_SIZE}")
    print(f"settled (trusted) when: relative half-width <= {TARGET_RHW} and {TRUST.describe()}", flush=True)
    results, needed, ratios = [], {}, {}
    for av in avs:
        print(f"AV {av}:", flush=True)
        reference = Reference.of(nde_reference(av, args.min_crashes, chunk, reference_path))
        print(f"  NDE reference {reference.rate:.3e} +- {reference.half_width:.2e} (90%)", flush=True)
        jobs = [(av, mode, FIRST_SEED + i, max(budgets), args.cache) for mode in modes for i in range(args.runs)]
        began = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            paths = list(pool.map(play_run, *zip(*jobs)))
        print(f"  {len(jobs)} runs ready in {time.perf_counter() - began:.0f} s", flush=True)
        for mode in modes:
            runs = [load_run(p, job[2]) for p, job in zip(paths, jobs) if job[1] == mode]
            result = analyse(av, mode, runs, budgets, reference)
            result["reference"] = {"rate": reference.rate, "half_width": reference.half_width}
            results.append(result)
            needed[(av, mode)] = result
        if "nade" in modes and "adate" in modes:
            for key in ("tests needed", "tests needed, trusted"):
                value, low, high = median_ratio(needed[(av, "nade")][key], needed[(av, "adate")][key])
                ratios[f"{av}: {key}"] = [value, low, high]
                print(f"  AdaTE against NADE, {key} (median over runs, NADE / AdaTE): {value:.2f} "
                      f"[90%: {low:.2f}, {high:.2f}]", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"results": results, "adate_over_nade": ratios}, indent=1, default=float) + "\n")
    chosen = f"RHW + diagnostics, unseen <= {TRUST.max_unseen_share:g}"
    trusted = [r[chosen]["coverage"] for r in results if np.isfinite(r[chosen]["coverage"])]
    print(f"smallest coverage of the 90% interval once settled (with the diagnostics) over every AV and mode: "
          f"{min(trusted) if trusted else float('nan'):.2f}")
    print(f"ratio {min(trusted) / 0.9 if trusted else float('nan'):.2f}")


if __name__ == "__main__":
    main()
