"""How fast does gymarena evaluate a neural agent with --batch, against a hand-written vector loop?

Two policies with random weights (torch, one thread): an MLP (2 x 256, tanh) on
classic/Pendulum-v1 and a small CNN (two conv layers, as in the Nature DQN but narrower)
on minigrid/DoorKey-5x5-RGB-v0 (56x56 RGB pixels). Each task is played three ways, the
same number of steps each:

- gymarena, unbatched: ``evaluate()`` on the local backend, ``act`` once per step;
- gymarena, ``--batch 16``: the same episodes, ``act_batch`` once per step for 16 envs;
- baseline: a hand-written ``gymnasium.vector.SyncVectorEnv`` of 16 envs of the same task
  with one forward pass per step, as a user would write it (no store, no checks).

Both gymarena modes store every episode in a SQLite database. Each is timed ``REPEATS``
times, alternating, and the best kept. If EnvPool is installed, its Pendulum-v1 with the
same MLP is printed as a reference line.

    python bench/batched.py        # last line: ratio <batched / unbatched gymarena steps/s, the smaller of the two tasks>
Goals: ratio >= 5, and batched gymarena >= 0.8x the hand-written vector loop.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium
import numpy as np
import torch
from torch import nn

import gymarena
from gymarena.results import ResultsStore
from gymarena.tasks import get_task
from gymarena.wrappers import make_env

torch.set_num_threads(1)
BATCH = 16
REPEATS = 2
THIS_FILE = Path(__file__).resolve()


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 256), nn.Tanh(), nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 1), nn.Tanh())


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 16, 8, stride=4), nn.ReLU(), nn.Conv2d(16, 32, 4, stride=2), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 7))


class PendulumMLP:
    """Torque = 2 tanh(MLP(observation)): one forward pass per call of act or act_batch."""

    def __init__(self, task=None, observation_space=None, action_space=None):
        self.net = mlp()

    def reset(self, seed=None):
        pass

    @torch.no_grad()
    def act_batch(self, observations: np.ndarray) -> np.ndarray:
        return (2.0 * self.net(torch.as_tensor(observations, dtype=torch.float32))).numpy()

    def act(self, observation: np.ndarray) -> np.ndarray:
        return self.act_batch(observation[None])[0]


class PixelCNN:
    """The greedy action of a CNN over the 56x56 RGB view."""

    def __init__(self, task=None, observation_space=None, action_space=None):
        self.net = cnn()

    def reset(self, seed=None):
        pass

    @torch.no_grad()
    def act_batch(self, observations: np.ndarray) -> np.ndarray:
        pixels = torch.as_tensor(observations).permute(0, 3, 1, 2).float().div_(255.0)
        return self.net(pixels).argmax(dim=1).numpy()

    def act(self, observation: np.ndarray) -> int:
        return int(self.act_batch(observation[None])[0])


CASES = {  # task: (agent class, seeds, episodes per seed)
    "classic/Pendulum-v1": (PendulumMLP, 4, 40),  # 160 episodes x 200 steps
    "minigrid/DoorKey-5x5-RGB-v0": (PixelCNN, 4, 12),  # 48 episodes of up to 250 steps
}


def timed_gymarena(store: ResultsStore, task: str, batch: int) -> tuple[float, int]:
    agent, seeds, episodes = CASES[task]
    request = gymarena.EvalRequest(tasks=(task,), agent=f"{THIS_FILE}:{agent.__name__}", seeds=tuple(range(seeds)),
                                   episodes=episodes, batch=batch, fresh=True)
    start = time.perf_counter()
    result = gymarena.evaluate(request, store)
    elapsed = time.perf_counter() - start
    assert result.run.status == "complete" and result.played == seeds * episodes
    return elapsed, sum(r.length for r in store.episodes(result.run.id))


def timed_vector_loop(task: str, steps: int) -> float:
    """16 envs of the task in gymnasium's SyncVectorEnv, one forward pass per step for all."""
    agent = CASES[task][0]()
    spec = get_task(task)
    envs = gymnasium.vector.SyncVectorEnv([lambda: make_env(spec) for _ in range(BATCH)])
    start = time.perf_counter()
    observations, _ = envs.reset(seed=0)
    for _ in range(steps // BATCH):
        observations, _, _, _, _ = envs.step(agent.act_batch(observations))
    elapsed = time.perf_counter() - start
    envs.close()
    return elapsed


def envpool_reference(steps: int) -> str:
    try:
        import envpool
    except ImportError:
        return "EnvPool Pendulum-v1: not installed (pip install envpool for its reference line)"
    except Exception as exc:  # envpool 1.2.5's wheel lacks data files its import reads
        return f"EnvPool Pendulum-v1: installed but fails to import ({type(exc).__name__}: {str(exc)[:120]})"
    agent = PendulumMLP()
    envs = envpool.make("Pendulum-v1", env_type="gymnasium", num_envs=BATCH)
    start = time.perf_counter()
    observations, _ = envs.reset()
    for _ in range(steps // BATCH):
        observations, *_ = envs.step(agent.act_batch(observations))
    return f"EnvPool Pendulum-v1 (reference, {BATCH} envs): {steps / (time.perf_counter() - start):,.0f} steps/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as directory, ResultsStore(f"sqlite:///{Path(directory) / 'bench.sqlite'}") as store:
        for task in CASES:
            timed_gymarena(store, task, BATCH)  # warm-up: imports, first forward passes
            best: dict[str, float] = {}
            for _ in range(args.repeats):
                for mode, batch in (("unbatched", 1), ("batched", BATCH)):
                    seconds, steps = timed_gymarena(store, task, batch)
                    best[mode] = max(best.get(mode, 0.0), steps / seconds)
                best["vector loop"] = max(best.get("vector loop", 0.0), steps / timed_vector_loop(task, steps))
            print(f"{task} ({steps:,} steps, {BATCH} envs):")
            for mode, rate in best.items():
                print(f"  {mode:>11}: {rate:>9,.0f} steps/s")
            ratio, of_loop = best["batched"] / best["unbatched"], best["batched"] / best["vector loop"]
            print(f"  batched / unbatched gymarena {ratio:.2f} (goal 5); batched gymarena / vector loop {of_loop:.2f} (goal 0.8)")
            ratios.append(ratio)
        print(envpool_reference(32_000))
    print(f"ratio {min(ratios):.2f}")


if __name__ == "__main__":
    main()
