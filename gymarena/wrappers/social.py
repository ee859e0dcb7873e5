"""The social deduction game gymarena ships (gymarena/envs/social_deduction): a PettingZoo
parallel env built from the task's kwargs (the rules). Its metrics come from the env itself.

The game's own code enters the protocol (``protocol_facts``): it is versioned with
gymarena rather than with a package, and a rule change must not pass for the same task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gymarena.provenance import source_digest
from gymarena.tasks import TaskSpec

GAME_SOURCES = ("rules.py", "game.py", "text.py", "env.py", "metrics.py")


def protocol_facts() -> dict[str, str]:
    directory = Path(__file__).resolve().parents[1] / "envs" / "social_deduction"
    return {"social deduction game sha256": source_digest(directory, GAME_SOURCES)}


def make(task: TaskSpec, **overrides: Any):
    from gymarena.envs.social_deduction import SocialDeductionEnv

    return SocialDeductionEnv(**{**task.kwargs, **overrides})
