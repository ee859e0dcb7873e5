"""evaluate(): plan a run, attach it to the store, play what is missing, record it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gymarena import provenance
from gymarena.agents import AgentSource
from gymarena.errors import GymarenaError, RunConfigError
from gymarena.results import AgentIdentity, ResultsStore, RunInfo, open_store
from gymarena.runner.backends import run_backend
from gymarena.runner.plan import EvalRequest, RunPlan, plan_request, plan_stored_run
from gymarena.runner.writer import RecordWriter

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    """The stored run after evaluation; its episodes and summaries are read from the store
    (``store.episodes(run.id)``, :func:`gymarena.summary.summarise`) when wanted."""

    run: RunInfo
    resumed: bool
    skipped: int
    played: int


@dataclass(frozen=True)
class RunOrigin:
    """Who evaluates: a loaded agent instead of ``request.agent`` (the leaderboard worker's
    sandboxed submissions), and the kind the run is stored as (local, verified)."""

    agent: AgentSource | None = None
    kind: str = "local"
    submission_id: int | None = None


def _attach(request: EvalRequest, store: ResultsStore, origin: RunOrigin) -> tuple[RunPlan, int, bool]:
    """(plan, run id, resumed): continue the named or an unfinished identical run, else create one."""
    if request.resume is not None:
        run = store.get_run(request.resume)
        if run is None:
            raise RunConfigError(f"there is no run {request.resume} in {store.display_url}; `gymarena results` lists the runs")
        if run.status == "complete":
            raise RunConfigError(f"run {run.id} is already complete; there is nothing to resume")
        return plan_stored_run(run), run.id, True
    plan = plan_request(request, origin.agent)
    if not request.fresh:
        existing = store.find_resumable_run(plan.config_hash)
        if existing is not None:
            return plan, existing, True
    agent = plan.agent
    agent_id = store.ensure_agent(AgentIdentity(agent.name, agent.reference, agent.version, agent.content_hash))
    run_id = store.create_run(
        agent_id=agent_id,
        suite=plan.suite,
        protocol_hash=plan.protocol_hash,
        config_hash=plan.config_hash,
        config=plan.config(),
        provenance=provenance.collect(plan.simulator_packages()),
        tasks=[t.stored() for t in plan.tasks],
        kind=origin.kind,
        submission_id=origin.submission_id,
    )
    return plan, run_id, False


def _play(request: EvalRequest, store: ResultsStore, plan: RunPlan, run_id: int, progress: Progress | None) -> tuple[int, int]:
    """Play the episodes the run lacks, committing each as it finishes; (skipped, played)."""
    todo, skipped, total = plan.missing(store.finished_keys(run_id))
    if progress:
        progress(skipped, total)
    writer = RecordWriter(lambda batch: store.add_episodes(run_id, batch))
    played = 0
    status, error = "failed", None
    try:
        for record in run_backend(request.backend_for(plan), plan.agent, plan.specs, todo, request.workers,
                                  request.isolated, request.address):
            writer.put(record)
            played += 1
            if progress:
                progress(skipped + played, total)
        status = "complete"
    except GymarenaError as exc:
        error = str(exc)
        raise
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            writer.close()
        except GymarenaError as exc:
            status, error = "failed", str(exc)
            raise
        finally:
            store.set_status(run_id, status, error)
    return skipped, played


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
        plan, run_id, resumed = _attach(request, store, origin)
        skipped, played = _play(request, store, plan, run_id, progress)
        return RunResult(store.get_run(run_id), resumed, skipped, played)
    finally:
        if own_store:
            store.close()
