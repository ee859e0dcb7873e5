"""Where the StarCraft II game is, without importing pysc2: the main environment asks this
to list SC2 tasks as available or not, the runtime to name the game build in the protocol.

pysc2 finds the game through ``SC2PATH`` (default ``~/StarCraftII`` on Linux), runs the
newest ``Versions/BaseNNNNN`` build in it, and reads mini-game maps from
``Maps/mini_games``.
"""

from __future__ import annotations

import os
from pathlib import Path

HOW_TO_INSTALL = (
    "Get the game (Linux: the headless build from https://github.com/Blizzard/s2client-proto#downloads, "
    "unzipped to ~/StarCraftII or wherever SC2PATH points) and the mini-game maps (mini_games.zip from "
    "https://github.com/deepmind/pysc2/releases, unzipped into its Maps directory)."
)


def game_directory() -> Path:
    return Path(os.environ.get("SC2PATH") or Path.home() / "StarCraftII").expanduser()


def game_build() -> str | None:
    """The build pysc2 will run (``Base75689``), or None without a game."""
    versions = game_directory() / "Versions"
    builds = [p.name for p in versions.glob("Base*") if p.name[4:].isdigit()] if versions.is_dir() else []
    return max(builds, key=lambda name: int(name[4:])) if builds else None


def missing() -> str:
    """Why SC2 tasks cannot run here ('' when the game and its mini-game maps are there)."""
    if game_build() is None:
        return f"needs the StarCraft II game: none in {game_directory()} (set SC2PATH)"
    if not (game_directory() / "Maps" / "mini_games").is_dir():
        return f"needs the SC2LE mini-game maps in {game_directory() / 'Maps' / 'mini_games'}"
    return ""
