"""Reading TOML spec files (task catalogs and suites) with errors that point at the key.

A malformed file must fail with a message naming the file, the key and what was
expected, so every accessor here takes a ``where`` label such as ``tasks[2].episodes``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from gymarena.errors import SuiteFormatError
from gymarena.parsed_files import InvalidToml, parse_toml


class SpecTable:
    """One TOML table of a spec file, with typed accessors that report bad keys."""

    def __init__(self, path: Path, where: str, data: dict[str, Any]):
        self.path = path
        self.where = where
        self.data = data

    def fail(self, key: str, expected: str) -> SuiteFormatError:
        got = self.data.get(key, "<missing>")
        label = f"{self.where}.{key}" if self.where else key
        return SuiteFormatError(f"{self.path}: key '{label}': expected {expected}, got {got!r}")

    def has(self, key: str) -> bool:
        return key in self.data

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string")
        return value

    def integer(self, key: str, default: int | None = None, minimum: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "an integer")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"an integer >= {minimum}")
        return value

    def optional_int(self, key: str, minimum: int | None = None) -> int | None:
        return self.integer(key, minimum=minimum) if key in self.data else None

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number")
        return float(value)

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self.data.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        ):
            raise self.fail(key, "a non-empty list of non-negative integers")
        if len(set(value)) != len(value):
            raise self.fail(key, "a list of distinct seeds")
        return tuple(value)

    def increasing_int_list(self, key: str, minimum: int = 1) -> tuple[int, ...]:
        value = self.data.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in value)
            or any(b <= a for a, b in itertools.pairwise(value))
        ):
            raise self.fail(key, f"a non-empty increasing list of integers >= {minimum}")
        return tuple(value)

    def table(self, key: str) -> SpecTable:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "a table")
        return SpecTable(self.path, f"{self.where}.{key}" if self.where else key, value)

    def tables(self, key: str) -> list[SpecTable]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"one or more [[{key}]] tables")
        prefix = f"{self.where}.{key}" if self.where else key
        return [SpecTable(self.path, f"{prefix}[{i}]", v) for i, v in enumerate(value)]

    def reject_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"one of the known keys {sorted(allowed)}")


def read_spec_file(path: Path) -> SpecTable:
    """Parse a TOML file into its top-level table, naming the file on a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteFormatError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SuiteFormatError(f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded); "
                               "TOML files are UTF-8: save it as UTF-8") from None
    try:
        data = parse_toml(text)
    except InvalidToml as exc:
        raise SuiteFormatError(f"{path}: not valid TOML: {exc}") from None
    return SpecTable(path, "", data)
