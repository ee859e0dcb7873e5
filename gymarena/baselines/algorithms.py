"""The recipe families (one module per algorithm) and the registry of their recipes."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import Any

from gymarena.baselines.training import Recipe
from gymarena.errors import GymarenaError, MissingExtraError
from gymarena.records import AlgorithmIdentity

BASELINE_VERSION = "gymarena-baselines"

ALGORITHM_MODULES = {"ppo": "gymarena.baselines.ppo", "dqn": "gymarena.baselines.dqn", "sac": "gymarena.baselines.sac",
                     "crew": "gymarena.baselines.crew"}
# The extras an algorithm's recipe module needs to be imported at all (the SB3 recipes import
# nothing optional until they train; the crew recipes' arguments live beside the social game).
ALGORITHM_EXTRAS = {"crew": "social,baselines"}


def module(algorithm: str) -> ModuleType:
    """The module holding an algorithm's ``build`` and recipes; a one-line error naming the
    extras to install where its optional dependencies are missing."""
    try:
        return importlib.import_module(ALGORITHM_MODULES[algorithm])
    except MissingExtraError as error:  # a simulator family's own missing-extra error
        reason = f"the {error.family} {error.what} is not installed"
    except ModuleNotFoundError as error:
        if (error.name or "").startswith("gymarena"):
            raise
        reason = f"no module {error.name!r}"
    extras = ALGORITHM_EXTRAS.get(algorithm, "baselines")
    raise GymarenaError(f"the {algorithm} recipes cannot be loaded here ({reason}): pip install 'gymarena[{extras}]'")


@cache
def _loadable() -> tuple[dict[str, ModuleType], dict[str, str]]:
    """(the recipe modules that import here, algorithm -> why the others do not): tried once
    per process, so a missing extra's import is not attempted again at every lookup."""
    loaded, missing = {}, {}
    for algorithm in ALGORITHM_MODULES:
        try:
            loaded[algorithm] = module(algorithm)
        except GymarenaError as error:
            missing[algorithm] = str(error)
    return loaded, missing


def unavailable() -> dict[str, str]:
    """Algorithm -> why its recipes cannot be loaded here (the extras to install), for those
    whose optional dependencies are missing: one family's recipes never need another's."""
    return dict(_loadable()[1])


# What an algorithm module may define beside its RECIPES to replace the Stable-Baselines3 way
# (the crew recipes define them all): CHECKPOINT_FILE, train(recipe, seed, root, budget, say),
# agent(path, task, observation_space, action_space, device), identity(recipe), code_digest()
# and BOARDS (the social boards its checkpoints are evaluated on).
HOOKS = ("CHECKPOINT_FILE", "train", "agent", "identity", "code_digest", "BOARDS")


def hook(algorithm: str, name: str) -> Any:
    """The algorithm module's own ``name`` (one of HOOKS), or None where it has none."""
    assert name in HOOKS, name
    return getattr(module(algorithm), name, None)


def recipes() -> dict[str, Recipe]:
    """Every recipe that can be loaded here by name, in the order their modules list them
    (:func:`unavailable` says which algorithms are left out and why)."""
    return {r.name: r for loaded in _loadable()[0].values() for r in loaded.RECIPES}


def get_recipe(name: str) -> Recipe:
    known = recipes()
    try:
        return known[name]
    except KeyError:
        hint = "".join(f"; {reason}" for reason in unavailable().values())
        raise GymarenaError(f"no baseline recipe {name!r}; known: {', '.join(known)}{hint}") from None


def task_recipes(algorithm: str) -> dict[str, Recipe]:
    """Task id -> the algorithm's first recipe for it (the one its agent and make-suite use)."""
    chosen: dict[str, Recipe] = {}
    for r in module(algorithm).RECIPES:
        chosen.setdefault(r.task, r)
    return chosen


def recipe_for_task(task_id: str, algorithm: str) -> Recipe:
    """The recipe of an algorithm on a task (``dataset make-suite`` uses the DQN one)."""
    chosen = task_recipes(algorithm)
    if task_id not in chosen:
        raise GymarenaError(f"no {algorithm.upper()} recipe for {task_id}; tasks with one: {', '.join(chosen)}")
    return chosen[task_id]


def baseline_algorithm(algorithm: str) -> AlgorithmIdentity:
    """The identity every trained checkpoint of one of gymarena's baseline algorithms is a
    training run of: its name, and the digest of its recipes (tasks, budgets, arguments),
    so that retuned recipes make another entry."""
    from gymarena.protocol import digest

    return AlgorithmIdentity(algorithm.upper(), BASELINE_VERSION,
                             digest([recipe_fields(r) for r in module(algorithm).RECIPES]))


def recipe_fields(recipe: Recipe) -> list[str]:
    """What a recipe's identity covers: its name, task and arguments."""
    from dataclasses import asdict

    return [recipe.name, recipe.task, repr(sorted(asdict(recipe.args).items()))]


def recipe_algorithm(recipe: Recipe) -> AlgorithmIdentity:
    """The identity a recipe's checkpoints are training runs of: its module's ``identity``
    (the crew recipes: one per condition), else its algorithm's."""
    own = hook(recipe.algorithm, "identity")
    return own(recipe) if own is not None else baseline_algorithm(recipe.algorithm)
