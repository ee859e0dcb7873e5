"""Super Mario Bros through gym-super-mario-bros and its NES emulator nes-py.

The family runs in a runtime of its own (``gymarena install mario``): 9.x is
Gymnasium-native but needs Python >= 3.13; on older Pythons only 7.4.0 installs, built on
the old ``gym`` API and crashing under numpy 2. :class:`MarioGame` gives both the same
Gymnasium face, so tasks, metrics and baselines do not care which one runs.

One env plays one stage (``target = "W-S"``) or, for the random-stage tasks, a stage
drawn per episode from the reset seed (the package's own random-stage env builds all 32
emulators at once; this builds each drawn stage on first use). The NES is deterministic:
a fixed stage replays identically whatever the seed. Actions are an index into one of
nes-py's button combinations (``actions = right_only | simple | complex``), held for
``frame_skip`` frames (rewards summed), the usual setting for learning agents.

Per-episode metrics: ``distance`` (the furthest x position reached, the stage's
horizontal pixel coordinate, as RAMario reports it), ``flag`` (reached the flag), in-game
``score``, ``time_left`` on the in-game clock, ``coins``, and the ``stage`` played.
The ROM's sha256 is part of the protocol (:func:`protocol_facts`).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics

ACTION_SETS = {"right_only": "RIGHT_ONLY", "simple": "SIMPLE_MOVEMENT", "complex": "COMPLEX_MOVEMENT"}
ROM = "super-mario-bros.nes"
ALL_STAGES = tuple(f"{world}-{stage}" for world in range(1, 9) for stage in range(1, 5))


def rom_path() -> Path:
    """The Super Mario Bros. ROM shipped inside gym-super-mario-bros."""
    spec = importlib.util.find_spec("gym_super_mario_bros")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("gym-super-mario-bros is not installed here: run `gymarena install mario`")
    return Path(next(iter(spec.submodule_search_locations))) / "_roms" / ROM


def protocol_facts() -> dict[str, str]:
    """What besides package versions fixes the simulator: the ROM's content."""
    try:
        digest = hashlib.sha256(rom_path().read_bytes()).hexdigest()
    except OSError:
        digest = "missing"
    return {f"{ROM} sha256": digest}


def button_combinations(actions: str) -> list[list[str]]:
    if actions not in ACTION_SETS:
        raise ValueError(f"unknown Mario action set {actions!r}: choose one of {', '.join(ACTION_SETS)}")
    from gym_super_mario_bros import actions as sets

    return getattr(sets, ACTION_SETS[actions])


def parse_stage(stage: str) -> tuple[int, int]:
    world, _, level = stage.partition("-")
    if not (world.isdigit() and level.isdigit() and 1 <= int(world) <= 8 and 1 <= int(level) <= 4):
        raise ValueError(f"a Mario stage is 'W-S' with world 1-8 and stage 1-4, got {stage!r}")
    return int(world), int(level)


class MarioGame(gymnasium.Env):
    """One NES Super Mario Bros game as a Gymnasium env, over either package API."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, target: str | None = None, stages: list[str] | None = None, actions: str = "simple",
                 frame_skip: int = 4, render_mode: str | None = None):
        if (target is None) == (stages is None):
            raise ValueError("give a Mario env either one target stage ('1-1') or a list of stages to draw from")
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        self.stages = [target] if target is not None else list(stages or [])
        for stage in self.stages:
            parse_stage(stage)
        self.buttons = button_combinations(actions)
        self.frame_skip = frame_skip
        self.render_mode = render_mode
        self.observation_space = gymnasium.spaces.Box(0, 255, (240, 256, 3), np.uint8)
        self.action_space = gymnasium.spaces.Discrete(len(self.buttons))
        self._games: dict[str, Any] = {}
        self.stage = self.stages[0]
        self.game = self._game(self.stage)

    def _game(self, stage: str) -> Any:
        if stage not in self._games:
            from gym_super_mario_bros import SuperMarioBrosEnv
            from nes_py.wrappers import JoypadSpace

            self._games[stage] = JoypadSpace(SuperMarioBrosEnv(target=parse_stage(stage)), self.buttons)
        return self._games[stage]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if len(self.stages) > 1:
            self.stage = self.stages[int(self.np_random.integers(len(self.stages)))]
            self.game = self._game(self.stage)
        result = self.game.reset(seed=seed) if _new_api(self.game) else self.game.reset()
        observation, info = result if isinstance(result, tuple) else (result, {})
        return observation.copy(), {**info, "stage": self.stage}

    def step(self, action: Any):
        total = 0.0
        for _ in range(self.frame_skip):
            result = self.game.step(int(action))
            if len(result) == 5:
                observation, reward, terminated, truncated, info = result
            else:  # the old gym API: (observation, reward, done, info)
                observation, reward, terminated, info = result
                truncated = False
            total += float(reward)
            if terminated or truncated:
                break
        return observation.copy(), total, bool(terminated), bool(truncated), {**info, "stage": self.stage}

    def render(self):
        return self.game.unwrapped.screen.copy()

    def close(self) -> None:
        for game in self._games.values():
            game.close()
        self._games.clear()


def _new_api(game: Any) -> bool:
    return isinstance(game, gymnasium.Env)


class MarioMetrics(EpisodeMetrics):
    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.distance = int(info.get("x_pos", 0))

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        self.distance = max(self.distance, int(info.get("x_pos", 0)))

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        return {
            "distance": self.distance,
            "flag": bool(info.get("flag_get", False)),
            "score": int(info.get("score", 0)),
            "time_left": int(info.get("time", 0)),
            "coins": int(info.get("coins", 0)),
            "stage": str(info.get("stage", "")),
        }


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    kwargs = {**task.kwargs, **overrides}
    env: gymnasium.Env = MarioGame(**kwargs)
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return MarioMetrics(env)
