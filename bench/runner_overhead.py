"""What does the gymarena runner cost per step over a hand-written Gymnasium loop?

Baseline: a hand-written loop over the same episodes of CartPole-v1 with the same
protocol (each episode reset with its own seed, uniformly random actions from a seeded
action space). gymarena: `evaluate()` with the built-in random agent on the local
backend, episodes committed to a SQLite database as they finish.
Both play the same ~100k steps; each is timed 3 times, alternating, and the best kept.

    python bench/runner_overhead.py          # last line: ratio <gymarena time / loop time>
Target: ratio <= 1.05.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import gymnasium
import numpy as np

import gymarena
from gymarena.results import ResultsStore

SEEDS = tuple(range(50))
EPISODES = 90  # per seed: 4,500 episodes of ~22 random steps, about 100k steps
REPEATS = 3


def hand_written_loop() -> int:
    """What a careful user writes to evaluate: per-episode seeds, returns and lengths kept."""
    env = gymnasium.make("CartPole-v1")
    results = []
    for seed in SEEDS:
        for episode in range(EPISODES):
            episode_seed = int(np.random.SeedSequence(seed, spawn_key=(episode,)).generate_state(1, np.uint32)[0])
            env.action_space.seed(episode_seed)
            env.reset(seed=episode_seed)
            episode_return, length, done = 0.0, 0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                episode_return += reward
                length += 1
                done = terminated or truncated
            results.append((seed, episode, episode_return, length))
    env.close()
    return sum(length for *_, length in results)


def timed(function, *args) -> tuple[float, int]:
    start = time.perf_counter()
    steps = function(*args)
    return time.perf_counter() - start, steps


def timed_gymarena(store: ResultsStore) -> tuple[float, int]:
    """Time evaluate() alone; counting the steps afterwards reads the store and is not timed."""
    request = gymarena.EvalRequest(tasks=("classic/CartPole-v1",), seeds=SEEDS, episodes=EPISODES, fresh=True)
    start = time.perf_counter()
    result = gymarena.evaluate(request, store)
    elapsed = time.perf_counter() - start
    assert result.run.status == "complete" and result.played == len(SEEDS) * EPISODES
    return elapsed, sum(r.length for r in store.episodes(result.run.id))


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, ResultsStore(f"sqlite:///{Path(directory) / 'bench.sqlite'}") as store:
        loop_times, arena_times = [], []
        for _ in range(REPEATS):
            loop_time, loop_steps = timed(hand_written_loop)
            arena_time, arena_steps = timed_gymarena(store)
            assert loop_steps == arena_steps, (loop_steps, arena_steps)
            loop_times.append(loop_time)
            arena_times.append(arena_time)
    loop_best, arena_best = min(loop_times), min(arena_times)
    print(f"steps per run: {loop_steps}")
    print(f"hand-written gymnasium loop: {loop_best:.3f} s ({loop_steps / loop_best:,.0f} steps/s)")
    print(f"gymarena evaluate (local, SQLite): {arena_best:.3f} s ({arena_steps / arena_best:,.0f} steps/s)")
    print(f"ratio {arena_best / loop_best:.2f}")


if __name__ == "__main__":
    main()
