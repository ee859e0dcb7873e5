"""Crew policies that ship with gymarena, as players of the social board's pool
(``social-core@2``): seed 0 of the ``social-win`` and ``social-speaking`` crew recipes,
trained by ``bench/social.py``'s ablation (``--save``). A pool's player must be the same on
every machine that plays the board, so its weights ship (about 170 kB each) instead of
being trained where the board runs.

``gymarena.baselines.social_rl.shipped:crew_speaking`` (``crew_win``) plays every seat: crew
seats with the policy, the impostor seat with the hunting impostor. Its identity is the
declared version, with its weights pinned by content (gymarena/versions.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gymarena.tasks import TaskSpec

SHIPPED_DIR = Path(__file__).parent / "shipped"


class ShippedCrew:
    """The factory of one shipped crew policy."""

    def __init__(self, recipe_name: str):
        self.path = SHIPPED_DIR / f"{recipe_name}-seed0.pt"
        self.version = f"{recipe_name}-seed0"

    def __call__(self, task: TaskSpec, observation_space: Any, action_space: Any) -> Any:
        from gymarena.baselines.social_rl.player import crew_agent

        return crew_agent(self.path, action_space, task.kwargs)


crew_win = ShippedCrew("social-win")
crew_speaking = ShippedCrew("social-speaking")
