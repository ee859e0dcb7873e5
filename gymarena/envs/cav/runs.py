"""``gymarena cav test|compare|replay``: crash-rate testing runs kept in the results database.

A testing run is a stored run of the task of its mode (``cav/Highway2Lane-{NDE,NADE,Adaptive}-v0``)
whose episodes are its tests, committed batch by batch (a crash midway loses at most the
batch being played). Each test's record holds ``crash``, ``weight``, ``outcome`` (weight x
1[crash], what the estimate averages), ``controlled`` decisions and where it was played
(``batch``, ``row``; adaptive runs also the ``betas`` its batch used), so any test can be
replayed and drawn. At its end the run keeps its summary (``RunInfo.summary``): the
estimate, its 90% CI, the relative half-width, the tests needed and the RHW path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena import provenance
from gymarena.agents import AgentSource, load_agent
from gymarena.envs.cav import avs
from gymarena.envs.cav.adaptive import SURROGATES, BetaFitter, make_controller
from gymarena.envs.cav.env import lane_change_of
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.sim import Policy, Road
from gymarena.envs.cav.testing import play_batch
from gymarena.errors import GymarenaError
from gymarena.metrics.efficiency import TestOutcomes, naturalistic_tests_needed, tests_needed, z_value
from gymarena.records import EpisodeRecord
from gymarena.results import ResultsStore
from gymarena.results.store import AgentIdentity
from gymarena.tasks import get_task

MODES = {"nde": "cav/Highway2Lane-NDE-v0", "nade": "cav/Highway2Lane-NADE-v0", "adaptive": "cav/Highway2Lane-Adaptive-v0"}
BUILTIN_PREFIX = "cav:"


def av_source(reference: str) -> tuple[AgentSource, Callable[[Any], Policy]]:
    """The AV under test: a built-in (``idm``, ``cautious``, ``aggressive``) or an agent
    reference whose agent has ``act_batch(observations) -> (accelerations, lane_changes)``
    (fast) or ``act(observation) -> [acceleration, lane change]`` (called test by test)."""
    name = reference.removeprefix(BUILTIN_PREFIX)
    if name in avs.AVS:
        digest = hashlib.sha256(inspect.getsource(avs).encode()).hexdigest()
        from gymarena import __version__

        source = AgentSource(BUILTIN_PREFIX + name, name, __version__, digest, None)
        return source, lambda task: avs.AVS[name]
    source = load_agent(reference)

    def policy_for(task) -> Policy:
        from gymarena.wrappers import make_local_env

        env = make_local_env(task)
        agent = source.factory(task, env.observation_space, env.action_space)
        env.close()
        if hasattr(agent, "act_batch"):
            return lambda observations: agent.act_batch(observations)

        def one_by_one(observations: np.ndarray):
            actions = np.array([np.asarray(agent.act(row), dtype=float).reshape(-1)[:2] for row in observations])
            return actions[:, 0], np.array([lane_change_of(v) for v in actions[:, 1]])

        return one_by_one

    return source, policy_for


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
        from gymarena.metrics.efficiency import relative_half_width

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
    mu = float(values.mean()) if n else 0.0
    sd = np.sqrt(mu * (1 - mu)) if naturalistic else (float(values.std(ddof=1)) if n > 1 else 0.0)
    half = z_value(0.9) * sd / np.sqrt(max(n, 1))
    crashes = int(np.count_nonzero(values))
    rhw = half / mu if mu > 0 else None
    needed = tests_needed(TestOutcomes.from_array(values), naturalistic=naturalistic) if crashes else None
    return Summary(n, crashes, mu, mu - half, mu + half, rhw, needed, naturalistic)


def run_cav_tests(store: ResultsStore, av: str, mode: str, tests: int, until_rhw: float | None = None,
                  seed: int = 0, batch_size: int = 4096, epsilon: float = 0.1, ndd_path: str | None = None,
                  say: Callable[[str], None] = print) -> tuple[int, Summary]:
    """Play up to ``tests`` tests (stopping early once the relative half-width reaches
    ``until_rhw``), storing them as a run; (run id, summary)."""
    if mode not in MODES:
        raise GymarenaError(f"unknown testing mode {mode!r}: choose one of {', '.join(MODES)}")
    if tests < 1 or batch_size < 1:
        raise GymarenaError("--tests and --batch-size must be at least 1")
    ndd = load_ndd(ndd_path) if ndd_path else load_ndd()
    task = dataclasses.replace(get_task(MODES[mode]), episodes=tests)
    source, policy_for = av_source(av)
    policy = policy_for(task)
    run_id = _create_run(store, task, source, mode, seed, batch_size, epsilon, ndd_path, until_rhw)
    road = Road()
    fitter = BetaFitter(len(SURROGATES))
    values: list[np.ndarray] = []
    played = 0
    status = "failed"
    try:
        for index, start in enumerate(range(0, tests, batch_size)):
            size = min(batch_size, tests - start)
            betas = fitter.betas
            controller = make_controller(mode, ndd, epsilon, betas)
            began = time.perf_counter()
            batch, _ = play_batch(size, policy, controller, road, seed, index)
            seconds = (time.perf_counter() - began) / size
            weights = getattr(controller, "weights", np.ones(size))
            store.add_episodes(run_id, _records(task.id, seed, start, index, batch, weights,
                                                getattr(controller, "controlled", np.zeros(size, int)), seconds,
                                                betas if mode == "adaptive" else None))
            values.append(np.where(batch.crashed, weights, 0.0))
            played += size
            if mode == "adaptive":
                fitter.observe(controller, batch, road)
            summary = summarise(np.concatenate(values), naturalistic=mode == "nde")
            say(f"{played:,} tests: crash rate {summary.crash_rate:.3e}, relative half-width "
                f"{'undefined' if summary.relative_half_width is None else f'{summary.relative_half_width:.3f}'}")
            if until_rhw is not None and summary.relative_half_width is not None and summary.relative_half_width <= until_rhw:
                break
        status = "complete"
    finally:
        store.set_status(run_id, status)
    everything = np.concatenate(values)
    summary = summarise(everything, naturalistic=mode == "nde")
    store.set_summary(run_id, summary.to_json(everything))
    return run_id, summary


def _create_run(store, task, source: AgentSource, mode, seed, batch_size, epsilon, ndd_path, until_rhw) -> int:
    from gymarena.runner.plan import PlannedTask, run_protocol_hash
    from gymarena.tasks import canonical_json
    from gymarena.wrappers import simulator_versions

    planned = PlannedTask(task, (seed,), simulator_versions("cav"))
    config = {"agent": source.reference, "suite": None, "seeds": [seed], "mode": mode, "batch_size": batch_size,
              "epsilon": epsilon, "ndd": ndd_path, "until_rhw": until_rhw,
              "tasks": [{"id": task.id, "episodes": task.episodes, "decision_intervals": [1]}]}
    agent_id = store.ensure_agent(AgentIdentity(source.name, source.reference, source.version, source.content_hash))
    config_hash = hashlib.sha256(canonical_json({"config": config, "code": source.content_hash}).encode()).hexdigest()
    return store.create_run(agent_id=agent_id, suite=None, protocol_hash=run_protocol_hash((planned,)),
                            config_hash=config_hash, config=config,
                            provenance=provenance.collect(sorted(planned.simulator_versions)), tasks=[planned.stored()])


def _records(task_id, seed, start, index, batch, weights, controlled, seconds, betas) -> list[EpisodeRecord]:
    records = []
    for row in range(batch.tests):
        crashed = bool(batch.crashed[row])
        extra = {"crash": crashed, "safe": not crashed, "weight": float(weights[row]),
                 "outcome": float(weights[row]) if crashed else 0.0, "controlled": int(controlled[row]),
                 "batch": index, "row": row, "distance": round(float(batch.x[row, 0]), 3)}
        if betas is not None:
            extra["betas"] = [round(float(b), 9) for b in betas]
        records.append(EpisodeRecord(
            task_id=task_id, seed=seed, episode=start + row, episode_seed=index, episode_return=-1.0 if crashed else 0.0,
            length=int(batch.steps[row]), success=not crashed, terminated=crashed or batch.x[row, 0] >= batch.road.distance,
            truncated=not crashed and batch.x[row, 0] < batch.road.distance, env_steps=int(batch.steps[row]),
            wall_seconds=seconds, extra=extra))
    return records


def stored_outcomes(store: ResultsStore, run_id: int) -> tuple[Any, np.ndarray, list[EpisodeRecord]]:
    """(run, outcome per test in test order, records) of a stored testing run."""
    run = store.get_run(run_id)
    if run is None or "mode" not in run.config:
        raise GymarenaError(f"run {run_id} is not a CAV testing run (`gymarena cav test` makes those)")
    records = sorted(store.episodes(run_id), key=lambda r: r.episode)
    return run, np.array([r.extra["outcome"] for r in records]), records


def replay(store: ResultsStore, run_id: int, test: int | None, out: str) -> tuple[int, str]:
    """Play a stored test again and draw it into ``out`` (.gif or .png); (test, path)."""
    from gymarena.envs.cav.render import draw_frame, write_frames

    run, values, records = stored_outcomes(store, run_id)
    if test is None:
        crashed = [r for r in records if r.extra["crash"]]
        if not crashed:
            raise GymarenaError(f"run {run_id} has no crash to replay; name a test with --test")
        test = crashed[0].episode
    record = next((r for r in records if r.episode == test), None)
    if record is None:
        raise GymarenaError(f"run {run_id} has no test {test} (it has {len(records)})")
    config = run.config
    ndd = load_ndd(config["ndd"]) if config.get("ndd") else load_ndd()
    betas = np.array(record.extra.get("betas", [1.0 / len(SURROGATES)] * len(SURROGATES)))
    controller = make_controller(config["mode"], ndd, config["epsilon"], betas)
    task = dataclasses.replace(get_task(MODES[config["mode"]]), episodes=len(records))
    _, policy_for = av_source(config["agent"])
    batch_tests = sum(1 for r in records if r.extra["batch"] == record.extra["batch"])
    batch, trace = play_batch(batch_tests, policy_for(task), controller, Road(), config["seeds"][0],
                              record.extra["batch"], watch=record.extra["row"])
    if bool(batch.crashed[record.extra["row"]]) != record.extra["crash"]:
        raise GymarenaError(f"test {test} did not replay as stored (the simulator, NDD or AV changed since)")
    frames = [draw_frame(x, lane, Road(), crashed) for x, lane, crashed in trace]
    return test, str(write_frames(frames, out, every=2 if out.endswith(".gif") else max(1, len(frames) // 12)))


@dataclass
class Comparison:
    summaries: tuple[Summary, Summary]
    z: float  # difference of the two estimates in standard errors: unbiased methods agree within ~2
    needed: tuple[tuple[float, float, float], tuple[float, float, float]]  # (measured, 95% low, high) per run
    efficiency: tuple[float, float, float]  # tests needed by A / by B, with a bootstrap 95% CI


def compare(store: ResultsStore, run_a: int, run_b: int, reps: int = 300, seed: int = 0) -> tuple[Comparison, list[np.ndarray]]:
    """Two testing runs side by side; also each run's RHW path (for a plot)."""
    from gymarena.metrics.efficiency import relative_half_width, tests_needed_bootstrap

    rng = np.random.default_rng(seed)
    summaries, needed, samples, paths = [], [], [], []
    for run_id in (run_a, run_b):
        run, values, _ = stored_outcomes(store, run_id)
        naturalistic = run.config["mode"] == "nde"
        summary = summarise(values, naturalistic)
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
        paths.append(relative_half_width(outcomes, naturalistic=naturalistic) if summary.crashes else np.full(values.size, np.nan))
    a, b = summaries
    se = np.sqrt(((a.high - a.low) / (2 * z_value(0.9))) ** 2 + ((b.high - b.low) / (2 * z_value(0.9))) ** 2)
    z = (a.crash_rate - b.crash_rate) / se if se > 0 else 0.0
    ratio = samples[0] / samples[1]
    finite = ratio[np.isfinite(ratio)]
    low, high = np.percentile(finite, [2.5, 97.5], method="nearest") if finite.size else (np.nan, np.nan)
    point = needed[0][0] / needed[1][0] if np.isfinite(needed[1][0]) and needed[1][0] > 0 else np.nan
    return Comparison((a, b), float(z), (needed[0], needed[1]), (float(point), float(low), float(high))), paths


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
