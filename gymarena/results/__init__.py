"""The results database: SQLAlchemy models, Alembic migrations and the store API."""

from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import AgentIdentity, SeedMean
from gymarena.results.location import default_sqlite_path, resolve_db_url
from gymarena.results.recorder import RunRecorder, RunStart
from gymarena.results.store import ResultsStore, RunInfo


def open_store(db: str | None = None) -> ResultsStore:
    """Open (creating or migrating as needed) the database named by ``db``, $GYMARENA_DB or the default."""
    return ResultsStore(resolve_db_url(db))


__all__ = ["AgentIdentity", "ResultsStore", "RunInfo", "RunProtocol", "RunRecorder", "RunStart", "SeedMean", "TaskProtocol",
           "default_sqlite_path", "open_store", "resolve_db_url"]
