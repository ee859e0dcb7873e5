"""Replaying reference fingerprints on what is installed here: does each task's simulator
(and each built-in player) behave as it did when its reference was recorded?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymarena.fingerprints.references import reference
from gymarena.fingerprints.rollout import Fingerprint, record
from gymarena.fingerprints.summary import leaf_difference
from gymarena.tasks import TaskSpec, all_tasks, get_task

MATCHES, DIVERGED, NO_REFERENCE = "matches", "diverged", "no reference"
FIELDS = ("seed", "obs", "reward", "terminated", "truncated", "info")


@dataclass(frozen=True)
class Divergence:
    """Where a rollout first left its reference."""

    step: int
    field: str
    detail: str

    def __str__(self) -> str:
        return f"step {self.step}, {self.field}: {self.detail}"


@dataclass(frozen=True)
class CheckResult:
    """One task's (and player's) check: its status, the divergence if any, and the versions
    that differ from the reference's (a new release may behave the same, or not)."""

    task_id: str
    player: str
    status: str
    divergence: Divergence | None = None
    versions: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        """The result in one line, as runs record it and pages show it."""
        if self.status == DIVERGED:
            return f"diverged at {self.divergence}"
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "detail": str(self.divergence or ""), "versions": list(self.versions)}


def first_divergence(expected: list[dict[str, Any]], found: list[dict[str, Any]]) -> Divergence | None:
    """The first step and field (and leaf) where ``found`` leaves ``expected``."""
    for index, (want, got) in enumerate(zip(expected, found)):
        for field in FIELDS:
            if field not in want and field not in got:
                continue
            if field == "seed":
                if want.get(field) != got.get(field):
                    return Divergence(index, "reset", f"an episode ended at another step (reset {got.get(field)} "
                                                      f"instead of {want.get(field)})")
                continue
            mine, theirs = want.get(field, {}), got.get(field, {})
            for path in sorted(set(mine) | set(theirs)):
                if path not in mine or path not in theirs:
                    return Divergence(index, field + path, "present" if path in theirs else "missing")
                difference = leaf_difference(mine[path], theirs[path])
                if difference is not None:
                    return Divergence(index, f"{field}{path if path != '/' else ''}", difference)
    if len(expected) != len(found):
        return Divergence(min(len(expected), len(found)), "steps", f"{len(found)} steps instead of {len(expected)}")
    return None


def compare(found: Fingerprint, family: str) -> CheckResult:
    """A recorded fingerprint against the task's reference."""
    stored = reference(family, found.task_id, found.player)
    if stored is None:
        return CheckResult(found.task_id, found.player, NO_REFERENCE)
    versions = tuple(sorted(name for name in set(stored["versions"]) | set(found.versions)
                            if stored["versions"].get(name) != found.versions.get(name)))
    divergence = first_divergence(stored["steps"], found.steps)
    return CheckResult(found.task_id, found.player, MATCHES if divergence is None else DIVERGED, divergence, versions)


def check_task(task: TaskSpec, player: str = "random") -> CheckResult:
    """Record the task's fingerprint here and compare it with its reference."""
    from gymarena.fingerprints.players import unpinnable

    why = unpinnable(task)
    if why is not None:
        return CheckResult(task.id, player, f"{NO_REFERENCE}: {why}")
    if reference(task.family, task.id, player) is None:
        return CheckResult(task.id, player, NO_REFERENCE)
    return compare(record(task, player), task.family)


def selected(suite: str | None = None, task_id: str | None = None) -> list[tuple[TaskSpec, str]]:
    """The (task, player) fingerprints to check: a suite's tasks or one task (with the
    built-in players fingerprinted on them), else every one."""
    from gymarena.fingerprints.players import RANDOM, fingerprinted, unpinnable

    pairs = fingerprinted() + [(task, RANDOM) for task in all_tasks() if unpinnable(task) is not None]
    if suite is not None:
        from gymarena.suites import load_suite

        ids = {task.id for task in load_suite(suite).tasks}
        return [(task, player) for task, player in pairs if task.id in ids]
    if task_id is not None:
        wanted = get_task(task_id).id  # an unknown id: one line with "did you mean"
        return [(task, player) for task, player in pairs if task.id == wanted]
    return pairs


def run_checks(pairs: list[tuple[TaskSpec, str]], progress: Any = None) -> list[CheckResult]:
    """Check each (task, player) that can run here; the others say why they cannot."""
    from gymarena.wrappers import task_availability

    results = []
    if progress is not None:
        progress(0, len(pairs))
    for index, (task, player) in enumerate(pairs):
        available, reason = task_availability(task)
        results.append(check_task(task, player) if available else CheckResult(task.id, player, f"not run: {reason}"))
        if progress is not None:
            progress(index + 1, len(pairs))
    return results


def pin_references(pairs: list[tuple[TaskSpec, str]], progress: Any = None) -> list[str]:
    """Record each runnable (task, player) here and store it as the reference (for the
    maintainers, after a version bump or a pinned package upgrade); the files written."""
    from gymarena.fingerprints.players import unpinnable
    from gymarena.fingerprints.references import pin
    from gymarena.wrappers import task_availability

    by_family: dict[str, list[Fingerprint]] = {}
    if progress is not None:
        progress(0, len(pairs))
    for index, (task, player) in enumerate(pairs):
        if task_availability(task)[0] and unpinnable(task) is None:
            by_family.setdefault(task.family, []).append(record(task, player))
        if progress is not None:
            progress(index + 1, len(pairs))
    return [str(pin(family, found)) for family, found in sorted(by_family.items())]
