"""StarCraft II mini-games (SC2LE) through pysc2's ``SC2Env``, in the sc2 runtime.

pysc2 4.0 needs protobuf's pure-Python implementation on Python 3.11 (set here before
anything imports protobuf: this runs in the env server of the family's own runtime, so
the choice stays out of the main environment) and calls ``random.shuffle(x, fn)``, a form
Python 3.11 removed (restored below with the old algorithm, so pysc2's palettes stay
the same).

Observations are a Dict of pysc2's feature layers: ``screen`` (layers x S x S) and
``minimap`` (layers x M x M) as int32 with each layer's scale as bound, ``player`` (the
11 general counters) and ``available_actions``, a 0/1 mask over pysc2's function ids.
Actions are a Dict: ``function`` (a function id) and one entry per pysc2 argument type
(``screen``/``minimap``/``screen2`` as [x, y], the others as one index); a call takes
the arguments its function needs. A function the mask marks unavailable is played as
``no_op`` and counted (``metrics.unavailable_actions``), so an agent ignoring the mask
loses its turn instead of the episode. ``step_mul`` game steps pass per agent step (8
in the SC2LE paper).

Each reset with a new seed starts a new game with that seed (``random_seed``), so an
episode is reproducible from its seed. ``simulator="mock"`` plays pysc2's own
``SC2TestEnv`` (zeros and a fixed episode of 10 steps) to check an agent's plumbing
without the game.
"""

from __future__ import annotations

import os
import random
from typing import Any

import gymnasium
import numpy as np

from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.sc2_game import HOW_TO_INSTALL, game_build, missing

MINI_GAMES = ("MoveToBeacon", "CollectMineralShards", "FindAndDefeatZerglings", "DefeatRoaches",
              "DefeatZerglingsAndBanelings", "CollectMineralsAndGas", "BuildMarines")
POINT_ARGUMENTS = ("screen", "minimap", "screen2")
PLAYER_COUNTERS = 11


def protocol_facts() -> dict[str, str]:
    """The game build pysc2 would run: results of two builds are not comparable."""
    return {"StarCraft II build": game_build() or "not installed"}


def _prepare_pysc2() -> None:
    """Make pysc2 importable on Python 3.11 in this process (see the module docstring)."""
    os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
    try:
        random.shuffle([0, 1], lambda: 0.5)  # type: ignore[call-arg, unused-ignore]  # gone in 3.11
    except TypeError:
        plain_shuffle = random.shuffle

        def shuffle(x: list, random_fn: Any = None) -> None:
            if random_fn is None:
                return plain_shuffle(x)
            for i in reversed(range(1, len(x))):  # Python 3.10's algorithm for a given random()
                j = int(random_fn() * (i + 1))
                x[i], x[j] = x[j], x[i]

        random.shuffle = shuffle  # type: ignore[assignment]
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()  # pysc2 reads its run-config flags; use their defaults


class SC2Game(gymnasium.Env):
    """One SC2LE mini-game as a Gymnasium env."""

    metadata = {"render_modes": []}

    def __init__(self, map_name: str, screen: int = 84, minimap: int = 64, step_mul: int = 8,
                 simulator: str = "game"):
        if map_name not in MINI_GAMES:
            raise ValueError(f"unknown SC2LE mini-game {map_name!r}: choose one of {', '.join(MINI_GAMES)}")
        if simulator not in ("game", "mock"):
            raise ValueError(f"simulator must be 'game' or 'mock', got {simulator!r}")
        if simulator == "game" and missing():
            raise GymarenaError(f"StarCraft II {map_name} {missing()}. {HOW_TO_INSTALL}")
        _prepare_pysc2()
        from pysc2.env import sc2_env
        from pysc2.lib import actions, features

        self.map_name, self.step_mul, self.simulator = map_name, step_mul, simulator
        self.interface = sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=screen, minimap=minimap))
        self.functions = actions.FUNCTIONS
        self.no_op = actions.FunctionCall(actions.FUNCTIONS.no_op.id, [])
        self.FunctionCall = actions.FunctionCall
        self.game: Any = None
        self.seed_played: int | None = None
        game = self._start(None)
        # pysc2's own check of a call against the interface: SC2Env applies it itself, the
        # mock does not, so the mock gets it here and rejects what the game would reject.
        self.features = (features.features_from_game_info(game_info=game.game_info[0],
                                                          agent_interface_format=self.interface)
                         if simulator == "mock" else None)
        spec = game.action_spec()[0]
        self.argument_sizes = {t.name: tuple(t.sizes) for t in spec.types}
        count = self.function_count = len(spec.functions)
        self.observation_space = gymnasium.spaces.Dict({
            "screen": _layers_space(features.SCREEN_FEATURES, screen),
            "minimap": _layers_space(features.MINIMAP_FEATURES, minimap),
            "player": gymnasium.spaces.Box(0, np.iinfo(np.int32).max, (PLAYER_COUNTERS,), np.int32),
            "available_actions": gymnasium.spaces.MultiBinary(count),
        })
        self.action_space = gymnasium.spaces.Dict({
            "function": gymnasium.spaces.Discrete(count),
            **{name: (gymnasium.spaces.MultiDiscrete(list(sizes)) if name in POINT_ARGUMENTS
                      else gymnasium.spaces.Discrete(sizes[0]))
               for name, sizes in self.argument_sizes.items()},
        })
        self.unavailable = 0

    def _start(self, seed: int | None) -> Any:
        """A new game (the mock or SC2Env), closing the old one; returns it."""
        from pysc2.env import mock_sc2_env, sc2_env

        if self.game is not None:
            self.game.close()
        factory = mock_sc2_env.SC2TestEnv if self.simulator == "mock" else sc2_env.SC2Env
        self.game = factory(map_name=self.map_name, players=[sc2_env.Agent(sc2_env.Race.terran)],
                            agent_interface_format=self.interface, step_mul=self.step_mul,
                            random_seed=seed, visualize=False)
        self.seed_played = seed
        self.fresh = True
        return self.game

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None and (seed != self.seed_played or not self.fresh):
            self._start(seed)
        self.fresh = False
        self.unavailable = 0
        timestep = self.game.reset()[0]
        return self._observation(timestep), {}

    def function_call(self, action: dict[str, Any]) -> Any:
        """pysc2's ``FunctionCall`` for an action (``no_op`` if its function is unavailable)."""
        function = int(action["function"])
        if function not in self._available:
            return self.no_op
        return self.FunctionCall(function, [self._argument(arg.name, action) for arg in self.functions[function].args])

    def step(self, action: dict[str, Any]):
        call = self.function_call(action)
        if call is self.no_op and int(action["function"]) != call.function:
            self.unavailable += 1
        if self.features is not None:
            self.features.transform_action(None, call, skip_available=True)
        timestep = self.game.step([call])[0]
        last = timestep.step_type.name == "LAST"
        loop = int(np.asarray(timestep.observation["game_loop"]).ravel()[0])
        info = {"unavailable_actions": self.unavailable, "game_loop": loop}
        return self._observation(timestep), float(timestep.reward), last, False, info

    def _argument(self, name: str, action: dict[str, Any]) -> list[int]:
        value = np.asarray(action[name]).ravel()
        return [int(v) for v in value] if name in POINT_ARGUMENTS else [int(value[0])]

    def _observation(self, timestep: Any) -> dict[str, np.ndarray]:
        observation = timestep.observation
        mask = np.zeros(self.function_count, dtype=np.int8)
        self._available = {int(i) for i in observation["available_actions"]}
        mask[list(self._available)] = 1
        return {
            "screen": np.asarray(observation["feature_screen"], dtype=np.int32),
            "minimap": np.asarray(observation["feature_minimap"], dtype=np.int32),
            "player": np.asarray(observation["player"], dtype=np.int32),
            "available_actions": mask,
        }

    def close(self) -> None:
        if self.game is not None:
            self.game.close()
            self.game = None


def _layers_space(layers: Any, size: int) -> gymnasium.spaces.Box:
    high = np.array([max(layer.scale - 1, 1) for layer in layers], dtype=np.int32)
    return gymnasium.spaces.Box(0, np.broadcast_to(high[:, None, None], (len(layers), size, size)).copy(),
                                dtype=np.int32)


class SC2Metrics(EpisodeMetrics):
    """The mini-game score (the episode's summed reward, as the SC2LE paper reports it)."""

    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.score = 0.0

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        self.score += reward

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        return {"score": self.score, "unavailable_actions": int(info.get("unavailable_actions", 0)),
                "game_loop": int(info.get("game_loop", 0))}


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    env: gymnasium.Env = SC2Game(**{**task.kwargs, **overrides})
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return SC2Metrics(env)
