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

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gymarena.errors import GymarenaError, UnknownSuiteError
from gymarena.leaderboard import pages
from gymarena.leaderboard.cache import RankingCache
from gymarena.results import ResultsStore

HERE = Path(__file__).parent


def _figure_svg(estimates: dict[str, Any], title: str) -> str:
    """An interval plot as inline SVG, or nothing when matplotlib is not installed."""
    from gymarena.errors import MissingExtraError
    from gymarena.metrics.aggregate import IntervalEstimate

    if not estimates:
        return ""
    try:
        from gymarena.reports.figures import interval_figure, svg_text

        intervals = {label: IntervalEstimate(v["point"], v["low"], v["high"]) for label, v in estimates.items()}
        return svg_text(interval_figure(intervals, title))
    except MissingExtraError:
        return ""


def create_app(db_url: str, reps: int | None = None) -> FastAPI:
    """The app over the results database at ``db_url`` (created and migrated if needed)."""
    store = ResultsStore(db_url)
    cache = RankingCache(reps) if reps else RankingCache()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        store.close()

    app = FastAPI(title="gymarena leaderboard", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
                  lifespan=lifespan)
    app.state.store = store
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

    # --- JSON API -------------------------------------------------------------------

    @app.get("/api/suites")
    def suites_api() -> dict[str, Any]:
        return pages.suites_page(store)

    @app.get("/api/suites/{suite}")
    def ranking_api(suite: str) -> dict[str, Any]:
        return pages.ranking_page(store, cache, suite)

    @app.get("/api/agents/{agent_id}")
    def agent_api(agent_id: int) -> dict[str, Any]:
        return pages.agent_page(store, agent_id)

    @app.get("/api/runs/{run_id}")
    def run_api(run_id: int, page: int = 1) -> dict[str, Any]:
        return pages.run_page(store, run_id, page)

    @app.get("/api/runs/{run_id}/episodes.json")
    def run_episodes_json(run_id: int) -> dict[str, Any]:
        run = store.get_run(run_id)
        if run is None:
            raise pages.NotFound(f"there is no run {run_id}")
        return {"run": run_id, "episodes": [pages.episode_row(r) for r in store.episodes(run_id)]}

    @app.get("/api/runs/{run_id}/episodes.csv")
    def run_episodes_csv(run_id: int) -> Response:
        if store.get_run(run_id) is None:
            raise pages.NotFound(f"there is no run {run_id}")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=pages.EPISODE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(pages.episode_row(r) for r in store.episodes(run_id))
        return Response(buffer.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-episodes.csv"'})

    # --- pages ----------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def suites_view(request: Request) -> Response:
        return templates.TemplateResponse(request, "suites.html", {"data": pages.suites_page(store)})

    @app.get("/suites/{suite}", response_class=HTMLResponse)
    def ranking_view(request: Request, suite: str) -> Response:
        data = pages.ranking_page(store, cache, suite)
        runs = {e["run"]: store.get_run(e["run"]) for e in data["entries"]}
        figure = _figure_svg({e["agent"]: e["iqm"] for e in data["entries"]},
                             f"{data['suite']}: IQM of normalised scores, 95% stratified-bootstrap CI")
        context = {"data": data, "figure": figure, "agent_ids": {run_id: run.agent_id for run_id, run in runs.items()}}
        return templates.TemplateResponse(request, "ranking.html", context)

    @app.get("/agents/{agent_id}", response_class=HTMLResponse)
    def agent_view(request: Request, agent_id: int) -> Response:
        data = pages.agent_page(store, agent_id)
        figures = {
            run["run"]: _figure_svg({t["task"]: t["normalised"] for t in run["tasks"] if t["normalised"]},
                                    f"run {run['run']}: normalised score per task, 95% bootstrap CI over seeds")
            for run in data["runs"]
        }
        return templates.TemplateResponse(request, "agent.html", {"data": data, "figures": figures})

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_view(request: Request, run_id: int, page: int = 1) -> Response:
        data = pages.run_page(store, run_id, page)
        return templates.TemplateResponse(request, "run.html", {"data": data, "columns": pages.EPISODE_COLUMNS})

    return app
