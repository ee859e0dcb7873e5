"""Running the leaderboard app under uvicorn (``gymarena serve``).

``serve`` starts one ranking refresher process (leaderboard/refresher.py, started again if
it dies) and the uvicorn worker processes, which only read the pages it stores: rankings
are computed once, not once per worker, and never in a process that answers page views.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from gymarena.errors import MissingExtraError

DB_ENV = "GYMARENA_SERVER_DB"

log = logging.getLogger(__name__)


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
    from gymarena.results import ResultsStore

    ResultsStore(db_url).close()  # create or migrate once, before the workers start
    os.environ[DB_ENV] = db_url
    stop = threading.Event()
    # SIGTERM ends serve as Ctrl-C does, through the `finally` below, whenever it comes:
    # before uvicorn installs its handlers, or when uvicorn raises it again on its way out.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    refresher = threading.Thread(target=_keep_refreshing, args=(db_url, stop), name="refresher-watch", daemon=True)
    try:
        refresher.start()
        uvicorn.run("gymarena.leaderboard.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="info")
    finally:
        stop.set()
        refresher.join(timeout=60)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _keep_refreshing(db_url: str, stop: threading.Event) -> None:
    """Run the ranking refresher process until ``stop``; one that dies is started again, so
    the stored rankings never silently stop following new results.

    The refresher runs in a session of its own: Ctrl-C, which a terminal sends its whole
    process group, reaches serve alone (whatever the refresher is doing, starting up
    included), and serve stops it by closing its standard input."""
    command = [sys.executable, "-m", "gymarena.leaderboard.refresher"]
    while not stop.is_set():
        process = subprocess.Popen(command, stdin=subprocess.PIPE, env={**os.environ, DB_ENV: db_url},
                                   start_new_session=True)
        while process.poll() is None and not stop.wait(1):
            pass
        if stop.is_set():
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.terminate()
            return
        log.warning("the ranking refresher exited with code %s; starting it again", process.returncode)
        stop.wait(1)
