"""What a trained policy sees of a task's observation.

Stable-Baselines3 policies take arrays; some tasks observe more than that (MiniGrid's
observation is a dict with a text ``mission``). :func:`policy_view` says, for a task's
observation space, which array the policy is given and how it is cut from the
observation. Training, recorded datasets and evaluation all go through it, so a
checkpoint always sees what it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gymarena.errors import GymarenaError

_ARRAY_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


@dataclass(frozen=True)
class PolicyView:
    """The space a policy acts on and the function that cuts it from an observation."""

    space: gym.Space
    transform: Callable[[Any], Any]
    description: str
    transform_batch: Callable[[Any], Any]  # the same cut of a batch (gymnasium.vector's stacking)


def _identity(observation: Any) -> Any:
    return observation


def _flat_image(observation: dict[str, Any]) -> np.ndarray:
    return np.asarray(observation["image"]).reshape(-1)


def _flat_images(observations: dict[str, Any]) -> np.ndarray:
    images = np.asarray(observations["image"])
    return images.reshape(len(images), -1)


def policy_view(space: gym.Space) -> PolicyView:
    """The view of ``space`` a trained policy acts on: arrays as they are; a dict with an
    ``image`` array (MiniGrid's egocentric view) as that image, flattened."""
    if isinstance(space, _ARRAY_SPACES):
        return PolicyView(space, _identity, "the observation as it is", _identity)
    image = space.spaces.get("image") if isinstance(space, spaces.Dict) else None
    if isinstance(image, spaces.Box):
        flat = spaces.Box(low=image.low.reshape(-1), high=image.high.reshape(-1),
                          dtype=image.dtype)  # type: ignore[arg-type]  # Box takes any numpy dtype; its stub says less
        return PolicyView(flat, _flat_image, "the observation's 'image', flattened", _flat_images)
    raise GymarenaError(
        f"trained baselines take array observations (Box, Discrete, ...) or a dict with an 'image' "
        f"array; this task observes {space}"
    )


class PolicyObservation(gym.ObservationWrapper):
    """An env whose observations are what the policy sees (:func:`policy_view`)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.view = policy_view(env.observation_space)
        self.observation_space = self.view.space

    def observation(self, observation: Any) -> Any:
        return self.view.transform(observation)
