"""TOML files parsed once per content: a cache of parsed spec files in the user's cache dir.

``import gymarena`` reads the task catalog (~130 KB of TOML, ~13 ms to parse with the
standard library's pure-Python parser). The parsed tables are kept as JSON (decoded in
~0.3 ms) under the sha256 of the file's text, so an edited file is parsed again and an
unchanged one never is. Where the cache cannot be written (a read-only home, no home) the
files are simply parsed every time. ``$GYMARENA_CACHE`` moves the cache; an empty value
turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


class InvalidToml(ValueError):
    """The text is not valid TOML (the parser's message says where)."""

FORMAT = 1  # of the cached JSON; a change invalidates every entry


def cache_dir(name: str = "parsed") -> Path | None:
    """Where gymarena keeps the cache called ``name``: under ``$GYMARENA_CACHE`` (empty: no
    cache), else the user's cache directory; None when there is none."""
    configured = os.environ.get("GYMARENA_CACHE")
    if configured is not None:
        return Path(configured).expanduser() / name if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache" if Path.home() != Path("/") else None)
    return Path(base) / "gymarena" / name if base else None


def _parse(text: str) -> dict[str, Any]:
    """tomllib's parse (imported only when a text is not in the cache)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidToml(str(exc)) from None


def parse_toml(text: str) -> dict[str, Any]:
    """The TOML ``text`` as tables, from the cache when this exact text was parsed before.
    Raises :class:`InvalidToml` on invalid TOML (never cached)."""
    directory = cache_dir()
    if directory is None:
        return _parse(text)
    key = hashlib.sha256(f"{FORMAT}\0{text}".encode()).hexdigest()
    entry = directory / f"{key}.json"
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = _parse(text)
    _store(entry, data)
    return data


def _store(entry: Path, data: dict[str, Any]) -> None:
    """Write one entry atomically (readers never see half a file); failures are ignored."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # a value JSON cannot hold (a TOML date): not cached
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=entry.parent, delete=False, suffix=".tmp") as out:
            out.write(text)
        os.replace(out.name, entry)
    except OSError:
        pass
