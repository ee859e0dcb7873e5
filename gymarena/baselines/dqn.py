"""DQN recipes (Stable-Baselines3): CartPole, MountainCar, MiniGrid (Empty, DoorKey, and the
LavaGap / Dynamic-Obstacles settings of the offline-dataset suite), highway-fast and
SUMO's single intersection.

Each recipe function returns its :class:`DQNArgs`; its docstring states the budget and the
wall time of one seed measured here (2 cores, no GPU, two to four trainings at once).
``gymarena dataset make-suite`` trains the DQN recipe of its task for the requested number
of transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymarena.baselines.training import recipe


@dataclass(frozen=True)
class DQNArgs:
    """DQN's arguments, named as Stable-Baselines3 names them."""

    total_steps: int
    learning_rate: float = 1e-4
    buffer_size: int = 100_000
    learning_starts: int = 1_000
    batch_size: int = 64
    gamma: float = 0.99
    train_freq: int = 4
    gradient_steps: int = 1
    target_update_interval: int = 1_000
    exploration_fraction: float = 0.2
    exploration_final_eps: float = 0.05
    net_arch: tuple[int, ...] = (64, 64)


def build(env: Any, args: DQNArgs, seed: int) -> Any:
    """An untrained DQN on a (one-env) vectorised env."""
    from stable_baselines3 import DQN

    return DQN("MlpPolicy", env, learning_rate=args.learning_rate, buffer_size=args.buffer_size,
               learning_starts=args.learning_starts, batch_size=args.batch_size, gamma=args.gamma,
               train_freq=args.train_freq, gradient_steps=args.gradient_steps,
               target_update_interval=args.target_update_interval, exploration_fraction=args.exploration_fraction,
               exploration_final_eps=args.exploration_final_eps, seed=seed, device="cpu",
               policy_kwargs={"net_arch": list(args.net_arch)})


def dqn_cartpole() -> DQNArgs:
    """DQN on CartPole-v1. 100k steps, ~1.5 min per seed. rl-baselines3-zoo's arguments (lr
    2.3e-3, 128 gradient steps every 256 steps) reach 500 but swing: two 100k-step runs of
    ``dataset make-suite`` ended at 126-136 right after their last round of updates. One
    update every 4 steps at lr 1e-3 ended both of the same runs at 500."""
    return DQNArgs(total_steps=100_000, learning_rate=1e-3, batch_size=64, buffer_size=100_000, learning_starts=1_000,
                   gamma=0.99, target_update_interval=500, train_freq=4, gradient_steps=1,
                   exploration_fraction=0.1, exploration_final_eps=0.02, net_arch=(256, 256))


def dqn_mountaincar() -> DQNArgs:
    """DQN on MountainCar-v0 (rl-baselines3-zoo's arguments). 120k steps, ~2 min per seed."""
    return DQNArgs(total_steps=120_000, learning_rate=4e-3, batch_size=128, buffer_size=10_000, learning_starts=1_000,
                   gamma=0.98, target_update_interval=600, train_freq=16, gradient_steps=8,
                   exploration_fraction=0.2, exploration_final_eps=0.07, net_arch=(256, 256))


def _minigrid(total_steps: int) -> DQNArgs:
    # Tried on Empty-8x8 (60k steps, 2 seeds): these reach 0.95; lr 1e-4, gamma 0.99, 128x128,
    # target update 1k and 50% exploration left both greedy policies circling (return 0).
    return DQNArgs(total_steps=total_steps, learning_rate=2.5e-4, batch_size=128, learning_starts=2_000,
                   gamma=0.95, target_update_interval=500, train_freq=4, exploration_fraction=0.4,
                   exploration_final_eps=0.02, net_arch=(256, 256))


def dqn_minigrid_empty() -> DQNArgs:
    """DQN on MiniGrid Empty-8x8 from the flattened 7x7 view. 60k steps, ~1.5 min per seed."""
    return _minigrid(60_000)


def dqn_minigrid_doorkey() -> DQNArgs:
    """DQN on MiniGrid DoorKey-5x5 from the flattened view. 100k steps, ~3 min per seed."""
    return _minigrid(100_000)


def dqn_lavagap() -> DQNArgs:
    """DQN on MiniGrid LavaGapS7 (the offline-dataset suite's setting). 100k steps, ~2.5 min per seed."""
    return _minigrid(100_000)


def dqn_dynamic_obstacles() -> DQNArgs:
    """DQN on MiniGrid Dynamic-Obstacles-8x8 (the offline-dataset suite's setting). 100k steps, ~2.5 min per seed."""
    return _minigrid(100_000)


def dqn_highway() -> DQNArgs:
    """DQN on highway-fast (highway-env's example arguments: gamma 0.8, 256x256, target
    update every 50). 6k steps (the example's 20k cut short), ~4 min per seed."""
    return DQNArgs(total_steps=6_000, learning_rate=5e-4, buffer_size=15_000, learning_starts=200, batch_size=32,
                   gamma=0.8, train_freq=1, gradient_steps=1, target_update_interval=50, exploration_fraction=0.7,
                   net_arch=(256, 256))


def dqn_intersection() -> DQNArgs:
    """DQN on SUMO's single intersection (sumo-rl's example arguments). 14,400 steps
    (20 one-hour episodes), ~1 min per seed."""
    return DQNArgs(total_steps=14_400, learning_rate=1e-3, learning_starts=0, train_freq=1, target_update_interval=500,
                   exploration_fraction=0.05, exploration_final_eps=0.01)


RECIPES = [
    recipe("classic/CartPole-v1", "dqn", dqn_cartpole),
    recipe("classic/MountainCar-v0", "dqn", dqn_mountaincar),
    recipe("minigrid/Empty-8x8-v0", "dqn", dqn_minigrid_empty),
    recipe("minigrid/DoorKey-5x5-v0", "dqn", dqn_minigrid_doorkey),
    recipe("minigrid/LavaGapS7-v0", "dqn", dqn_lavagap),
    recipe("minigrid/Dynamic-Obstacles-8x8-v0", "dqn", dqn_dynamic_obstacles),
    recipe("highway/HighwayFast-v0", "dqn", dqn_highway),
    recipe("traffic/SingleIntersection-v0", "dqn", dqn_intersection),
]
