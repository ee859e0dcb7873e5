"""SAC recipes (Stable-Baselines3) for MuJoCo, short budgets, and SAC-J: SAC trained with
each action repeated J times (the SRL paper's baseline for the FAS sweep).

Each recipe function returns its :class:`SACArgs`; its docstring states the budget and the
wall time of one seed measured here (2 cores, no GPU, two to four trainings at once). The
budget counts primitive env steps, so SAC-4 makes a quarter of SAC-1's decisions and
gradient updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymarena.baselines.training import recipe


@dataclass(frozen=True)
class SACArgs:
    """SAC's arguments, named as Stable-Baselines3 names them, and the action repeat J."""

    total_steps: int
    learning_rate: float = 3e-4
    buffer_size: int = 1_000_000
    learning_starts: int = 5_000
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    train_freq: int = 1
    gradient_steps: int = 1
    net_arch: tuple[int, ...] = (256, 256)
    action_repeat: int = 1


def build(env: Any, args: SACArgs, seed: int) -> Any:
    """An untrained SAC on a (one-env) vectorised env, whose steps repeat each action J times."""
    from stable_baselines3 import SAC

    return SAC("MlpPolicy", env, learning_rate=args.learning_rate, buffer_size=args.buffer_size,
               learning_starts=max(1, args.learning_starts // args.action_repeat), batch_size=args.batch_size,
               gamma=args.gamma, tau=args.tau, train_freq=args.train_freq, gradient_steps=args.gradient_steps,
               seed=seed, device="cpu", policy_kwargs={"net_arch": list(args.net_arch)})


def sac_inverted_pendulum() -> SACArgs:
    """SAC on InvertedPendulum-v5. 20k steps, ~5 min per seed (at 10k steps greedy returns were 100-130 of 1,000)."""
    return SACArgs(total_steps=20_000, learning_starts=1_000)


def sac_hopper() -> SACArgs:
    """SAC on Hopper-v5, short budget (SAC-1 of the FAS comparison). 30k steps, ~10 min per seed."""
    return SACArgs(total_steps=30_000)


def sac_hopper_j4() -> SACArgs:
    """SAC-4 on Hopper-v5: each action played 4 times. 30k primitive steps (7.5k decisions), ~2 min per seed."""
    return SACArgs(total_steps=30_000, action_repeat=4)


RECIPES = [
    recipe("mujoco/InvertedPendulum-v5", "sac", sac_inverted_pendulum),
    recipe("mujoco/Hopper-v5", "sac", sac_hopper),
    recipe("mujoco/Hopper-v5", "sac", sac_hopper_j4),
]
