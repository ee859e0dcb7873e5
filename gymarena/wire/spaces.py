"""Gymnasium spaces described as frame-safe data and rebuilt on the other side, so a
sandboxed agent (or the runner, talking to a simulator's runtime) gets the observation
and action spaces of a task without pickle."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces


def describe(space: Any) -> dict[str, Any]:
    """A space as plain data (arrays stay arrays); spaces keyed by agent id (multi-agent) too."""
    if isinstance(space, dict):
        return {"type": "agents", "spaces": {str(k): describe(v) for k, v in space.items()}}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": space.low, "high": space.high, "dtype": np.dtype(space.dtype).name}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": np.asarray(space.nvec), "start": np.asarray(space.start)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [describe(s) for s in space.spaces]}
    if isinstance(space, spaces.Dict):  # the social game's MaskedDict samples under partial masks: say so
        kind = "MaskedDict" if type(space).__name__ == "MaskedDict" else "Dict"
        return {"type": kind, "spaces": {k: describe(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Text):
        return {"type": "Text", "min_length": space.min_length, "max_length": space.max_length, "charset": space.characters}
    if type(space).__name__ == "MissionSpace":  # MiniGrid's mission strings: a Text space stands in
        return {"type": "Text", "min_length": 0, "max_length": 512, "charset": string.printable, "stands_for": "MissionSpace"}
    raise ValueError(f"a {type(space).__name__} space cannot be sent to another process")


def build(description: dict[str, Any]) -> Any:
    kind = description.get("type")
    if kind == "agents":
        return {k: build(v) for k, v in description["spaces"].items()}
    if kind == "Box":
        return spaces.Box(low=description["low"], high=description["high"], dtype=np.dtype(description["dtype"]))
    if kind == "Discrete":
        return spaces.Discrete(description["n"], start=description["start"])
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(description["nvec"], start=description["start"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(description["n"])
    if kind == "Tuple":
        return spaces.Tuple([build(s) for s in description["spaces"]])
    if kind == "Dict":
        return spaces.Dict({k: build(s) for k, s in description["spaces"].items()})
    if kind == "MaskedDict":
        from gymarena.envs.social_deduction.env import MaskedDict

        return MaskedDict({k: build(s) for k, s in description["spaces"].items()})
    if kind == "Text":
        return spaces.Text(description["max_length"], min_length=description["min_length"], charset=description["charset"])
    raise ValueError(f"unknown space description {kind!r}")
