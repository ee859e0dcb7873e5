"""MiniGrid (Farama). Its envs truncate themselves at ``max_steps``, so the task's
``max_episode_steps`` is passed as that argument instead of a TimeLimit wrapper.

``kwargs.observation = "rgb"`` makes a pixel task: the agent's egocentric 7x7 view drawn
as an RGB image of 8-pixel tiles (MiniGrid's ``RGBImgPartialObsWrapper``), observed alone
(``ImgObsWrapper``: no direction, no mission text), the usual input of a CNN policy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec
from gymarena.wrappers.gymnasium_ids import make_registered

OBSERVATIONS = ("symbolic", "rgb")
RGB_TILE_PIXELS = 8


def make(task: TaskSpec, **overrides: Any):
    import minigrid  # noqa: F401  registers the MiniGrid-* ids

    kwargs = dict(task.kwargs)
    observation = kwargs.pop("observation", "symbolic")
    if observation not in OBSERVATIONS:
        raise GymarenaError(f"{task.id}: kwargs.observation is {observation!r}; one of {', '.join(OBSERVATIONS)}")
    env = make_registered(dataclasses.replace(task, kwargs=kwargs), time_limit_kwarg="max_steps", **overrides)
    if observation == "rgb":
        from minigrid.wrappers import ImgObsWrapper, RGBImgPartialObsWrapper

        env = ImgObsWrapper(RGBImgPartialObsWrapper(env, tile_size=RGB_TILE_PIXELS))
    return env
