"""The results database: SQLAlchemy models, Alembic migrations and the store API."""

from gymarena.results.location import default_sqlite_path, resolve_db_url
from gymarena.results.store import AgentIdentity, ResultsStore, RunInfo, SeedMean, TaskProtocol


def open_store(db: str | None = None) -> ResultsStore:
    """Open (creating or migrating as needed) the database named by ``db``, $GYMARENA_DB or the default."""
    return ResultsStore(resolve_db_url(db))


__all__ = ["AgentIdentity", "ResultsStore", "RunInfo", "SeedMean", "TaskProtocol", "default_sqlite_path", "open_store", "resolve_db_url"]
