"""What ``gymarena baselines list`` and ``train`` do: the recipes with their checkpoints, and
training a selection of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gymarena.baselines.algorithms import get_recipe, recipes
from gymarena.baselines.training import default_root, shipped_root, train, CHECKPOINT_FILE
from gymarena.errors import GymarenaError


def trained_seeds(recipe_name: str, root: Path | None = None) -> list[int]:
    """Training seeds with a checkpoint of the recipe, in the root or shipped."""
    seeds: set[int] = set()
    for base in (root or default_root(), shipped_root()):
        for path in (base / recipe_name).glob(f"seed*/{CHECKPOINT_FILE}"):
            seeds.add(int(path.parent.name.removeprefix("seed")))
    return sorted(seeds)


def recipe_rows(root: Path | None = None) -> list[dict[str, Any]]:
    return [{"recipe": r.name, "task": r.task, "algorithm": r.algorithm, "steps": r.total_steps,
             "checkpoints": ",".join(map(str, trained_seeds(r.name, root))) or "-", "about": r.about}
            for r in recipes().values()]


def train_recipes(names: Sequence[str], all_recipes: bool, seeds: Sequence[int], steps: int | None,
                  root: Path | None, say: Callable[[str], None] = print) -> list[Path]:
    """Train each named recipe (or all) for each seed; returns the checkpoints written."""
    if bool(names) == all_recipes:
        raise GymarenaError("name the recipes to train, or give --all (gymarena baselines list shows them)")
    if steps is not None and steps < 1:
        raise GymarenaError(f"--steps must be positive, not {steps}")
    selected = list(recipes().values()) if all_recipes else [get_recipe(name) for name in names]
    written = []
    for recipe in selected:
        for seed in seeds:
            written.append(train(recipe, seed, root, steps, say))
    say(f"checkpoints under {root or default_root()}")
    return written
