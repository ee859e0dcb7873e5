"""What does running a simulator in its own runtime cost per step?

Baseline: a task's env built in this process (``make_env(task, isolated=False)``).
Measured: the same task behind ``RemoteEnv``: its env server in another process, every
``reset`` and ``step`` a frame each way over pipes (observations as raw numpy buffers).
The server runs under this interpreter, so the difference is the isolation's own cost,
not another Python's. Both play the same seeded random actions for ``--steps`` steps.

    python bench/isolation.py                       # MiniGrid DoorKey-8x8 (dict observations)
    python bench/isolation.py --task mujoco/HalfCheetah-v5
Prints microseconds per step of both and the overhead; last line: ratio <isolated time
per step / in-process time per step>. The overhead is about one pipe round trip between
two processes (~170 us of wake-ups on a 2-core VM, plus ~50 us encoding and decoding
frames), whatever the task: it matters for microsecond-step simulators (CartPole), little
for those whose step costs a millisecond or more.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import gymarena
from gymarena.runtimes.remote_env import RemoteEnv
from gymarena.wrappers import make_local_env


def seconds_per_step(env, steps: int) -> float:
    rng = np.random.default_rng(0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(1000)]
    env.reset(seed=0)
    started = time.perf_counter()
    for _step in range(steps):
        _, _, terminated, truncated, _ = env.step(actions[int(rng.integers(len(actions)))])
        if terminated or truncated:
            env.reset()
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="minigrid/DoorKey-8x8-v0")
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    task = gymarena.get_task(args.task)
    local, remote = make_local_env(task), RemoteEnv(task, sys.executable)
    try:
        seconds_per_step(local, 1000), seconds_per_step(remote, 1000)  # warm both
        in_process = seconds_per_step(local, args.steps)
        isolated = seconds_per_step(remote, args.steps)
    finally:
        local.close()
        remote.close()
    print(f"{args.task}: in process {in_process * 1e6:.1f} us/step, isolated {isolated * 1e6:.1f} us/step "
          f"(+{(isolated - in_process) * 1e6:.1f} us per step)")
    print(f"ratio {isolated / in_process:.2f}")


if __name__ == "__main__":
    main()
