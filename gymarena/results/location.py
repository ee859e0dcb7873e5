"""Where the results database lives: ``--db URL``, else ``GYMARENA_DB``, else a SQLite
file in the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path
from sqlalchemy.engine import URL

from gymarena.errors import ResultsStoreError, param

ENV_VAR = "GYMARENA_DB"


def default_sqlite_path() -> Path:
    """``~/.local/share/gymarena/results.sqlite`` on Linux (platformdirs' user data dir)."""
    return user_data_path("gymarena", appauthor=False) / "results.sqlite"


def resolve_db_url(db: str | None = None) -> str:
    """The URL to open: the explicit one, else $GYMARENA_DB, else the default file.

    A bare filesystem path is accepted and taken as a SQLite file; an empty one is refused
    (it would silently mean the default).
    """
    if db is not None and not db.strip():
        raise ResultsStoreError(f"{param('db')} is empty: give a database URL or a file path, or leave {param('db')} out "
                                f"for the default "
                                f"({default_sqlite_path()})")
    chosen = db or os.environ.get(ENV_VAR) or str(default_sqlite_path())
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().absolute()}"
    return chosen


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (None for other databases, memory,
    or an existing file): read-only commands refuse to create a database by mistake."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser().absolute()
    return None if path.exists() else path


def prepare_sqlite_path(url: URL, display: str) -> None:
    """Create the parent directory of a SQLite file, failing with a clear message."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    parent = Path(database).expanduser().absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsStoreError(
            f"cannot create the directory {parent} for the results database {display}: "
            f"{exc.strerror or exc}; pass --db with a writable location (or set {ENV_VAR})"
        ) from None
    if not os.access(parent, os.W_OK):
        raise ResultsStoreError(
            f"the directory {parent} of the results database {display} is not writable; "
            f"pass --db with a writable location (or set {ENV_VAR})"
        )
