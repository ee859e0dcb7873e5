"""Bring a database to the current schema with Alembic, cheaply when it already is."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from gymarena.results.sqlite import WRITE_LOCK

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a test keeps the two equal.
SCHEMA_REVISION = "0012_submission_lease"


MIGRATION_LOCK_KEY = 0x67796D61  # PostgreSQL advisory lock id ("gyma"), held while migrating


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


class SchemaTooNewError(Exception):
    """The database was migrated by a newer gymarena than this one."""


def _known_revisions(config) -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Run pending migrations in one transaction; skip Alembic when the schema is current.

    Two processes opening a new database at once take turns: the second waits for the
    first's lock, then finds the schema current.
    """
    if current_revision(engine) == SCHEMA_REVISION:
        return
    config = alembic_config(engine)
    with engine.connect().execution_options(**{WRITE_LOCK: True}) as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (copy, drop, rename): with foreign keys
            # on, dropping ``runs`` would cascade-delete every episode. SQLite's documented
            # procedure: keys off outside the transaction, checked before commit, back on.
            _pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                _upgrade(connection, config, engine)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows whose foreign keys point nowhere; nothing was changed")
        finally:
            if sqlite:
                _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, setting: str) -> None:
    """Run a PRAGMA on the driver connection, outside any transaction (SQLAlchemy would
    begin one, inside which SQLite ignores foreign-key settings)."""
    driver = connection.connection.driver_connection
    assert driver is not None  # an open connection has one
    driver.execute(f"PRAGMA {setting}")


def _upgrade(connection: Connection, config, engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    revision = _revision(connection)
    if revision == SCHEMA_REVISION:
        return
    if revision is not None and revision not in _known_revisions(config):
        raise SchemaTooNewError(
            f"the database has schema revision {revision!r}, which this gymarena does not know: "
            "it was written by a newer gymarena; upgrade gymarena to use it"
        )
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
