"""NetHack through NLE 1.3 (the NetHack Learning Environment).

NLE's ``reset(seed=...)`` does not seed the game: NetHack's own core and display RNGs
keep running. Here each reset derives the core, display and level-generator seeds from
the episode seed (with NetHack's anti-automation reseeding off), so an episode is
reproducible from its seed alone. ``NetHackChallenge`` refuses seeding to stop
competitors from choosing games; gymarena evaluates offline and seeds it too, through
the seeding method of NLE's game object itself, leaving the challenge's character,
action set and rules unchanged.

NetHack also reads the wall clock: the moon phase, Friday the 13th, night and midnight
change the game, and the game's "birthday" (the second it began) picks shopkeeper names,
shop surcharges and anthole species. Tasks with ``kwargs.clock = "seeded"`` (the -v1
tasks) pin all of it: NLE's ``fix_moon_phase`` derives each game's date and hour from its
core seed, and the birthday, which NLE 1.3 still takes from ``time()`` (NLE#129), is set
from the episode seed right after reset. Nothing on dungeon level 1, which reset builds,
reads the birthday (shops and antholes only appear deeper), so every use of it in play
sees the pinned value. The -v0 tasks keep the wall clock: the same seeds give other games
on other days.

Per-episode metrics (on every record): whether NLE's task was accomplished, in-game
score, deepest level reached, game turns, how the game ended (NetHack's ``how_done``:
died, quit, escaped, ascended, ...) and whether it ascended. The final observation of a finished game is blank, so score,
depth and turns are read from the last live observation.
"""

from __future__ import annotations

import ctypes
import dataclasses
from typing import Any

import gymnasium
import numpy as np

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.gymnasium_ids import make_registered
from gymarena.wrappers.reset_only import ResetOnlyWrapper

CLOCKS = ("wall", "seeded")


def reads_wall_clock(task: TaskSpec) -> bool:
    """Whether the task's games follow the day they are played on (the -v0 tasks)."""
    return task.kwargs.get("clock", "wall") == "wall"


def _nle(env: gymnasium.Env) -> Any:
    """The NLE env under the wrappers (its ``nethack`` is the game object)."""
    return env.unwrapped
# Pinned birthdays fall in [2000-01-01, 2050-01-01) UTC, the range of NLE's seeded dates.
_BIRTHDAY_START, _BIRTHDAY_SPAN = 946_684_800, 1_577_836_800


class SeededGame(ResetOnlyWrapper):
    """Seeds NetHack's RNGs from the reset seed: (core, display, level generator), and
    with ``pin_clock`` its birthday too (the date comes from the core seed, in NLE)."""

    def __init__(self, env: gymnasium.Env, pin_clock: bool = False):
        super().__init__(env, pin_clock=pin_clock)
        self.pin_clock = pin_clock

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        game = _nle(self.env).nethack
        if seed is not None:
            core, display, levels, birthday = (int(s) for s in np.random.SeedSequence(seed).generate_state(4, np.uint32))
            type(game).set_initial_seeds(game, core, display, False, levels)
        # NLE reads options as its own dict (``wizkit_items``); Gymnasium's empty {} means none.
        result = self.env.reset(seed=seed, options=options or None)
        if seed is not None and self.pin_clock:
            set_birthday(game.dlpath, _BIRTHDAY_START + birthday % _BIRTHDAY_SPAN)
        return result


def set_birthday(library_path: str, seconds: int) -> None:
    """Overwrite ``ubirthday`` in the game's own copy of libnethack (NLE loads one per env).

    Opening the same path again yields the loaded copy, not a new one; the handle is closed
    at once so the copy is still unloaded when NLE closes the env.
    """
    library = ctypes.CDLL(library_path)
    try:
        ctypes.c_long.in_dll(library, "ubirthday").value = seconds
    finally:
        import _ctypes

        _ctypes.dlclose(library._handle)


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
        how = _nle(self.env).nethack.how_done() if terminated else None
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

    overrides = {**task.kwargs, **overrides}
    clock = overrides.pop("clock", "wall")
    if clock not in CLOCKS:
        raise ValueError(f"{task.id}: kwargs.clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    if clock == "seeded":
        overrides["fix_moon_phase"] = True
    env = make_registered(dataclasses.replace(task, kwargs={}), **overrides)
    return NetHackMetrics(SeededGame(env, pin_clock=clock == "seeded"))
