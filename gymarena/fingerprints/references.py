"""The reference fingerprints that ship in the package: one gzipped JSON file per family,
``{task id: {player: {"versions": ..., "steps": [...]}}}``."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from gymarena.fingerprints.rollout import Fingerprint

DATA = Path(__file__).resolve().parent / "data"


def _path(family: str) -> Path:
    return DATA / f"{family}.json.gz"


@cache
def _family(family: str) -> dict[str, dict[str, Any]]:
    path = _path(family)
    return json.loads(gzip.decompress(path.read_bytes())) if path.is_file() else {}


def reference(family: str, task_id: str, player: str) -> dict[str, Any] | None:
    """The stored fingerprint of the task by the player ({"versions", "steps"}), if any."""
    return _family(family).get(task_id, {}).get(player)


def pin(family: str, fingerprints: list[Fingerprint]) -> Path:
    """Store these fingerprints as the family's references (others of the family are kept)."""
    entries = {task: dict(players) for task, players in _family(family).items()}
    for found in fingerprints:
        entries.setdefault(found.task_id, {})[found.player] = found.to_json()
    DATA.mkdir(parents=True, exist_ok=True)
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    _path(family).write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    _family.cache_clear()
    return _path(family)
