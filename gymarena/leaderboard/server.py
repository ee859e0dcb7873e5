"""Running the leaderboard app under uvicorn (``gymarena serve``)."""

from __future__ import annotations

import os

from gymarena.errors import MissingExtraError

DB_ENV = "GYMARENA_SERVER_DB"


def app_from_environment():
    """The app factory uvicorn calls in each worker process: the database URL comes from
    the environment, as a factory takes no arguments."""
    from gymarena.leaderboard.app import create_app

    return create_app(os.environ[DB_ENV])


def serve(db_url: str, host: str, port: int, workers: int = 1) -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise MissingExtraError("FastAPI/uvicorn", "server", exc, what="web framework") from None
    from gymarena.results import ResultsStore

    ResultsStore(db_url).close()  # create or migrate once, before the workers start
    os.environ[DB_ENV] = db_url
    uvicorn.run("gymarena.leaderboard.server:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info")
