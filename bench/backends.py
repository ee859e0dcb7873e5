"""Throughput of the local, processes and ray backends on one CPU-bound task.

    python bench/backends.py [--task mujoco/HalfCheetah-v5] [--episodes 25] [--workers 2]

A random agent plays the same episodes (seeds 0-3) through ``gymarena.evaluate`` into a
throwaway SQLite database on each backend: ``local`` (one process), ``processes`` and
``ray`` with ``--workers`` (a local Ray instance started before the timing, as a cluster
would be running already). Prints steps per second of each; the last line is the ray
backend's throughput over the processes backend's (the named baseline).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gymarena.results import ResultsStore
from gymarena.runner import EvalRequest, evaluate


def throughput(backend: str, task: str, episodes: int, workers: int, directory: Path) -> float:
    with ResultsStore(f"sqlite:///{directory / (backend + '.sqlite')}") as store:
        start = time.perf_counter()
        result = evaluate(EvalRequest(tasks=(task,), seeds=(0, 1, 2, 3), episodes=episodes, backend=backend,
                                      workers=1 if backend == "local" else workers, fresh=True), store)
        seconds = time.perf_counter() - start
        steps = sum(r.env_steps for r in store.episodes(result.run.id))
    print(f"{backend:10} {steps / seconds:10.0f} steps/s  ({steps} steps in {seconds:.1f} s)", flush=True)
    return steps / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mujoco/HalfCheetah-v5")
    parser.add_argument("--episodes", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    with tempfile.TemporaryDirectory() as directory:
        rates = {b: throughput(b, args.task, args.episodes, args.workers, Path(directory))
                 for b in ("local", "processes", "ray")}
    ray.shutdown()
    print(f"ratio {rates['ray'] / rates['processes']:.2f}")


if __name__ == "__main__":
    main()
