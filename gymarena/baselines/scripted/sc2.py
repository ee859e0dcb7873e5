"""StarCraft II mini-games: select the army, then move it to the nearest target.

For MoveToBeacon and CollectMineralShards, from the ``player_relative`` screen layer:
while ``Move_screen`` is unavailable (nothing selected) select the army; then move to the
beacon (the centre of the neutral pixels), or to the mineral shard nearest to the army's
centre. The other mini-games need fighting or economy and have no scripted baseline.

pysc2's function ids and layer indices are fixed by its action and feature definitions;
they are spelled out here because this agent runs in the main environment, which does
not import pysc2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.errors import AgentLoadError
from gymarena.tasks import TaskSpec

NO_OP, SELECT_ARMY, MOVE_SCREEN = 0, 7, 331
PLAYER_RELATIVE = 5  # index of the player_relative layer in pysc2's SCREEN_FEATURES
SELF, NEUTRAL = 1, 3  # player_relative values: own units, neutral units (beacon, shards)
GAMES = ("MoveToBeacon", "CollectMineralShards")


class MoveToNearest:
    def __init__(self, action_space: Any, beacon: bool):
        self.blank = {name: np.zeros(space.shape, dtype=space.dtype) if space.shape else 0
                      for name, space in action_space.spaces.items()}
        self.beacon = beacon

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation: dict[str, np.ndarray]) -> dict[str, Any]:
        available = observation["available_actions"]
        relative = observation["screen"][PLAYER_RELATIVE]
        targets = np.argwhere(relative == NEUTRAL)  # (y, x) rows
        if not available[MOVE_SCREEN]:
            return self._call(SELECT_ARMY) if available[SELECT_ARMY] else self._call(NO_OP)
        if targets.size == 0:
            return self._call(NO_OP)
        if self.beacon:
            y, x = targets.mean(axis=0)
        else:
            army = np.argwhere(relative == SELF)
            centre = army.mean(axis=0) if army.size else np.array(relative.shape) / 2
            y, x = targets[np.argmin(np.linalg.norm(targets - centre, axis=1))]
        return self._call(MOVE_SCREEN, screen=np.array([int(round(x)), int(round(y))]))

    def _call(self, function: int, **arguments: Any) -> dict[str, Any]:
        return {**self.blank, "function": function, **arguments}


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> MoveToNearest:
    game = task.kwargs.get("map_name")
    if game not in GAMES:
        raise AgentLoadError(f"there is no scripted baseline for {task.id}; StarCraft II ones: {', '.join(GAMES)}")
    return MoveToNearest(action_space, beacon=game == "MoveToBeacon")
