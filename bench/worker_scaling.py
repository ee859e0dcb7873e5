"""How much faster do 2 worker processes evaluate a MuJoCo task than 1?

Baseline: `gymarena eval --workers 1` (the local backend, one process) on
mujoco/HalfCheetah-v5 with the random agent. Measured: `--workers 2` (the processes
backend: two spawned workers, each with its own env and agent, whole episodes per task
message). Both play the same 200 episodes of 1,000 steps into a SQLite database, and
the wall time includes the workers' start-up.

    python bench/worker_scaling.py     # last line: ratio <throughput with 2 / with 1>
Target: ratio >= 1.8 on 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import gymarena
from gymarena.results import ResultsStore

TASK = "mujoco/HalfCheetah-v5"
SEEDS = tuple(range(10))
EPISODES = 20  # per seed: 200 episodes, 200k steps


def timed_eval(store: ResultsStore, workers: int) -> tuple[float, int]:
    request = gymarena.EvalRequest(tasks=(TASK,), seeds=SEEDS, episodes=EPISODES, workers=workers, fresh=True)
    start = time.perf_counter()
    result = gymarena.evaluate(request, store)
    elapsed = time.perf_counter() - start
    assert result.run.status == "complete"
    return elapsed, sum(r.length for r in store.episodes(result.run.id))


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, ResultsStore(f"sqlite:///{Path(directory) / 'bench.sqlite'}") as store:
        one_time, one_steps = timed_eval(store, 1)
        two_time, two_steps = timed_eval(store, 2)
    assert one_steps == two_steps
    one_rate, two_rate = one_steps / one_time, two_steps / two_time
    print(f"steps per run: {one_steps}")
    print(f"1 worker (local backend): {one_time:.2f} s ({one_rate:,.0f} steps/s)")
    print(f"2 workers (processes backend): {two_time:.2f} s ({two_rate:,.0f} steps/s)")
    print(f"ratio {two_rate / one_rate:.2f}")


if __name__ == "__main__":
    main()
