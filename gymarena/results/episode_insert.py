"""The episode INSERT, prepared once and run through the driver's executemany.

Episodes are the one high-volume write: a CartPole run stores thousands per second.
``Connection.execute`` re-derives parameters per row (~15 us/row on SQLite); this
compiles the statement once, applies SQLAlchemy's own per-type bind processors, and
hands plain parameter rows to the driver (~half the cost). Duplicates (an episode a
resumed run re-sends) are skipped by ON CONFLICT DO NOTHING on both SQLite and
PostgreSQL; other databases rely on the unique constraint.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Connection, Dialect

from gymarena.results.models import EpisodeRow

EPISODE_KEY = ["run_id", "task_id", "seed", "decision_interval", "episode"]


def _insert_ignoring_duplicates(dialect: Dialect) -> Any:
    table = cast(Table, EpisodeRow.__table__)
    if dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing(index_elements=EPISODE_KEY)
    if dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=EPISODE_KEY)
    return insert(table)


def _empty_once(encode: Any) -> Any:
    """A JSON column's encoder that serialises the empty dict (most episodes' ``extra``) once."""
    empty = encode({})
    return lambda value: empty if value == {} else encode(value)


class EpisodeInsert:
    def __init__(self, dialect: Dialect):
        table = cast(Table, EpisodeRow.__table__)
        columns = [c.name for c in table.columns if c.name != "id"]
        compiled = _insert_ignoring_duplicates(dialect).compile(dialect=dialect, column_keys=columns)
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        # Parameter rows are built in the statement's order (positional drivers) or the
        # table's (named ones): the record's fields, with the run id and the batch's
        # timestamp put in at their places.
        self.names = list(compiled.positiontup) if self.positional else columns
        self.record_fields = [name for name in self.names if name not in ("run_id", "created_at")]
        self.read_record = attrgetter(*self.record_fields)
        self.constant_places = sorted((self.names.index(name), name) for name in ("run_id", "created_at"))
        self.processors = {}
        for name in columns:
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = _empty_once(processor) if isinstance(table.c[name].type, JSON) else processor
        self.record_processors = [(self.record_fields.index(name), processor)
                                  for name, processor in self.processors.items() if name in self.record_fields]

    def _process(self, name: str, value: Any) -> Any:
        processor = self.processors.get(name)
        return processor(value) if processor is not None and value is not None else value

    def parameters(self, run_id: int, created_at: datetime, records: Iterable[Any]) -> list[Any]:
        """Driver parameter rows: tuples for positional drivers, dicts for named ones."""
        constants = {"run_id": self._process("run_id", run_id), "created_at": self._process("created_at", created_at)}
        places = [(place, constants[name]) for place, name in self.constant_places]
        read, processors, names = self.read_record, self.record_processors, self.names
        rows: list[Any] = []
        for record in records:
            values = list(read(record))
            for index, processor in processors:
                value = values[index]
                if value is not None:
                    values[index] = processor(value)
            for place, constant in places:
                values.insert(place, constant)
            rows.append(tuple(values) if self.positional else dict(zip(names, values, strict=True)))
        return rows

    def execute(self, connection: Connection, run_id: int, created_at: datetime, records: Iterable[Any]) -> int:
        """Insert the records of one run; returns how many were inserted (duplicates skipped)."""
        rows = self.parameters(run_id, created_at, records)
        if not rows:
            return 0
        return connection.exec_driver_sql(self.sql, rows).rowcount
