"""The results database: SQLAlchemy models, Alembic migrations and the store API."""

from gymarena.errors import param
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import AgentIdentity, SeedMean
from gymarena.results.location import default_sqlite_path, resolve_db_url
from gymarena.results.recorder import RunRecorder, RunStart
from gymarena.results.store import ResultsStore, RunInfo


def open_store(db: str | None = None, create: bool = True) -> ResultsStore:
    """Open (migrating as needed) the database named by ``db``, $GYMARENA_DB or the default;
    a SQLite file that does not exist is created only if ``create`` (commands that only
    read say so instead: a mistyped --db never leaves a new empty database behind)."""
    from gymarena.errors import ResultsStoreError
    from gymarena.results.location import ENV_VAR, missing_sqlite_file

    url = resolve_db_url(db)
    missing = missing_sqlite_file(url) if not create else None
    if missing is not None:
        raise ResultsStoreError(f"there is no results database at {missing}: check {param('db')} (or ${ENV_VAR}); "
                                "`gymarena eval` creates one")
    return ResultsStore(url)


__all__ = ["AgentIdentity", "ResultsStore", "RunInfo", "RunProtocol", "RunRecorder", "RunStart", "SeedMean", "TaskProtocol",
           "default_sqlite_path", "open_store", "resolve_db_url"]
