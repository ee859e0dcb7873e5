"""PPO recipes (Stable-Baselines3): CartPole, MiniGrid Empty and DoorKey, highway-fast and
SUMO's single intersection.

Each recipe function returns its :class:`PPOArgs`; its docstring states the budget and the
wall time of one seed measured here with ``gymarena baselines train`` (2 cores, no GPU,
two to four trainings at once).
Hyperparameters follow rl-baselines3-zoo (CartPole, MiniGrid) and highway-env's own PPO
example; budgets are cut short so every recipe trains in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymarena.baselines.training import recipe


@dataclass(frozen=True)
class PPOArgs:
    """PPO's arguments, named as Stable-Baselines3 names them."""

    total_steps: int
    n_envs: int = 8
    n_steps: int = 128
    batch_size: int = 64
    n_epochs: int = 10
    learning_rate: float = 2.5e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.0
    net_arch: tuple[int, ...] = (64, 64)


def build(env: Any, args: PPOArgs, seed: int) -> Any:
    """An untrained PPO on a vectorised env."""
    from stable_baselines3 import PPO

    return PPO("MlpPolicy", env, n_steps=args.n_steps, batch_size=args.batch_size, n_epochs=args.n_epochs,
               learning_rate=args.learning_rate, gamma=args.gamma, gae_lambda=args.gae_lambda,
               clip_range=args.clip_range, ent_coef=args.ent_coef, seed=seed, device="cpu",
               policy_kwargs={"net_arch": list(args.net_arch)})


def ppo_cartpole() -> PPOArgs:
    """PPO on CartPole-v1 (rl-baselines3-zoo's arguments). 100k steps, ~30 s per seed."""
    return PPOArgs(total_steps=100_000, n_envs=8, n_steps=32, batch_size=256, n_epochs=20, learning_rate=1e-3,
                   gamma=0.98, gae_lambda=0.8)


def ppo_minigrid_empty() -> PPOArgs:
    """PPO on MiniGrid Empty-8x8 from the flattened 7x7 egocentric view. 100k steps, ~1.5 min per seed
    (at 60k steps one seed in three still ended with a greedy policy that circles)."""
    return PPOArgs(total_steps=100_000)


def ppo_minigrid_doorkey() -> PPOArgs:
    """PPO on MiniGrid DoorKey-5x5 from the flattened view, with an entropy bonus. 150k steps, ~3 min per seed."""
    return PPOArgs(total_steps=150_000, ent_coef=0.01)


def ppo_highway() -> PPOArgs:
    """PPO on highway-fast (highway-env's example arguments: gamma 0.8, 256x256). 6k steps
    (the example's 20k cut short), ~3 min per seed: highway-fast runs ~45 steps/s."""
    return PPOArgs(total_steps=6_000, n_envs=1, n_steps=512, batch_size=64, n_epochs=10, learning_rate=5e-4,
                   gamma=0.8, net_arch=(256, 256))


def ppo_intersection() -> PPOArgs:
    """PPO on SUMO's single intersection (one env: libsumo runs one simulation per process).
    14,400 steps (20 one-hour episodes), ~30 s per seed."""
    return PPOArgs(total_steps=14_400, n_envs=1, n_steps=720, batch_size=120, n_epochs=10, learning_rate=1e-3)


RECIPES = [
    recipe("classic/CartPole-v1", "ppo", ppo_cartpole),
    recipe("minigrid/Empty-8x8-v0", "ppo", ppo_minigrid_empty),
    recipe("minigrid/DoorKey-5x5-v0", "ppo", ppo_minigrid_doorkey),
    recipe("highway/HighwayFast-v0", "ppo", ppo_highway),
    recipe("traffic/SingleIntersection-v0", "ppo", ppo_intersection),
]
