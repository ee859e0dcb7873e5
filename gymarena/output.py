"""Printing rows as a Rich table, JSON or CSV: the same options on every query command."""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
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


def print_table(console: Console, rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    table = Table(title=Text(title) if title else None, show_lines=False)
    for index, column in enumerate(columns):
        table.add_column(column.replace("_", " "), overflow="fold", no_wrap=index == 0)
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))  # Text: no markup in data
    console.print(table)


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
