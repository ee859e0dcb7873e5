"""SQLite engine settings: WAL, real transactions (DDL included), and a write lock on demand.

Python's sqlite3 driver opens transactions only before INSERT/UPDATE/DELETE and runs DDL
in autocommit, so a migration killed midway would leave half a schema behind. The
driver's own transaction handling is turned off and every SQLAlchemy transaction emits
BEGIN itself (the SQLAlchemy documentation's recipe for pysqlite). A connection with
the execution option ``WRITE_LOCK`` begins with BEGIN IMMEDIATE, taking the write lock
before it reads, which is what serialises two processes migrating a new database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

WRITE_LOCK = "gymarena_write_lock"


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's
    cursor = dbapi_connection.cursor()
    # WAL lets readers (`gymarena results`) run beside a writing eval; NORMAL keeps every
    # commit atomic and durable against a killed process (not against a power cut).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def configure_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
