"""Training a recipe: the env it learns on, the checkpoint it leaves, what it measured.

A recipe (:class:`Recipe`, defined in :mod:`ppo`, :mod:`dqn`, :mod:`sac`) names a task,
an algorithm and a dataclass of its arguments. :func:`train` learns it for one seed on the
task's own environment (built by ``make_env``, so with the task's protocol), seen through
:func:`~gymarena.baselines.observations.policy_view`, and writes

    ROOT/RECIPE/seedN/model.zip       the Stable-Baselines3 checkpoint
    ROOT/RECIPE/seedN/training.json   recipe, arguments, budget, wall time, versions

ROOT is ``GYMARENA_BASELINES`` or ``~/.cache/gymarena/baselines``. Checkpoints do not ship
with gymarena (``gymarena baselines train`` makes them); their evaluations do
(:mod:`gymarena.baselines.publish`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gymarena.baselines.observations import PolicyObservation
from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec, get_task

CHECKPOINT_FILE = "model.zip"
TRAINING_FILE = "training.json"


@dataclass(frozen=True)
class Recipe:
    """One trained baseline: an algorithm's arguments for one task."""

    name: str
    task: str
    algorithm: str
    args: Any  # the algorithm module's argument dataclass
    about: str  # the recipe function's docstring: budget and wall time
    unit: str = "steps"  # what the budget counts: env steps (args.total_steps) or games (args.games)

    @property
    def budget_field(self) -> str:
        return "total_steps" if self.unit == "steps" else self.unit

    @property
    def budget(self) -> int:
        """The training budget, in ``unit``."""
        return int(getattr(self.args, self.budget_field))

    def args_with_budget(self, budget: int | None) -> Any:
        """The arguments, with another budget when one is given."""
        return self.args if budget is None else dataclasses.replace(self.args, **{self.budget_field: budget})


NEEDS_BASELINES = "trained baselines need Stable-Baselines3 and torch: pip install 'gymarena[baselines]'"


def recipe(task: str, algorithm: str, make_args: Callable[[], Any], unit: str = "steps") -> Recipe:
    """A recipe from the function that makes its arguments (its docstring says the budget)."""
    name = make_args.__name__.replace("_", "-")
    return Recipe(name, task, algorithm, make_args(), (make_args.__doc__ or "").strip(), unit)


def algorithm_class(algorithm: str) -> Any:
    """The Stable-Baselines3 class of an algorithm name."""
    try:
        import stable_baselines3
    except ImportError:
        raise GymarenaError(NEEDS_BASELINES) from None
    classes = {"ppo": stable_baselines3.PPO, "dqn": stable_baselines3.DQN, "sac": stable_baselines3.SAC,
               "a2c": stable_baselines3.A2C, "td3": stable_baselines3.TD3}
    try:
        return classes[algorithm]
    except KeyError:
        raise GymarenaError(f"unknown algorithm {algorithm!r}; known: {', '.join(sorted(classes))}") from None


class ActionRepeat(gym.Wrapper):
    """Each action is played ``repeat`` times; the rewards are summed (SAC-J's J)."""

    def __init__(self, env: gym.Env, repeat: int):
        super().__init__(env)
        if repeat < 1:
            raise GymarenaError(f"action repeat must be at least 1, not {repeat}")
        self.repeat = repeat

    def step(self, action: Any):
        total = 0.0
        for _ in range(self.repeat):
            observation, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return observation, total, terminated, truncated, info


def policy_env(task: TaskSpec, action_repeat: int = 1) -> gym.Env:
    """The task's env as a policy learns on it."""
    from gymarena.wrappers import make_env

    env = PolicyObservation(make_env(task))
    return ActionRepeat(env, action_repeat) if action_repeat > 1 else env


def greedy_return(model: Any, task: TaskSpec, seeds: range) -> float:
    """Mean return of the deterministic policy, one episode per seed, at action repeat 1."""
    env = policy_env(task)
    try:
        returns = []
        for seed in seeds:
            observation, _ = env.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                action, _ = model.predict(observation, deterministic=True)
                observation, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        return float(np.mean(returns))
    finally:
        env.close()


EVALUATION_SEEDS = range(10_000, 10_010)  # apart from the training seeds and every suite's


def build_model(recipe: Recipe, seed: int, total_steps: int | None = None,
                wrap: Callable[[gym.Env], gym.Env] | None = None) -> Any:
    """The untrained model of a recipe on its task's env (vectorised as its arguments say),
    each env wrapped by ``wrap`` when given; returns the model and its arguments."""
    from stable_baselines3.common.env_util import make_vec_env

    from gymarena.baselines import algorithms

    task = get_task(recipe.task)
    args = recipe.args_with_budget(total_steps)
    repeat = getattr(args, "action_repeat", 1)
    env = make_vec_env(lambda: (wrap or _same)(policy_env(task, repeat)), n_envs=getattr(args, "n_envs", 1), seed=seed)
    return algorithms.module(recipe.algorithm).build(env, args, seed), args


def _same(env: gym.Env) -> gym.Env:
    return env


def default_root() -> Path:
    """Where trained checkpoints are written and looked for."""
    return Path(os.environ.get("GYMARENA_BASELINES") or Path.home() / ".cache" / "gymarena" / "baselines").expanduser()


def checkpoint_dir(root: Path, recipe_name: str, seed: int) -> Path:
    return root / recipe_name / f"seed{seed}"


def checkpoint_file(recipe: Recipe) -> str:
    """The name of a recipe's checkpoint file: its algorithm module's, else SB3's."""
    from gymarena.baselines import algorithms

    return str(algorithms.hook(recipe.algorithm, "CHECKPOINT_FILE") or CHECKPOINT_FILE)


# Checkpoints that ship with gymarena (the social ablation's nine crews), in the layout of a root.
SHIPPED_ROOT = Path(__file__).resolve().parent / "published" / "checkpoints"


def find_checkpoint(recipe: Recipe, seed: int, root: Path | None = None) -> Path | None:
    """The checkpoint of a recipe and seed in ``root``; without one, in the default root if
    trained there, else the one that ships (so a published result can be re-evaluated
    without training)."""
    roots = [root] if root is not None else [default_root(), SHIPPED_ROOT]
    for where in roots:
        path = checkpoint_dir(where, recipe.name, seed) / checkpoint_file(recipe)
        if path.is_file():
            return path
    return None


TORCH_THREADS_ENV = "GYMARENA_TORCH_THREADS"
PROGRESS_SECONDS = 10.0


def set_torch_threads() -> int:
    """Torch's intra-op threads for training: $GYMARENA_TORCH_THREADS, else 1. The recipes'
    networks are small MLPs, for which more threads only add synchronisation (5,000 PPO
    steps on CartPole: about 2 s on one thread, 20-59 s with torch's default on a busy
    2-core machine)."""
    try:
        import torch
    except ImportError:
        raise GymarenaError(NEEDS_BASELINES) from None

    threads = int(os.environ.get(TORCH_THREADS_ENV, "1"))
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


def progress_callback(label: str, total_steps: int, say: Callable[[str], None], seconds: float = PROGRESS_SECONDS):
    """An SB3 callback that says, every ``seconds``, how far training is: steps, the mean
    return of the episodes finished since the last line, and the time left at this pace."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def _on_training_start(self) -> None:
            self.started = self.last = time.perf_counter()
            self.returns: list[float] = []

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "episode" in info:  # SB3's Monitor: a finished episode
                    self.returns.append(float(info["episode"]["r"]))
            now = time.perf_counter()
            if now - self.last >= seconds:
                self.last = now
                done = self.num_timesteps
                left = (now - self.started) / max(done, 1) * max(total_steps - done, 0)
                mean = f", mean return {sum(self.returns) / len(self.returns):.4g}" if self.returns else ""
                say(f"{label}: {done:,}/{total_steps:,} steps{mean}, about {left:.0f} s left")
                self.returns = []
            return True

    return Progress()


def train(recipe: Recipe, seed: int, root: Path | None = None, total_steps: int | None = None,
          say: Callable[[str], None] = print) -> Path:
    """Train one seed of a recipe and write its checkpoint and training record; returns the
    checkpoint. An algorithm module with a ``train`` of its own (the crew recipes) trains its
    recipes itself; the others are Stable-Baselines3's."""
    from gymarena import provenance
    from gymarena.baselines import algorithms
    from gymarena.wrappers import family_of, simulator_versions

    own = algorithms.hook(recipe.algorithm, "train")
    if own is not None:
        return own(recipe, seed, root, total_steps, say)
    threads = set_torch_threads()
    model, args = build_model(recipe, seed, total_steps)
    decisions = args.total_steps // getattr(args, "action_repeat", 1)  # SB3 counts decisions
    say(f"{recipe.name} seed {seed}: training {decisions:,} steps on {threads} torch thread(s)")
    started = time.perf_counter()
    model.learn(total_timesteps=decisions,
                callback=progress_callback(f"{recipe.name} seed {seed}", decisions, say, PROGRESS_SECONDS))
    wall_seconds = time.perf_counter() - started
    model.get_env().close()  # libsumo runs one simulation per process: free it before evaluating
    task = get_task(recipe.task)
    final = greedy_return(model, task, EVALUATION_SEEDS)
    directory = checkpoint_dir(root or default_root(), recipe.name, seed)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / CHECKPOINT_FILE)
    record = {
        "recipe": recipe.name, "task": recipe.task, "algorithm": recipe.algorithm, "seed": seed,
        "args": dataclasses.asdict(args), "total_steps": args.total_steps,
        "wall_seconds": round(wall_seconds, 1), "greedy_return": final, "score": final,
        "greedy_return_seeds": [EVALUATION_SEEDS.start, EVALUATION_SEEDS.stop - 1],
        "provenance": provenance.collect(sorted(simulator_versions(family_of(task).name))),
    }
    (directory / TRAINING_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    say(f"{recipe.name} seed {seed}: {args.total_steps} steps in {wall_seconds:.0f} s, greedy return {final:.4g}")
    return directory / CHECKPOINT_FILE
