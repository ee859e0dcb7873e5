"""The social ablation's checkpoints ship with gymarena (gymarena/baselines/published/
checkpoints/), with their evaluation on the held-out seeds the docs' table rests on, so the
table can be checked without training: each checkpoint loads as its recipe's agent from a
fresh machine, and replays the first 64 of its held-out seeds against each impostor exactly."""

from __future__ import annotations

import gzip
import json

import pytest

from gymarena.baselines.crew import HELD_OUT_FILE
from gymarena.baselines.training import SHIPPED_ROOT

CHUNK = 64  # games evaluate() plays in lockstep (gymarena/baselines/social_rl/training.py)
SHIPPED = sorted((recipe.name, int(seed.name.removeprefix("seed")))
                 for recipe in SHIPPED_ROOT.glob("social-*") for seed in recipe.glob("seed*"))


@pytest.fixture
def fresh_machine(tmp_path, monkeypatch):
    """No checkpoint trained here: whatever loads comes from the package."""
    monkeypatch.setenv("GYMARENA_BASELINES", str(tmp_path / "nothing-trained"))


@pytest.mark.parametrize("recipe_name, seed", SHIPPED, ids=[f"{name}-seed{seed}" for name, seed in SHIPPED])
def test_a_shipped_crew_loads_and_replays_its_published_held_out_games(recipe_name, seed, fresh_machine):
    from gymarena.agents import load_agent
    from gymarena.baselines.algorithms import get_recipe
    from gymarena.baselines.crew import held_out_games
    from gymarena.baselines.social_rl.player import load_policy
    from gymarena.baselines.training import find_checkpoint

    recipe = get_recipe(recipe_name)
    path = find_checkpoint(recipe, seed)
    assert path is not None and path.is_relative_to(SHIPPED_ROOT)
    policy, args = load_policy(path)
    assert (args.seed, args.condition, args.games) == (seed, recipe.args.condition, recipe.args.games)
    agent = load_agent(f"gymarena.baselines.trained:{recipe_name.replace('-', '_')}_seed{seed}")
    assert agent.content_hash  # the trained agent finds it too
    published = json.loads(gzip.decompress((path.parent / HELD_OUT_FILE).read_bytes()))
    first, last = published["seeds"]
    per_impostor = last - first + 1
    # the first chunk of games played in lockstep (their draws come from a generator seeded by its first seed)
    chunk = range(first, first + min(CHUNK, per_impostor))
    replayed = held_out_games(policy, list(chunk), args.rules)
    stored = [published["games"][i * per_impostor + j] for i in range(len(published["impostors"]))
              for j in range(len(chunk))]
    assert replayed == stored


def test_the_shipped_crews_are_trained_crews_of_the_ablation():
    assert SHIPPED, "no checkpoint ships"
    assert {name for name, _ in SHIPPED} <= {"social-win", "social-listening", "social-speaking"}
