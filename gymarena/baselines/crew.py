"""Crew recipes (the social deduction game): crewmates trained with the compact PPO of
:mod:`gymarena.baselines.social_rl.training` in the three conditions of Sarkar et al.
(AAMAS 2025), against the scripted and hunting impostors.

Each recipe function returns its :class:`SocialTrainArgs`; its docstring states the budget
(games) and the wall time of one seed measured here (2 cores, no GPU, two trainings at
once, one torch thread each). The arguments are the ones the ablation of ``bench/social.py``
trains with, so a recipe's checkpoint is one of that table's runs. A checkpoint is

    ROOT/RECIPE/seedN/policy.pt       the crew policy (gymarena-crew-policy/1)
    ROOT/RECIPE/seedN/training.json   recipe, arguments, budget, wall time, crew win rate

and the agent ``gymarena.baselines.trained:social_speaking[_seedN]`` (``social_win``,
``social_listening``) plays it: crew seats with the policy, the impostor seat with the
hunting impostor (:func:`~gymarena.baselines.social_rl.player.crew_agent`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gymarena.baselines.social_rl.training import IMPOSTORS, SocialTrainArgs
from gymarena.baselines.training import TRAINING_FILE, Recipe, checkpoint_dir, default_root, recipe, set_torch_threads
from gymarena.records import AlgorithmIdentity
from gymarena.tasks import TaskSpec, get_task

CHECKPOINT_FILE = "policy.pt"
HELD_OUT_FILE = "held-out.json.gz"  # a shipped checkpoint's evaluation on the ablation's held-out seeds (bench/social.py)
BOARDS = ("social-core@1", "social-core@2")  # where ``gymarena baselines evaluate`` plays each checkpoint
TASK = "social/Impostor-5p1i-v0"
EVALUATION_SEEDS = range(10_000, 10_100)  # per impostor; apart from training's seeds (drawn from 2**31) and the bench's
PROGRESS_SECONDS = 10.0


def social_win() -> SocialTrainArgs:
    """(a) The win reward only (standard RL). 20,000 games, ~8 min per seed."""
    return SocialTrainArgs(condition="win", games=20_000)


def social_listening() -> SocialTrainArgs:
    """(b) The win reward + the listening loss (the belief head predicts the impostor at
    every survey). 20,000 games, ~9 min per seed."""
    return SocialTrainArgs(condition="listening", games=20_000)


def social_speaking() -> SocialTrainArgs:
    """(c) The win reward + listening + the speaking reward (a message is rewarded by how
    far it moves the other crewmates' beliefs towards the impostor). 20,000 games, ~9 min per seed."""
    return SocialTrainArgs(condition="speaking", games=20_000)


RECIPES = [recipe(TASK, "crew", make_args, unit="games") for make_args in (social_win, social_listening, social_speaking)]


def held_out_games(policy: Any, seeds: Sequence[int], rules: dict[str, Any]) -> list[dict]:
    """Each game's metrics over ``seeds`` against each impostor of the pool crews train against."""
    from gymarena.baselines.social_rl.training import evaluate

    return [m for impostor in IMPOSTORS for m in evaluate(policy, list(seeds), impostor, rules)]


def crew_win_rate(policy: Any, args: SocialTrainArgs, seeds: range = EVALUATION_SEEDS) -> float:
    """The crew's win rate over ``seeds`` against each impostor of the pool it trained against."""
    return float(np.mean([m["crew_win"] for m in held_out_games(policy, seeds, args.rules)]))


def write_checkpoint(recipe: Recipe, args: SocialTrainArgs, policy: Any, wall_seconds: float,
                     root: Path | None = None) -> tuple[Path, float]:
    """Save a trained policy as the recipe's checkpoint of ``args.seed``, with its training
    record (evaluated first: a record always describes the policy beside it); the
    checkpoint and the crew's win rate."""
    from gymarena import provenance
    from gymarena.baselines.social_rl.player import save_policy
    from gymarena.wrappers import family_of, simulator_versions

    rate = crew_win_rate(policy, args)
    directory = checkpoint_dir(root or default_root(), recipe.name, args.seed)
    path = save_policy(policy, args, directory / CHECKPOINT_FILE)
    record = {
        "recipe": recipe.name, "task": recipe.task, "algorithm": recipe.algorithm, "seed": args.seed,
        "args": dataclasses.asdict(args), "games": args.games, "wall_seconds": round(wall_seconds, 1),
        "score": rate, "crew_win": rate, "crew_win_seeds": [EVALUATION_SEEDS.start, EVALUATION_SEEDS.stop - 1],
        "provenance": provenance.collect(sorted(simulator_versions(family_of(get_task(recipe.task)).name))),
    }
    (directory / TRAINING_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path, rate


def train(recipe: Recipe, seed: int, root: Path | None, games: int | None, say: Callable[[str], None]) -> Path:
    """Train one seed of a crew recipe and write its checkpoint and record; the checkpoint."""
    from gymarena.baselines.social_rl.training import train as train_crew

    threads = set_torch_threads()
    args = dataclasses.replace(recipe.args, seed=seed, games=games or recipe.args.games)
    label = f"{recipe.name} seed {seed}"
    say(f"{label}: training {args.games:,} games on {threads} torch thread(s)")
    started = last = time.perf_counter()

    def progress(line: str) -> None:
        nonlocal last
        if (now := time.perf_counter()) - last >= PROGRESS_SECONDS:
            last = now
            say(f"{label}: {line}")

    run = train_crew(args, say=progress)
    wall_seconds = time.perf_counter() - started
    path, rate = write_checkpoint(recipe, args, run.policy, wall_seconds, root)
    say(f"{label}: {args.games} games in {wall_seconds:.0f} s, crew win rate {rate:.3f}")
    return path


def identity(recipe: Recipe) -> AlgorithmIdentity:
    """The algorithm each seed's checkpoint of a crew recipe is a training run of: one per
    condition (the paper's three training methods), named by it, with its arguments' digest."""
    from gymarena.baselines.algorithms import BASELINE_VERSION, recipe_fields
    from gymarena.protocol import digest

    return AlgorithmIdentity(f"CREW-PPO-{recipe.args.condition.upper()}", BASELINE_VERSION, digest(recipe_fields(recipe)))


def code_digest() -> bytes:
    """The code that plays a crew checkpoint, by its declared version: part of a trained crew
    agent's identity, beside the checkpoint's bytes."""
    from gymarena.versions import CREW_PLAYER

    return CREW_PLAYER.identity_bytes()


def agent(path: Path, task: TaskSpec, observation_space: Any, action_space: Any, device: str = "cpu") -> Any:
    """Every seat of the task's table played from a crew checkpoint (torch on the CPU)."""
    from gymarena.baselines.social_rl.player import crew_agent

    return crew_agent(path, action_space, task.kwargs)
