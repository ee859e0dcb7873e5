"""How much does gymarena slow each simulator family down, per step?

Baseline: the raw simulator as its own package offers it (Meta-World's
``gymnasium.make("Meta-World/MT1", env_name=...)``, NLE's ``gymnasium.make("NetHackScore-v0")``,
highway-env's ``gymnasium.make("highway-fast-v0")``, sumo-rl's ``SumoEnvironment`` on libsumo)
in a hand-written loop of seeded resets and uniformly random actions, seeded as
gymarena's random agent seeds them (so Meta-World replays the same arm motions). Measured:
``gymarena.evaluate`` of the same number of episodes with the built-in random agent,
on the backend a user gets by default (NetHack: ``isolated``, one supervised worker
process, started inside the timing), storing every episode in SQLite. Both sides' times
include making the env. Episodes can still differ (goals, NetHack
games), so speed is compared per step (steps/s), each side timed 3 times, the best kept.

    python bench/families.py                 # last line: ratio <worst raw steps/s / gymarena steps/s>
Target: ratio <= 1.05 for every family.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import gymnasium

import gymarena
from gymarena.protocol import episode_seed
from gymarena.results import ResultsStore

REPEATS = 3


def _metaworld() -> gymnasium.Env:
    import metaworld  # noqa: F401  registers Meta-World/MT1

    return gymnasium.make("Meta-World/MT1", env_name="reach-v3", seed=0)


def _highway() -> gymnasium.Env:
    import highway_env  # noqa: F401  registers highway-env's ids

    return gymnasium.make("highway-fast-v0")


def _traffic() -> gymnasium.Env:
    from gymarena.wrappers.traffic import import_sumo_rl, scenario_files

    sumo_rl = import_sumo_rl()  # SUMO_HOME and libsumo, as any sumo-rl user must arrange
    net, routes = scenario_files("single-intersection/single-intersection.rou.xml")
    return sumo_rl.SumoEnvironment(net_file=net, route_file=routes, single_agent=True, num_seconds=3600, sumo_warnings=False)


def _nethack() -> gymnasium.Env:
    import nle  # noqa: F401  registers NetHack*-v0

    return gymnasium.make("NetHackScore-v0", fix_moon_phase=True)  # as the -v1 tasks pin the clock


# family: (gymarena task, raw env maker, episodes per timing)
FAMILIES: dict[str, tuple[str, Callable[[], gymnasium.Env], int]] = {
    "metaworld": ("metaworld/reach-v3", _metaworld, 24),
    "nethack": ("nethack/Score-v1", _nethack, 300),
    "highway": ("highway/HighwayFast-v0", _highway, 30),
    "traffic": ("traffic/SingleIntersection-v0", _traffic, 10),
}
# Shown for the split, not in the ratio: NetHack without crash isolation.
LOCAL_TOO = {"nethack"}


def raw_steps_per_second(make: Callable[[], gymnasium.Env], episodes: int) -> float:
    start = time.perf_counter()  # making the env counts on both sides: gymarena makes its own
    env = make()
    steps = 0
    for episode in range(episodes):
        seed = episode_seed(0, episode)  # the seeds gymarena's random agent uses: the same actions
        env.action_space.seed(seed)
        env.reset(seed=seed % 2**31)  # SUMO takes 31-bit seeds (gymarena folds them the same way)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            steps += 1
            done = terminated or truncated
    elapsed = time.perf_counter() - start
    env.close()  # before gymarena makes its own: libsumo runs one simulation per process
    return steps / elapsed


def gymarena_steps_per_second(store: ResultsStore, task: str, episodes: int, backend: str | None = None) -> float:
    request = gymarena.EvalRequest(tasks=(task,), seeds=(0,), episodes=episodes, fresh=True, backend=backend)
    start = time.perf_counter()
    result = gymarena.evaluate(request, store)
    elapsed = time.perf_counter() - start
    assert result.run.status == "complete"
    return sum(r.length for r in store.episodes(result.run.id)) / elapsed


def main() -> None:
    warnings.filterwarnings("ignore")  # Meta-World's observation-space warnings, per step
    worst = 0.0
    with tempfile.TemporaryDirectory() as directory, ResultsStore(f"sqlite:///{Path(directory) / 'bench.sqlite'}") as store:
        for family, (task, make, episodes) in FAMILIES.items():
            raw = max(raw_steps_per_second(make, episodes) for _ in range(REPEATS))
            ours = max(gymarena_steps_per_second(store, task, episodes) for _ in range(REPEATS))
            worst = max(worst, raw / ours)
            print(f"{family:10s} {task:22s} raw {raw:8,.0f} steps/s  gymarena {ours:8,.0f} steps/s  ratio {raw / ours:.2f}")
            if family in LOCAL_TOO:
                local = max(gymarena_steps_per_second(store, task, episodes, "local") for _ in range(REPEATS))
                print(f"{'':10s} {'(--backend local)':22s} {'':21s} gymarena {local:8,.0f} steps/s  ratio {raw / local:.2f}")
    print(f"ratio {worst:.2f}")


if __name__ == "__main__":
    main()
