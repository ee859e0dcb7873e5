"""The social deduction game gymarena ships (gymarena/envs/social_deduction): a PettingZoo
parallel env built from the task's kwargs (the rules). Its metrics come from the env itself.

The game's declared version enters the protocol (``protocol_facts``): it is versioned with
gymarena rather than with a package, and a rule change bumps it (gymarena/versions.py).
"""

from __future__ import annotations

from typing import Any

from gymarena.tasks import TaskSpec
from gymarena.versions import SOCIAL_GAME


def protocol_facts() -> dict[str, str]:
    return {"social deduction game sha256": SOCIAL_GAME.current}


def make(task: TaskSpec, **overrides: Any):
    from gymarena.envs.social_deduction import SocialDeductionEnv

    return SocialDeductionEnv(**{**task.kwargs, **overrides})
