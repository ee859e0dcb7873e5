"""What commands print: a :class:`Shown` (JSON payload, CSV table, tables and lines for
people) printed one way whatever the command, as ``--json``, ``--csv`` or for a terminal."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text


def short_number(value: float) -> str:
    """Four significant digits, without exponents for the returns RL tasks produce."""
    if math.isnan(value):
        return "nan"
    if abs(value) >= 1e4:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return short_number(value)
    return str(value)


def make_console(stderr: bool = False) -> Console:
    """A console as wide as the terminal, or 160 columns when output is piped."""
    return Console(stderr=stderr, width=shutil.get_terminal_size((160, 24)).columns)


_WORDS = re.compile(r"[A-Za-z]{3,}")


def print_table(console: Console, rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    """A table for people. No number is ever split across lines: a column of numbers is as
    wide as its widest cell, a column of words may wrap at its spaces (headers too); a table
    that is wider than the terminal even so is printed as one block per row instead, its
    first column as the block's heading."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    headers = [c.replace("_", " ") for c in columns]
    table = RichTable(title=Text(title) if title else None, box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                      pad_edge=False, show_edge=False)
    for index, header in enumerate(headers):
        column = [row[index] for row in cells]
        words = any(_WORDS.search(cell) for cell in column)
        longest = max([len(w) for w in header.split()] + [len(w) for cell in column for w in (cell.split() if words else [cell])])
        widest = max([len(header)] + [len(cell) for cell in column])
        table.add_column(_wrapped(header, longest), no_wrap=not words, min_width=longest, max_width=widest,
                         overflow="fold")
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))  # Text: no markup in data
    narrowest = sum(column.min_width or 0 for column in table.columns) + 3 * len(columns)  # with the gaps between
    if narrowest <= console.width:
        console.print(table)
    else:
        _print_blocks(console, cells, headers, title)


def _wrapped(header: str, width: int) -> str:
    """A header broken at its spaces into lines of at most ``width`` characters."""
    lines: list[str] = []
    for word in header.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _print_blocks(console: Console, cells: list[list[str]], names: list[str], title: str | None) -> None:
    """Rows too wide for the terminal: a heading per row (its first cell), then one line per
    other column, name and value."""
    indent = max(len(n) for n in names[1:]) if len(names) > 1 else 0
    if title:
        console.print(Text(title, style="bold"))
    for row in cells:
        console.print(Text(f"{names[0]}: {row[0]}", style="bold"))
        for name, value in zip(names[1:], row[1:]):
            console.print(Text(f"  {name:<{indent}}  {value}"))


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, Any]]
    columns: list[str]
    title: str | None = None


@dataclass(frozen=True)
class Shown:
    """What a command shows, in every form: ``payload`` for ``--json``; ``csv`` for
    ``--csv`` (tabular commands only); ``tables`` then ``lines`` on stdout for people;
    ``notes`` on stderr in every form (they never mix into JSON or CSV). A payload or CSV
    table that is costly to build (every episode of a run) is given as a function, called
    only for the form asked for."""

    payload: Any | Callable[[], Any]
    tables: tuple[Table, ...] = ()
    lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    csv: Table | Callable[[], Table] | None = None


def emit(shown: Shown, as_json: bool, as_csv: bool, out: Console, err: Console) -> None:
    if as_json:
        print_json(shown.payload() if callable(shown.payload) else shown.payload)
    elif as_csv:
        table = shown.csv() if callable(shown.csv) else shown.csv or (shown.tables[0] if shown.tables else None)
        if table is None:
            raise ValueError("this command has no table to print as CSV")
        print_csv(table.rows, table.columns)
    else:
        for table in shown.tables:
            print_table(out, table.rows, table.columns, title=table.title)
        for line in shown.lines:
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    for note in shown.notes:
        err.print(note, highlight=False, soft_wrap=True, markup=False)


class EpisodeProgress:
    """A progress bar on stderr that appears once the run knows its episode count (or the
    count of what else it counts: ``label``)."""

    def __init__(self, console: Console, label: str = "episodes") -> None:
        self.console = console
        self.label = label
        self.bar: Any = None
        self.task_id: Any = None
        self.last_update = 0.0

    def update(self, done: int, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        now = time.monotonic()
        if self.bar is not None and done < total and now - self.last_update < 0.1:
            return  # redrawing per episode would cost more than a CartPole episode
        self.last_update = now
        if self.bar is None:
            if done:
                self.console.print(f"resuming: {done} of {total} {self.label} are already stored", highlight=False)
            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TimeRemainingColumn(), console=self.console)
            self.bar.start()
            self.task_id = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task_id, completed=done, total=total)

    def __enter__(self) -> EpisodeProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

