"""Super Mario Bros: run right and jump over what is ahead, from the screen alone.

Mario is found on the screen by his hair and boots, a colour no other sprite of world 1
has (NES palette 0x17, drawn as (172, 124, 0)). Each decision the agent runs right
holding B, and starts a jump (A held for up to ``JUMP_DECISIONS`` decisions, then released
for one so the next jump can start) when
- something other than the background stands in front of Mario at his height (a pipe,
  a block, an enemy),
- there is no ground in front of his feet (a gap), or
- he has not moved on the screen and the screen has not scrolled (stuck at a wall).

The first five button combinations of all three action sets are the same (NOOP, right,
right+A, right+B, right+A+B), so one agent plays every set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.tasks import TaskSpec

RUN, RUN_JUMP = 3, 4
MARIO = np.array([172, 124, 0], dtype=np.uint8)
JUMP_DECISIONS = (5, 10)  # A is held for a number of decisions drawn from this range (seeded)
MIN_JUMP = 2  # decisions A is held before a landing can end the jump
LOOK_AHEAD = (6, 30)  # pixels in front of Mario checked for obstacles
LAVA = np.array([[248, 56, 0], [252, 252, 252]], dtype=np.uint8)  # lava and its glints: nothing to land on
GAP_LOOK_AHEAD = 20  # pixels ahead (from LOOK_AHEAD's start) that must have ground
HUD_ROWS = 32  # score, coins, world and time at the top of the screen
GROUND_ROWS = 16  # the bottom of the screen: only ground, so it changes only when the screen scrolls
TALL = (30, 16)  # rows above Mario's feet where anything is a tall obstacle (a pipe, a stair)
# Scenery drawn in front of the sky that Mario walks past (hills, bushes, outlines): not obstacles.
SCENERY = np.array([[0, 168, 0], [184, 248, 24], [0, 0, 0]], dtype=np.uint8)


class RunAndJump:
    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.jumping = 0
        self.jump_length = JUMP_DECISIONS[1]
        self.position: tuple[int, int] | None = None
        self.previous: np.ndarray | None = None
        self.stalled = 0

    def act(self, observation: Any) -> int:
        screen = np.asarray(observation)
        position = _mario(screen)
        # Stalled: Mario has not moved right on the screen and the ground has not scrolled.
        stalled = position is not None and self.position is not None and position[1] <= self.position[1] \
            and self.previous is not None and np.array_equal(screen[-GROUND_ROWS:], self.previous[-GROUND_ROWS:])
        self.stalled = self.stalled + 1 if stalled else 0
        # On the ground: solid under his feet and not moving up or down since the last decision.
        grounded = position is not None and self.position is not None and abs(position[0] - self.position[0]) <= 1 \
            and _on_ground(screen, position)
        self.position = position if position is not None else self.position
        self.previous = screen
        if self.jumping:
            self.jumping -= 1
            landed = grounded and self.jump_length - self.jumping > MIN_JUMP
            if landed or not self.jumping:
                self.jumping = 0
                return RUN  # release A: the next jump needs a fresh press
            return RUN_JUMP
        if grounded and position is not None and (self.stalled >= 1 or _blocked(screen, position)):
            self.jump_length = self.jumping = int(self.rng.integers(JUMP_DECISIONS[0], JUMP_DECISIONS[1] + 1))
            self.stalled = 0
            return RUN_JUMP
        return RUN


def _mario(screen: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of Mario's lowest-right visible pixel of his signature colour."""
    rows, columns = np.nonzero(np.all(screen[HUD_ROWS:] == MARIO, axis=-1))
    if rows.size == 0:
        return None
    return int(rows.max()) + HUD_ROWS, int(columns.max())


def _background(screen: np.ndarray) -> np.ndarray:
    """The commonest colour of the playing field (sky blue outside, black underground)."""
    colours, counts = np.unique(screen[HUD_ROWS::4, ::4].reshape(-1, 3), axis=0, return_counts=True)
    return colours[np.argmax(counts)]


def _on_ground(screen: np.ndarray, position: tuple[int, int]) -> bool:
    """Whether something solid is right under Mario's feet (he can jump)."""
    return _ground_colours(screen, position).size > 0


def _ground_colours(screen: np.ndarray, position: tuple[int, int]) -> np.ndarray:
    """The colours right under Mario's feet, other than the background's."""
    row, column = position
    below = screen[row + 1:row + 3, max(0, column - 12):column + 1].reshape(-1, 3)
    colours = np.unique(below, axis=0)
    return colours[np.any(colours != _background(screen), axis=1)]


def _blocked(screen: np.ndarray, position: tuple[int, int]) -> bool:
    """Whether an obstacle stands ahead at Mario's height, or a pit (or lava) lies ahead."""
    row, column = position
    background = _background(screen)
    first, last = column + LOOK_AHEAD[0], min(screen.shape[1], column + LOOK_AHEAD[1])
    if first >= last:
        return False
    if np.any(np.any(screen[max(HUD_ROWS, row - TALL[0]):max(HUD_ROWS, row - TALL[1]), first:last] != background, axis=-1)):
        return True
    ahead = screen[max(HUD_ROWS, row - 14):row - 1, first:last].reshape(-1, 3)
    passable = np.vstack([SCENERY, background[None]])
    if not np.all(np.any(np.all(ahead[:, None, :] == passable[None], axis=-1), axis=1)):
        return True
    below = screen[row + 1:, first:min(last, first + GAP_LOOK_AHEAD)]
    empty = np.all(below == background, axis=-1) | np.any(np.all(below[..., None, :] == LAVA, axis=-1), axis=-1)
    return bool(np.any(np.all(empty, axis=0)))  # a column with nothing to land on down to the bottom


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> RunAndJump:
    return RunAndJump()
