"""NetHack through NLE 1.3 (the NetHack Learning Environment).

NLE's ``reset(seed=...)`` does not seed the game: NetHack's own core and display RNGs
keep running. Here each reset derives the core, display and level-generator seeds from
the episode seed (with NetHack's anti-automation reseeding off), so an episode is
reproducible from its seed alone. ``NetHackChallenge`` refuses seeding to stop
competitors from choosing games; gymarena evaluates offline and seeds it too, through
the seeding method of NLE's game object itself, leaving the challenge's character,
action set and rules unchanged.

Per-episode metrics (on every record): whether NLE's task was accomplished, in-game
score, deepest level reached, game turns, how the game ended (NetHack's ``how_done``:
died, quit, escaped, ascended, ...) and whether it ascended. The final observation of a finished game is blank, so score,
depth and turns are read from the last live observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.reset_only import ResetOnlyWrapper
from gymarena.wrappers.gymnasium_ids import make_registered


class SeededGame(ResetOnlyWrapper):
    """Seeds NetHack's RNGs from the reset seed: (core, display, level generator)."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            core, display, levels = (int(s) for s in np.random.SeedSequence(seed).generate_state(3, np.uint32))
            game = self.env.unwrapped.nethack
            type(game).set_initial_seeds(game, core, display, False, levels)
        # NLE reads options as its own dict (``wizkit_items``); Gymnasium's empty {} means none.
        return self.env.reset(seed=seed, options=options or None)


class NetHackMetrics(EpisodeMetrics):
    """Score, depth and turns from ``blstats``, the end of the game from NLE."""

    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        from nle import nethack

        self.score, self.depth, self.time = nethack.NLE_BL_SCORE, nethack.NLE_BL_DEPTH, nethack.NLE_BL_TIME
        self.last = observation["blstats"].copy()  # NLE reuses its arrays: keep a copy
        self.max_depth = int(self.last[self.depth])

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        stats = observation["blstats"]
        if stats[self.time]:  # a live frame (the one after the game ends is all zeros)
            self.last[:] = stats
            if stats[self.depth] > self.max_depth:
                self.max_depth = int(stats[self.depth])

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        how = self.env.unwrapped.nethack.how_done() if terminated else None
        status = info.get("end_status")
        return {
            "task_successful": getattr(status, "name", "") == "TASK_SUCCESSFUL",
            "score": int(self.last[self.score]),
            "max_depth": self.max_depth,
            "turns": int(self.last[self.time]),
            "end": "step budget" if how is None else how.name.lower(),
            "ascended": bool(info.get("is_ascended", False)),
        }


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    import nle  # noqa: F401  registers the NetHack*-v0 ids

    env = make_registered(task, **overrides)
    return NetHackMetrics(SeededGame(env))
