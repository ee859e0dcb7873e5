"""evaluate(): plan a run, play what its stored record lacks, and record it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gymarena.agents import AgentSource
from gymarena.devices import resolve_device
from gymarena.errors import RunConfigError
from gymarena.fingerprints.drift import run_provenance
from gymarena.records import AlgorithmIdentity
from gymarena.results import ResultsStore, RunInfo, RunStart, open_store
from gymarena.results.exchange import stored_run
from gymarena.runner.backends import run_backend
from gymarena.runner.plan import EvalRequest, RunPlan, plan_request, plan_stored_run

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    """The stored run after evaluation; its episodes and summaries are read from the store
    (``store.episodes(run.id)``, :func:`gymarena.views.run_scores`) when wanted."""

    run: RunInfo
    resumed: bool
    skipped: int
    played: int
    already_complete: bool = False  # an identical run held every episode already: nothing was stored
    unbatched: Mapping[str, str] = field(default_factory=dict)  # with --batch: tasks played one at a time, and why


@dataclass(frozen=True)
class RunOrigin:
    """Who evaluates: a loaded agent instead of ``request.agent`` (the leaderboard worker's
    sandboxed submissions), and the kind the run is stored as (local, verified)."""

    agent: AgentSource | None = None
    kind: str = "local"
    submission_id: int | None = None
    algorithm: AlgorithmIdentity | None = None  # the agent is one trained checkpoint of it


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during an evaluation; ``run_id``: the run that keeps what was played (None when
    nothing was stored, and so no run was kept)."""

    def __init__(self, run_id: int | None):
        super().__init__(run_id)
        self.run_id = run_id


def _plan(request: EvalRequest, store: ResultsStore, origin: RunOrigin) -> tuple[RunPlan, bool | int]:
    """(plan, what to resume): the named stored run, else an unfinished identical one unless fresh."""
    if request.resume is None:
        return plan_request(request, origin.agent), not request.fresh
    run = store.get_run(request.resume)
    if run is None:
        raise RunConfigError(f"there is no run {request.resume} in {store.display_url}; `gymarena results` lists the runs")
    if run.status == "complete":
        raise RunConfigError(f"run {run.id} is already complete; there is nothing to resume")
    return plan_stored_run(run), run.id


def _start(plan: RunPlan, origin: RunOrigin, request: EvalRequest, backend: str) -> RunStart:
    played = {"backend": backend, "workers": request.workers, "batch": request.batch, "device": request.device}
    return RunStart(plan.agent.identity, plan.protocol, plan.config(),
                    run_provenance(plan.protocol) | {"evaluation": played},
                    kind=origin.kind, suite=plan.suite, submission_id=origin.submission_id,
                    algorithm=origin.algorithm or plan.algorithm)


def evaluate(
    request: EvalRequest,
    store: ResultsStore | None = None,
    progress: Progress | None = None,
    origin: RunOrigin = RunOrigin(),
) -> RunResult:
    """Run (or resume) an evaluation; every episode is in the store when this returns."""
    own_store = store is None
    store = store or open_store()
    try:
        plan, resume = _plan(request, store, origin)
        backend = request.backend_for(plan)
        if request.device is not None and backend != "ray":  # a Ray cluster's nodes may have devices this one lacks
            resolve_device(request.device)
        start = _start(plan, origin, request, backend)
        if resume is True and (done := store.find_complete_run(start.config_hash)) is not None:
            expected = sum(task.expected_episodes for task in plan.protocol)
            return RunResult(stored_run(store, done), False, expected, 0, already_complete=True)
        recorder = None
        try:
            with store.recording(start, resume=resume) as run:
                recorder = run
                todo, skipped, total = plan.protocol.missing(run.stored_keys())
                if progress:
                    progress(skipped, total)
                played = 0
                for record in run_backend(backend, plan.agent, plan.protocol.specs, todo, request.workers,
                                          request.play_options(), request.address):
                    run.put(record)
                    played += 1
                    if progress:
                        progress(skipped + played, total)
        except KeyboardInterrupt:
            kept = recorder is not None and (recorder.resumed or recorder.recorded > 0)  # else the run was deleted
            raise Interrupted(recorder.run_id if kept and recorder is not None else None) from None
        unbatched = plan.unbatched() if request.batch > 1 else {}
        return RunResult(stored_run(store, run.run_id), run.resumed, skipped, played, unbatched=unbatched)
    finally:
        if own_store:
            store.close()
