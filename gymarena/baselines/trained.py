"""Trained baselines as agents: a Stable-Baselines3 checkpoint acting greedily.

Two ways in:

- ``gymarena eval --agent path/to/model.zip`` (or ``model.zip:ppo`` to name the
  algorithm): any SB3 checkpoint whose observation space is the task's policy view
  (:func:`~gymarena.baselines.observations.policy_view`). Its identity is the file's hash.
- ``gymarena eval --agent gymarena.baselines.trained:ppo`` (``dqn``, ``sac``; ``ppo_seed1``
  for another training seed; a recipe name such as ``sac_hopper_j4`` or ``social_speaking``
  for one recipe): per task, the checkpoint of the recipe for the task (trained by
  ``gymarena baselines train``); the crew recipes' checkpoints play every seat of a social
  deduction table (:mod:`gymarena.baselines.crew`). Its identity covers every checkpoint it
  can load, so a retrained checkpoint is a different agent.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from gymarena.baselines.observations import policy_view
from gymarena.baselines.training import Recipe, algorithm_class, find_checkpoint
from gymarena.errors import AgentLoadError
from gymarena.tasks import TaskSpec

_POLICY_MODULES = {"stable_baselines3.dqn.policies": "dqn", "stable_baselines3.sac.policies": "sac",
                   "stable_baselines3.td3.policies": "td3", "stable_baselines3.common.policies": "ppo"}


def checkpoint_algorithm(path: Path) -> str:
    """The algorithm of an SB3 checkpoint, told by the module of its policy class (PPO also
    loads A2C's actor-critic checkpoints: the same policy)."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
        module = data["policy_class"]["__module__"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise AgentLoadError(f"{path} is not a Stable-Baselines3 checkpoint ({type(exc).__name__}: {exc})") from None
    try:
        return _POLICY_MODULES[module]
    except KeyError:
        raise AgentLoadError(f"{path}: cannot tell the algorithm of a {module} policy; name it: {path}:ALGORITHM") from None


class CheckpointAgent:
    """Greedy actions of an SB3 model, on the policy view of the task's observations; in
    batched play (``--batch``) one prediction per step for every slot."""

    def __init__(self, model: Any, observation_space: Any, source: str):
        self.model = model
        self.view = policy_view(observation_space)
        expected, got = model.observation_space, self.view.space
        if getattr(expected, "shape", None) != getattr(got, "shape", None) or type(expected) is not type(got):
            raise AgentLoadError(f"{source} was trained on observations {expected}, but this task's policy view is {got}")

    def reset(self, seed: int | None = None) -> None:
        """Greedy policies keep no state between episodes."""

    def act(self, observation: Any) -> Any:
        action, _ = self.model.predict(self.view.transform(observation), deterministic=True)
        return action

    def act_batch(self, observations: Any) -> Any:
        """One forward pass for the whole batch (SB3 predicts on a leading batch axis)."""
        actions, _ = self.model.predict(self.view.transform_batch(observations), deterministic=True)
        return actions


def load_model(path: Path, algorithm: str | None = None, device: str = "cpu") -> Any:
    """An SB3 model from a checkpoint file, on ``device`` (a torch device name)."""
    algorithm = algorithm or checkpoint_algorithm(path)
    try:
        return algorithm_class(algorithm).load(path, device=device)
    except Exception as exc:
        raise AgentLoadError(f"{path} did not load as a {algorithm.upper()} checkpoint: {type(exc).__name__}: {exc}") from None


def file_agent(path: Path, algorithm: str | None = None):
    """The factory of ``--agent model.zip[:algorithm]``: the checkpoint is read once here (a
    bad file fails before anything is played) and loaded once per device it is asked for."""
    models = {"cpu": load_model(path, algorithm)}

    def make_agent(task: TaskSpec, observation_space: Any, action_space: Any, device: str = "cpu") -> CheckpointAgent:
        if device not in models:
            models[device] = load_model(path, algorithm, device)
        return CheckpointAgent(models[device], observation_space, str(path))

    return make_agent


class RecipeAgents:
    """The factory of ``gymarena.baselines.trained:NAME[_seedN]``: per task, the checkpoint of
    a recipe for it. NAME is an algorithm (``ppo``: its first recipe for each task) or one
    recipe (``sac_hopper_j4``: that recipe's task only)."""

    def __init__(self, name: str, seed: int):
        from gymarena.baselines.algorithms import ALGORITHM_MODULES, recipes, task_recipes

        self.name, self.seed = name, seed
        self.recipes: dict[str, Recipe]
        if name in ALGORITHM_MODULES:
            self.recipes = task_recipes(name)
        else:
            recipe = recipes().get(name.replace("_", "-"))
            if recipe is None:
                raise AttributeError(name)
            self.recipes = {recipe.task: recipe}
        self.version = f"{name}-seed{seed}"

    def checkpoint(self, task_id: str) -> Path:
        recipe = self.recipes.get(task_id)
        if recipe is None:
            raise AgentLoadError(f"there is no {self.name} recipe for {task_id}; tasks with one: {', '.join(self.recipes)}")
        path = find_checkpoint(recipe, self.seed)
        if path is None:
            raise AgentLoadError(f"no checkpoint of {recipe.name} seed {self.seed}; train it with "
                                 f"`gymarena baselines train {recipe.name} --seeds {self.seed}`")
        return path

    def check_task(self, task: TaskSpec) -> None:
        """Raise, before anything is played, if this agent has no checkpoint for ``task``
        (the runner asks for every task of a run first: no run stops halfway for it)."""
        self.checkpoint(task.id)

    @property
    def content_digest(self) -> bytes:
        """Every checkpoint this agent can load: its identity."""
        from gymarena.baselines.algorithms import hook

        digest = hashlib.sha256()
        for task_id in sorted(self.recipes):
            recipe = self.recipes[task_id]
            path = find_checkpoint(recipe, self.seed)
            digest.update(task_id.encode() + (path.read_bytes() if path else b"-"))
            code = hook(recipe.algorithm, "code_digest")  # our own players' code (crew)
            digest.update(code() if code is not None else b"")
        return digest.digest()

    def __call__(self, task: TaskSpec, observation_space: Any, action_space: Any, device: str = "cpu") -> Any:
        """The agent of the task's checkpoint: its algorithm module's ``agent`` (the crew
        recipes' players), else the SB3 model acting greedily."""
        from gymarena.baselines.algorithms import hook

        path = self.checkpoint(task.id)
        algorithm = self.recipes[task.id].algorithm
        own = hook(algorithm, "agent")
        if own is not None:
            return own(path, task, observation_space, action_space, device)
        return CheckpointAgent(load_model(path, algorithm, device), observation_space, str(path))


_SEEDED = re.compile(r"^(?P<name>[a-z0-9_]+?)(?:_seed(?P<seed>\d+))?$")


def __getattr__(name: str) -> RecipeAgents:  # ppo, dqn_seed1, sac_hopper_j4, ...
    match = _SEEDED.match(name)
    if match is None or name.startswith("__"):
        raise AttributeError(name)
    return RecipeAgents(match.group("name"), int(match.group("seed") or 0))
