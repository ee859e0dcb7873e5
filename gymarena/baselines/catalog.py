"""What ``gymarena baselines list`` and ``train`` do: the recipes with their checkpoints, and
training a selection of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gymarena.baselines.algorithms import get_recipe, recipes
from gymarena.baselines.training import TRAINING_FILE, Recipe, checkpoint_file, default_root, train
from gymarena.errors import GymarenaError, param


def trained_checkpoints(recipe: Recipe, root: Path | None = None) -> dict[int, Path]:
    """Training seed -> checkpoint of the recipe in the root."""
    found = {int(path.parent.name.removeprefix("seed")): path
             for path in ((root or default_root()) / recipe.name).glob(f"seed*/{checkpoint_file(recipe)}")}
    return dict(sorted(found.items()))


def recipe_rows(root: Path | None = None) -> list[dict[str, Any]]:
    """One row per recipe: its budget, the seeds trained here, their scores and wall time."""
    rows = []
    for r in recipes().values():
        records = []
        for path in trained_checkpoints(r, root).values():
            try:
                records.append(json.loads((path.parent / TRAINING_FILE).read_text()))
            except (OSError, ValueError):
                continue
        rows.append({"recipe": r.name, "task": r.task, "algorithm": r.algorithm, "budget": f"{r.budget:,} {r.unit}",
                     "checkpoints": ",".join(str(record["seed"]) for record in records) or "-",
                     "score": " ".join(f"{record.get('score', record.get('greedy_return')):.4g}"
                                       for record in records) or "-",
                     "wall s": " ".join(f"{record['wall_seconds']:.0f}" for record in records) or "-",
                     "about": r.about})
    return rows


def train_recipes(names: Sequence[str], all_recipes: bool, seeds: Sequence[int], steps: int | None,
                  root: Path | None, say: Callable[[str], None] = print) -> list[Path]:
    """Train each named recipe (or all) for each seed; returns the checkpoints written."""
    if bool(names) == all_recipes:
        raise GymarenaError(f"name the recipes to train, or give {param('all_recipes')} (gymarena baselines list shows them)")
    if steps is not None and steps < 1:
        raise GymarenaError(f"{param('steps')} must be positive, not {steps}")
    selected = list(recipes().values()) if all_recipes else [get_recipe(name) for name in names]
    written = []
    for recipe in selected:
        for seed in seeds:
            written.append(train(recipe, seed, root, steps, say))
    say(f"checkpoints under {root or default_root()}")
    return written
