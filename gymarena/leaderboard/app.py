"""The leaderboard web app: server-rendered pages and a JSON API that mirrors them.

``create_app(db_url)`` builds a FastAPI app over one results database. Pages: suites
(``/``), a suite's ranking (``/suites/{suite}``), an agent (``/agents/{id}``), a run
(``/runs/{id}``, with its episodes as CSV). ``/api`` in front of a page's path gives its
data as JSON. Every asset (CSS, the table-sorting script, plots as inline SVG) is served
from here: no CDN.
"""

from __future__ import annotations

import csv
import io
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from gymarena.errors import GymarenaError, UnknownSuiteError
from gymarena.leaderboard import pages
from gymarena.leaderboard.algorithms import algorithms_page
from gymarena.leaderboard.cache import Memo, StoredPages
from gymarena.leaderboard.limits import BodyLimit
from gymarena.leaderboard.packages import PackageError, inspect_archive
from gymarena.leaderboard.ranking import RANKING_REPS
from gymarena.leaderboard.refresher import RankingRefresher
from gymarena.leaderboard.uploads import ResultsUpload, check_results, registered_label, store_results, validation_summary
from gymarena.results import ResultsStore
from gymarena.results.submissions import TokenInfo

HERE = Path(__file__).parent
MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # a results upload of ~1M episodes fits


def create_app(db_url: str, reps: int | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               refresh_in_process: bool = True) -> FastAPI:
    """The app over the results database at ``db_url`` (created and migrated if needed).

    Rankings are read from the pages a refresher stores; ``refresh_in_process`` runs it as a
    thread of this app (``gymarena serve`` runs one refresher process for all its workers)."""
    store = ResultsStore(db_url)
    refresher = RankingRefresher(store, reps or RANKING_REPS)
    stored = StoredPages(store, refresher)
    memo = Memo()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = refresher.start_thread() if refresh_in_process else None
        yield
        if stop is not None:
            stop.set()
        store.close()

    app = FastAPI(title="gymarena leaderboard", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
                  lifespan=lifespan)
    app.state.store = store
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    @app.exception_handler(pages.NotFound)
    @app.exception_handler(UnknownSuiteError)
    async def not_found(request: Request, exc: GymarenaError) -> Response:
        return _error(request, 404, str(exc))

    def _error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message}, status_code=status)

    _read_api(app, store, stored, memo)
    _submission_api(app, store)
    _pages(app, store, stored, memo, templates)
    return app



def _read_api(app: FastAPI, store: ResultsStore, stored: StoredPages, memo: Memo) -> None:
    """The JSON twins of the pages, and the run downloads."""

    @app.get("/api")
    @app.get("/api/")
    def api_index() -> dict[str, Any]:
        """What the API holds: every page's data at /api + the page's path."""
        return {"pages": {"suites": "/api/suites", "ranking": "/api/suites/{name@N}", "algorithms": "/api/algorithms",
                          "agent": "/api/agents/{id}",
                          "run": "/api/runs/{id}", "episodes": "/api/runs/{id}/episodes.csv (or .json)",
                          "submission": "/api/submissions/{id}"},
                "writes": {"results": "POST /api/submissions/results", "agent": "POST /api/submissions/agent"},
                "docs": "/api/docs"}

    @app.get("/api/suites")
    def suites_api() -> dict[str, Any]:
        return pages.suites_page(store)

    @app.get("/api/suites/{suite}")
    def ranking_api(suite: str) -> Response:
        return Response(stored.get(suite).payload, media_type="application/json")  # stored as served

    @app.get("/api/algorithms")
    def algorithms_api() -> dict[str, Any]:
        return memo.get("algorithms", store.algorithm_version(), lambda: algorithms_page(store))

    @app.get("/api/agents/{agent_id}")
    def agent_api(agent_id: int) -> dict[str, Any]:
        return pages.agent_page(store, agent_id)

    @app.get("/api/runs/{run_id}")
    def run_api(run_id: int, page: int = 1) -> dict[str, Any]:
        return pages.run_page(store, run_id, page)

    @app.get("/api/runs/{run_id}/episodes.json")
    def run_episodes_json(run_id: int) -> dict[str, Any]:
        rows = pages.episode_rows(store, run_id)
        return {"run": run_id, "episodes": rows}

    @app.get("/api/runs/{run_id}/episodes.csv")
    def run_episodes_csv(run_id: int) -> Response:
        rows = pages.episode_rows(store, run_id)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=pages.EPISODE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return Response(buffer.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-episodes.csv"'})



def _bearer(store: ResultsStore, authorization: str | None) -> TokenInfo | None:
    """The live token an ``Authorization: Bearer TOKEN`` header carries, if any."""
    scheme, _, token = (authorization or "").partition(" ")
    return store.submissions.token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None


class _Writes:
    """What every write request shares: the caller's token (or 401), the reservation of its
    submission against the daily quota (or 429), refusals recorded on that submission, and
    bodies that may not arrive whole."""

    def __init__(self, store: ResultsStore):
        self.store = store

    def caller(self, authorization: str | None = Header(default=None)) -> TokenInfo:
        """The token a write request carries (``Authorization: Bearer TOKEN``), or 401."""
        found = _bearer(self.store, authorization)
        if found is None:
            raise HTTPException(401, "a valid token is needed: Authorization: Bearer TOKEN (gymarena admin create-token)",
                                headers={"WWW-Authenticate": "Bearer"})
        return found

    def reserve(self, token: TokenInfo, kind: str) -> int:
        submission = self.store.submissions.reserve(token, kind)
        if submission is None:
            raise HTTPException(429, f"token {token.name!r} has used its {token.daily_quota} submissions of the last 24 hours "
                                     "(refused uploads count too)")
        return submission

    def refuse(self, submission: int, reason: str, suite: str = "", manifest: dict[str, Any] | None = None) -> HTTPException:
        self.store.submissions.settle(submission, suite, manifest or {}, "failed", reason=reason)
        return HTTPException(422, reason)

    async def received(self, submission: int, receive: Any) -> Any:
        """The request's body (or form) for a reserved submission; one that does not arrive
        whole (over the size limit, cut off) leaves the submission failed, never half-made."""
        try:
            return await receive()
        except Exception:
            await run_in_threadpool(self.refuse, submission, "the upload did not arrive whole (over the size limit or cut off)")
            raise


def _submission_api(app: FastAPI, store: ResultsStore) -> None:
    """Writes: uploaded results and agents, and their status. Every upload with a valid
    token first reserves its submission (quota checked in the same transaction), so a
    refused upload counts like an accepted one and concurrent uploads cannot pass the quota."""
    writes = _Writes(store)
    _results_api(app, store, writes)
    _agent_api(app, store, writes)

    @app.get("/api/submissions/{submission_id}")
    def submission_api(submission_id: int, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        viewer = _bearer(store, authorization)
        return pages.submission_page(store, submission_id, viewer.id if viewer is not None else None)


def _results_api(app: FastAPI, store: ResultsStore, writes: _Writes) -> None:
    """``POST /api/submissions/results``: checked, then stored as a self-reported run of the token's agent."""

    @app.post("/api/submissions/results", status_code=201)
    async def submit_results_api(request: Request, token: TokenInfo = Depends(writes.caller)) -> JSONResponse:
        submission = await run_in_threadpool(writes.reserve, token, "results")
        body = await writes.received(submission, request.body)
        return await run_in_threadpool(accept, submission, body, token)

    def accept(submission: int, body: bytes, token: TokenInfo) -> JSONResponse:
        from gymarena.installed import suite_protocol

        try:
            upload = ResultsUpload.model_validate_json(body)
        except ValidationError as exc:
            raise writes.refuse(submission, f"the upload is not valid results: {validation_summary(exc)}") from None
        manifest = {"agent": upload.agent.model_dump(), "episodes": len(upload.episodes),
                    "algorithm": None if upload.algorithm is None else upload.algorithm.model_dump()}
        try:
            label = registered_label(upload.suite)
        except UnknownSuiteError as exc:
            raise writes.refuse(submission, str(exc), manifest=manifest) from None
        from gymarena.leaderboard.boards import board_of_suite

        board = board_of_suite(label)
        if not board.takes_results:  # its estimate or games are computed by whoever plays them: here, by this server
            raise writes.refuse(submission, f"{label} is a {board.name} board: it ranks what this server evaluates "
                                "itself; submit the agent instead (gymarena submit agent)", label, manifest)
        planned = suite_protocol(label)
        problems = check_results(upload, planned)
        if problems:
            store.submissions.settle(submission, label, manifest, "failed", reason="; ".join(problems))
            return JSONResponse({"submission": submission, "status": "failed", "detail": problems}, status_code=422)
        store.submissions.settle(submission, label, manifest, "running")
        try:
            run_id = store_results(store, upload, planned, submission, owner=token.name)
        except Exception as exc:  # stored atomically: nothing of the run remains
            store.submissions.finish(submission, "failed", reason=f"the results could not be stored: {exc}")
            raise
        store.submissions.finish(submission, "finished")
        return JSONResponse({"submission": submission, "status": "finished", "run": run_id, "kind": "self-reported"},
                            status_code=201)


def _agent_api(app: FastAPI, store: ResultsStore, writes: _Writes) -> None:
    """``POST /api/submissions/agent``: the archive inspected as it streams, then queued for a worker."""

    @app.post("/api/submissions/agent", status_code=202)
    async def submit_agent_api(request: Request, token: TokenInfo = Depends(writes.caller)) -> JSONResponse:
        submission = await run_in_threadpool(writes.reserve, token, "agent")
        form = await writes.received(submission, lambda: request.form(max_files=1, max_fields=10))
        suite, upload = form.get("suite"), form.get("archive")
        if not isinstance(suite, str) or upload is None or isinstance(upload, str):
            raise await run_in_threadpool(
                writes.refuse, submission, "send a form with 'suite' (name@version) and 'archive' (the package as .tar.gz)")
        archive = await writes.received(submission, upload.read)
        return await run_in_threadpool(accept, submission, suite, archive)

    def accept(submission: int, suite: str, archive: bytes) -> JSONResponse:
        try:
            label = registered_label(suite)
        except UnknownSuiteError as exc:
            raise writes.refuse(submission, str(exc)) from None
        try:
            manifest = inspect_archive(archive)
        except PackageError as exc:
            raise writes.refuse(submission, str(exc), label) from None
        store.submissions.settle(submission, label, manifest.model_dump(), "queued", archive=archive)
        return JSONResponse({"submission": submission, "status": "queued"}, status_code=202)



def _pages(app: FastAPI, store: ResultsStore, stored: StoredPages, memo: Memo, templates: Jinja2Templates) -> None:
    """The server-rendered pages."""

    @app.get("/", response_class=HTMLResponse)
    def suites_view(request: Request) -> Response:
        return templates.TemplateResponse(request, "suites.html", {"data": pages.suites_page(store)})

    @app.get("/suites/{suite}", response_class=HTMLResponse)
    def ranking_view(request: Request, suite: str) -> Response:
        page = stored.get(suite)  # its body was rendered by the refresher; wrapped once per stored page
        html = memo.get(("ranking html", page.suite, str(request.base_url)), page.serial, lambda: templates.get_template(
            "ranking.html").render(request=request, suite=page.suite, body=page.html))
        return HTMLResponse(html)

    @app.get("/algorithms", response_class=HTMLResponse)
    def algorithms_view(request: Request) -> Response:
        data = memo.get("algorithms", store.algorithm_version(), lambda: algorithms_page(store))
        return templates.TemplateResponse(request, "algorithms.html", {"data": data})

    @app.get("/agents/{agent_id}", response_class=HTMLResponse)
    def agent_view(request: Request, agent_id: int) -> Response:
        return templates.TemplateResponse(request, "agent.html", {"data": pages.agent_page(store, agent_id)})

    @app.get("/runs/{run_id}/scores.svg")
    def run_scores_svg(run_id: int) -> Response:
        """A run's normalised score per task with CIs, drawn by the report code; cached
        with the run (and by browsers for a minute)."""
        run = pages.shown_run(store, run_id)
        svg = memo.get(("run figure", run_id), (run.status, run.episode_count), lambda: pages.interval_figure(
            {t["task"]: t["normalised"] for t in pages.task_breakdown(run, store.seed_means([run_id])) if t["normalised"]},
            f"run {run_id}: normalised score per task, 95% bootstrap CI over seeds"))
        if not svg:
            raise pages.NotFound(f"run {run_id} has no task with score references to plot")
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=60"})

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse)
    def submission_view(request: Request, submission_id: int) -> Response:
        return templates.TemplateResponse(request, "submission.html", {"data": pages.submission_page(store, submission_id)})

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_view(request: Request, run_id: int, page: int = 1) -> Response:
        data = pages.run_page(store, run_id, page)
        return templates.TemplateResponse(request, "run.html", {"data": data, "columns": pages.EPISODE_COLUMNS})
