"""Running the leaderboard app under uvicorn (``gymarena serve``).

``serve`` starts one ranking refresher process (leaderboard/refresher.py) and the uvicorn
worker processes, which only read the pages it stores: rankings are computed once, not
once per worker, and never in a process that answers page views.
"""

from __future__ import annotations

import multiprocessing
import os

from gymarena.errors import MissingExtraError

DB_ENV = "GYMARENA_SERVER_DB"


def app_from_environment():
    """The app factory uvicorn calls in each worker process: the database URL comes from
    the environment, as a factory takes no arguments."""
    from gymarena.leaderboard.app import create_app

    return create_app(os.environ[DB_ENV], refresh_in_process=False)


def serve(db_url: str, host: str, port: int, workers: int = 1) -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise MissingExtraError("FastAPI/uvicorn", "server", exc, what="web framework") from None
    from gymarena.leaderboard.ranking import RANKING_REPS
    from gymarena.leaderboard.refresher import REFRESH_SECONDS, run_refresher_process
    from gymarena.results import ResultsStore

    ResultsStore(db_url).close()  # create or migrate once, before the workers start
    os.environ[DB_ENV] = db_url
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    refresher = context.Process(target=run_refresher_process, args=(db_url, RANKING_REPS, REFRESH_SECONDS, stop),
                                name="gymarena-ranking-refresher", daemon=True)
    refresher.start()
    try:
        uvicorn.run("gymarena.leaderboard.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="info")
    finally:
        stop.set()
        refresher.join(timeout=30)
        if refresher.is_alive():
            refresher.terminate()
