"""A testing run: tests played batch by batch and recorded as the episodes of a run.

A testing run is a stored run of the task of its mode (``cav/Highway2Lane-{NDE,NADE,Adaptive,AdaTE}-v0``)
whose episodes are its tests, committed batch by batch through the run recorder (a crash
midway loses at most the batch being played, and the run ends failed with the reason).
Like ``gymarena eval``, the same command again continues an unfinished run (its stored
batches are skipped; the learning modes, adaptive and AdaTE, play them again, unstored, to restore their fit:
batch i is drawn from (seed, i), so it is the same batch) and shows a complete one.
Each test's record holds ``crash``, ``weight``, ``outcome`` (weight x 1[crash], what the
estimate averages), ``controlled`` decisions and where it was played (``batch``, ``row``;
adaptive and AdaTE runs also the ``betas`` its batch used), so any test can be replayed and drawn.
At its end the run keeps its summary (``RunInfo.summary``): the estimate, its 90% CI, the
relative half-width, the tests needed, the RHW path and, for the importance-sampled modes,
the weight diagnostics and whether they trust the interval. ``until_rhw`` stops at the end
of the first batch where the relative half-width is reached *and* the interval is trusted
(cavtest/trust.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymarena.agents import AgentSource
from gymarena.cavtest.av import av_source
from gymarena.cavtest.samplers import LEARNING_MODES, MODES, Sampler, used_betas
from gymarena.cavtest.summary import Summary, summarise
from gymarena.cavtest.trust import TRUST
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.sim import Policy, Road
from gymarena.envs.cav.testing import play_batch
from gymarena.errors import GymarenaError, MissingExtraError, param
from gymarena.fingerprints.drift import run_provenance
from gymarena.installed import installed_protocol
from gymarena.records import EpisodeRecord
from gymarena.results import ResultsStore, RunStart
from gymarena.tasks import get_task

QP_MODULES = ("qpsolvers", "quadprog")  # the learning modes' fit of their surrogate coefficients


@dataclass(frozen=True)
class TestingOrigin:
    """Who is tested and how the run is stored: the AV (a reference, or a loaded source with
    the policy it gives per task: the leaderboard worker's sandboxed AVs), the run's kind,
    suite (a safety board's ``name@N``) and submission."""

    av: str | tuple[AgentSource, Callable[[Any], Policy]]
    kind: str = "local"
    suite: str | None = None
    submission_id: int | None = None


def run_cav_tests(store: ResultsStore, av: str | TestingOrigin, mode: str, tests: int, until_rhw: float | None = None,
                  seed: int = 0, batch_size: int = 4096, epsilon: float = 0.1, ndd_path: str | None = None,
                  say: Callable[[str], None] = print, fresh: bool = False) -> tuple[int, Summary]:
    """Play up to ``tests`` tests (stopping early once the relative half-width reaches
    ``until_rhw``), storing them as a run; (run id, summary). Continues an unfinished run of
    the same settings, and returns a complete one, unless ``fresh``."""
    origin = av if isinstance(av, TestingOrigin) else TestingOrigin(av)
    if mode not in MODES:
        raise GymarenaError(f"unknown testing mode {mode!r}: choose one of {', '.join(MODES)}")
    if tests < 1 or batch_size < 1:
        raise GymarenaError(f"{param('tests')} and {param('batch_size')} must be at least 1")
    missing = [m for m in QP_MODULES if importlib.util.find_spec(m) is None] if mode in LEARNING_MODES else []
    if missing:
        raise MissingExtraError("cav", "cav", f"cannot import {', '.join(missing)}", what=f"{mode} testing's QP solver")
    ndd = load_ndd(ndd_path) if ndd_path else load_ndd()
    task = dataclasses.replace(get_task(MODES[mode]), episodes=tests)
    source, policy_for = av_source(origin.av) if isinstance(origin.av, str) else origin.av
    policy = policy_for(task)
    protocol = installed_protocol([task], (seed,))
    settings = {"mode": mode, "batch_size": batch_size, "epsilon": epsilon, "ndd": ndd_path, "until_rhw": until_rhw}
    if until_rhw is not None and mode != "nde":  # it stops only where the weights trust the interval too
        settings["settle"] = TRUST.key()
    if origin.suite is not None:  # a board's run is not `gymarena cav test`'s run of the same settings
        settings["suite"] = origin.suite
    config = {"agent": source.reference, "suite": origin.suite, "seeds": [seed], **settings,
              "tasks": [{"id": task.id, "episodes": task.episodes, "decision_intervals": [1]}]}
    start = RunStart(source.identity, protocol, config, run_provenance(protocol),
                     kind=origin.kind, suite=origin.suite, settings=settings, submission_id=origin.submission_id)
    if not fresh and (done := store.find_complete_run(start.config_hash)) is not None:
        _, outcomes, records = stored_outcomes(store, done)
        say(f"run {done} already holds these tests (complete); nothing was played. --fresh tests again as a new run")
        return done, summarise(outcomes, naturalistic=mode == "nde", weights=stored_weights(records))
    road = Road()
    sampler = Sampler(mode, ndd, epsilon, road)
    values: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    played = 0
    with store.recording(start, resume=not fresh) as run:
        stored = _stored_batches(store, run.run_id) if run.resumed else {}
        if stored:
            say(f"continuing run {run.run_id}: {sum(v.size for v, _ in stored.values()):,} tests are stored")
        for index, first in enumerate(range(0, tests, batch_size)):
            size = min(batch_size, tests - first)
            controller = sampler.controller()
            if index in stored and not sampler.learns:
                values.append(stored[index][0])
                weights.append(stored[index][1])
                played += size
                continue
            began = time.perf_counter()
            batch, _ = play_batch(size, policy, controller, road, seed, index)
            seconds = (time.perf_counter() - began) / size
            batch_weights = np.asarray(getattr(controller, "weights", np.ones(size)), dtype=float)
            if index not in stored:
                run.add(_records(task.id, seed, first, index, batch, batch_weights,
                                 getattr(controller, "controlled", np.zeros(size, int)), seconds,
                                 used_betas(controller)))
            values.append(np.where(batch.crashed, batch_weights, 0.0))
            weights.append(batch_weights)
            played += size
            sampler.observe(controller, batch)
            summary = summarise(np.concatenate(values), naturalistic=mode == "nde", weights=np.concatenate(weights))
            say(_progress(played, summary))
            if until_rhw is not None and summary.settled(until_rhw):
                break
        everything = np.concatenate(values)
        summary = summarise(everything, naturalistic=mode == "nde", weights=np.concatenate(weights))
        run.summary = summary.to_json(everything)
    return run.run_id, summary


def _progress(played: int, summary: Summary) -> str:
    """One line per batch: the estimate so far, and why it has not settled if its weights say so."""
    rhw = "undefined" if summary.relative_half_width is None else f"{summary.relative_half_width:.3f}"
    why = summary.untrusted_because
    return (f"{played:,} tests: crash rate {summary.crash_rate:.3e}, relative half-width {rhw}"
            + ("" if why is None else f" (interval not trusted yet: {why})"))


def _stored_batches(store: ResultsStore, run_id: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The outcomes and weights of a run's stored tests, per batch index (batches are committed whole)."""
    batches: dict[int, list[tuple[int, float, float]]] = {}
    for record in store.episodes(run_id):
        batches.setdefault(int(record.extra["batch"]), []).append(
            (record.extra["row"], record.extra["outcome"], record.extra["weight"]))
    return {index: (np.array([r[1] for r in sorted(rows)]), np.array([r[2] for r in sorted(rows)]))
            for index, rows in batches.items()}


def stored_weights(records: list[EpisodeRecord]) -> np.ndarray:
    """Each stored test's importance weight, in the order of ``records``."""
    return np.array([float(r.extra.get("weight", 1.0)) for r in records])


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
