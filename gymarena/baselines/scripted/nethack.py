"""NetHack: explore, fight what stands in the way, and take every down staircase.

Each step, from NLE's ``chars`` map and ``blstats``: dismiss a ``--More--`` prompt; on a
down staircase go down; else walk (breadth-first over passable squares) to the nearest
visible ``>``, or to the nearest unexplored edge of the map; a monster on the way is
attacked by walking into it. With nowhere to go it searches for hidden passages.
Score comes from descending (50 points per new level) and from kills, so the heuristic
scores well above a random policy, which mostly stays on level 1.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from gymarena.tasks import TaskSpec

# Squares that can be walked on (floor, corridor, doorways, stairs, fountains, altars and
# the objects that lie on them).
PASSABLE = set(b".#<>_{}+$%)[]!?/=\"*(`0^")
MONSTERS = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&;:'")
STEPS = {(-1, 0): "N", (0, 1): "E", (1, 0): "S", (0, -1): "W", (-1, 1): "NE", (1, 1): "SE", (1, -1): "SW", (-1, -1): "NW"}


class ExploreAndDescend:
    def __init__(self, task: TaskSpec):
        from nle import nethack
        from nle.env import tasks

        actions = list(nethack.ACTIONS if "Challenge" in task.env_id else tasks.TASK_ACTIONS)
        directions = {d.name: d for d in nethack.actions.CompassDirection}
        self.move = {step: actions.index(directions[name]) for step, name in STEPS.items()}
        self.more = actions.index(nethack.actions.MiscAction.MORE)
        self.down = actions.index(nethack.actions.MiscDirection.DOWN)
        self.search = actions.index(nethack.actions.Command.SEARCH)
        self.x, self.y, self.depth = nethack.NLE_BL_X, nethack.NLE_BL_Y, nethack.NLE_BL_DEPTH

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.visits: dict[tuple[int, int, int], int] = {}
        self.stairs: set[tuple[int, int, int]] = set()  # (depth, row, column) of seen '>'
        self.last: tuple[int, int, int] | None = None
        self.stuck = 0

    def act(self, observation: Any) -> int:
        if b"--More--" in observation["tty_chars"].tobytes():
            return self.more
        chars = observation["chars"]
        stats = observation["blstats"]
        depth = int(stats[self.depth])
        here = (int(stats[self.y]), int(stats[self.x]))
        for row, column in np.argwhere(chars == ord(">")):
            self.stairs.add((depth, int(row), int(column)))
        position = (depth, *here)
        self.visits[position] = self.visits.get(position, 0) + 1
        self.stuck = self.stuck + 1 if position == self.last else 0
        self.last = position
        if position in self.stairs:
            return self.down
        step = None if self.stuck > 3 else self._first_step(chars, here, depth)
        if step is None:
            if self.stuck <= 3 and self.rng.random() < 0.5:
                return self.search
            return self.move[list(STEPS)[int(self.rng.integers(8))]]
        return self.move[step]

    def _first_step(self, chars: np.ndarray, start: tuple[int, int], depth: int) -> tuple[int, int] | None:
        """First move of a shortest path to stairs down, else to the nearest frontier."""
        rows, columns = chars.shape
        parent: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
        queue = deque([start])
        frontier = None
        while queue:
            cell = queue.popleft()
            char = chars[cell]
            if cell != start:
                if char == ord(">") or char in MONSTERS or (depth, *cell) in self.stairs:
                    return self._step_towards(parent, cell, start)
                if frontier is None and self._at_frontier(chars, cell) and self.visits.get((depth, *cell), 0) < 2:
                    frontier = cell
            if cell != start and char in MONSTERS:
                continue
            for (dr, dc) in STEPS:
                nxt = (cell[0] + dr, cell[1] + dc)
                if not (0 <= nxt[0] < rows and 0 <= nxt[1] < columns) or nxt in parent:
                    continue
                if chars[nxt] in PASSABLE or chars[nxt] in MONSTERS:
                    parent[nxt] = cell
                    queue.append(nxt)
        return self._step_towards(parent, frontier, start) if frontier is not None else None

    @staticmethod
    def _at_frontier(chars: np.ndarray, cell: tuple[int, int]) -> bool:
        rows, columns = chars.shape
        for (dr, dc) in STEPS:
            r, c = cell[0] + dr, cell[1] + dc
            if 0 <= r < rows and 0 <= c < columns and chars[r, c] == ord(" "):
                return True
        return False

    @staticmethod
    def _step_towards(parent: dict, target: tuple[int, int], start: tuple[int, int]) -> tuple[int, int]:
        cell = target
        while parent[cell] != start:
            cell = parent[cell]
        return (cell[0] - start[0], cell[1] - start[1])


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> ExploreAndDescend:
    return ExploreAndDescend(task)
