"""The simulator check every run records: per task, whether the simulator it was played on
here behaves like the task's reference fingerprint. Computed once per task and set of
versions (and reference) and cached, so only the first run on a new installation pays for it
(a second or two per task)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gymarena.fingerprints.check import NO_REFERENCE, CheckResult, check_task
from gymarena.fingerprints.players import RANDOM, unpinnable
from gymarena.fingerprints.references import reference
from gymarena.protocol import RunProtocol, TaskProtocol, canonical_json
from gymarena.versions import file_digest

FORMAT = 1  # of the cached results; a change invalidates every entry
KEY = "simulator_check"  # in a run's provenance: {task id: "matches" | "diverged at ..." | ...}


def run_provenance(protocol: RunProtocol) -> dict[str, Any]:
    """What a run records of where it came from: the machine and packages, and the simulator
    check of each of its tasks."""
    from gymarena import provenance

    return provenance.collect(protocol.simulator_packages()) | {KEY: simulator_checks(protocol)}


def recorded_checks(provenance: Any) -> dict[str, str]:
    """The simulator check a run's provenance records, per task (empty for runs from before
    checks, or whose provenance, an upload's, carries none or garbage)."""
    checked = provenance.get(KEY) if isinstance(provenance, dict) else None
    return {str(task): str(words)[:300] for task, words in checked.items()} if isinstance(checked, dict) else {}


def simulator_checks(protocol: RunProtocol) -> dict[str, str]:
    """Each task's check in words ("matches", "diverged at step 12, reward: ...", "no reference")."""
    return {task.task_id: _cached_check(task) for task in protocol}


def _cached_check(task: TaskProtocol) -> str:
    from gymarena.errors import GymarenaError
    from gymarena.parsed_files import cache_dir
    from gymarena.tasks import get_task

    try:
        spec = get_task(task.task_id)
    except GymarenaError:
        return NO_REFERENCE  # a task of the user's own: no reference ships for it
    if unpinnable(spec) is not None or reference(spec.family, spec.id, RANDOM) is None:
        return check_task(spec, RANDOM).words
    # the references by their file's digest (read once per process), not re-serialised per run
    references = file_digest(f"fingerprints/data/{spec.family}.json.gz")
    key = hashlib.sha256(canonical_json({"format": FORMAT, "task": spec.id, "versions": dict(task.simulator_versions),
                                         "references": references}).encode()).hexdigest()
    directory = cache_dir("checks")
    entry = directory / f"{key}.json" if directory is not None else None
    try:
        if entry is not None:
            return str(json.loads(entry.read_text())["words"])
    except (OSError, ValueError, KeyError):
        pass
    words = _check_words(spec)
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            entry.write_text(json.dumps({"words": words}))
        except OSError:
            pass  # a read-only cache: checked again next time
    return words


def _check_words(spec: Any) -> str:
    """The check of one task in words; a simulator that fails to play says so (the run goes on:
    it will meet the same simulator)."""
    try:
        result: CheckResult = check_task(spec, RANDOM)
    except Exception as exc:  # the check must never stop an evaluation
        return f"check failed: {type(exc).__name__}: {exc}"[:300]
    return result.words
