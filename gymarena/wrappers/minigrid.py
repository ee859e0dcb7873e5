"""MiniGrid (Farama). Its envs truncate themselves at ``max_steps``, so the task's
``max_episode_steps`` is passed as that argument instead of a TimeLimit wrapper.

``kwargs.observation = "rgb"`` makes a pixel task: the agent's egocentric view drawn by
MiniGrid's own renderer (``get_frame(agent_pov=True)``, 8-pixel tiles, what MiniGrid's
``RGBImgPartialObsWrapper`` draws), observed alone (as its ``ImgObsWrapper`` would: no
direction, no mission text), the usual input of a CNN policy. It is a wrapper of ours
only so that Gymnasium can re-make the env from its spec (MiniGrid's two wrappers do not
record their arguments).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec
from gymarena.wrappers.gymnasium_ids import make_registered

OBSERVATIONS = ("symbolic", "rgb")
RGB_TILE_PIXELS = 8


class PixelView(gymnasium.ObservationWrapper, gymnasium.utils.RecordConstructorArgs):
    """The agent's partial view as an RGB image (height, width, 3) of ``tile_size`` pixels per cell."""

    def __init__(self, env: gymnasium.Env, tile_size: int = RGB_TILE_PIXELS):
        gymnasium.utils.RecordConstructorArgs.__init__(self, tile_size=tile_size)
        super().__init__(env)
        self.tile_size = tile_size
        rows, columns = env.observation_space["image"].shape[:2]  # type: ignore[index]  # MiniGrid's dict space
        self.observation_space = spaces.Box(0, 255, (rows * tile_size, columns * tile_size, 3), np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        return self.unwrapped.get_frame(tile_size=self.tile_size, agent_pov=True)  # type: ignore[attr-defined]


def make(task: TaskSpec, **overrides: Any):
    import minigrid  # noqa: F401  registers the MiniGrid-* ids

    kwargs = dict(task.kwargs)
    observation = kwargs.pop("observation", "symbolic")
    if observation not in OBSERVATIONS:
        raise GymarenaError(f"{task.id}: kwargs.observation is {observation!r}; one of {', '.join(OBSERVATIONS)}")
    env = make_registered(dataclasses.replace(task, kwargs=kwargs), time_limit_kwarg="max_steps", **overrides)
    return PixelView(env) if observation == "rgb" else env
