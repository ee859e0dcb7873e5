"""SUMO traffic-signal control through sumo-rl, with SUMO from the ``eclipse-sumo`` wheel.

Users set nothing: ``SUMO_HOME`` is taken from the installed ``sumo`` package when it is
not set, and libsumo (in-process, ~40x faster than TraCI's socket here) is used when
installed, with a logged note when it is not. libsumo runs one simulation per process,
which is how the runner uses envs (one at a time per worker).

Tasks name one of sumo-rl's bundled scenarios (``env_id`` = the scenario's directory
and route file, e.g. ``single-intersection/single-intersection.rou.xml``); each reset
seeds SUMO with the episode seed. Per-episode metrics: mean waiting time (s) and mean
speed (m/s) of the vehicles in the network, averaged over decisions, the mean number of
stopped vehicles, and throughput (vehicles that left the network).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.reset_only import FixedSpaces, ResetOnlyWrapper

log = logging.getLogger(__name__)


def prepare_sumo() -> None:
    """Point SUMO_HOME at the wheel's SUMO and ask for libsumo, before sumo-rl imports traci."""
    if "SUMO_HOME" not in os.environ:
        import sumo

        os.environ["SUMO_HOME"] = sumo.SUMO_HOME
    if find_spec("libsumo") is not None:
        os.environ.setdefault("LIBSUMO_AS_TRACI", "1")
    elif not os.environ.get("GYMARENA_TRAFFIC_TRACI_NOTED"):
        os.environ["GYMARENA_TRAFFIC_TRACI_NOTED"] = "1"
        log.warning("libsumo is not installed: SUMO runs over TraCI, about 40x slower (pip install libsumo)")


def sumo_seed(seed: int | None) -> int | None:
    """SUMO takes its seed as a signed 32-bit integer: larger episode seeds are folded into range."""
    return None if seed is None else seed % 2**31


class SumoSeed(ResetOnlyWrapper):
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        return self.env.reset(seed=sumo_seed(seed), options=options)


class SignalStats:
    """The per-episode traffic metrics, accumulated from sumo-rl's system info each decision."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.waiting: list[float] = []
        self.speeds: list[float] = []
        self.stopped: list[float] = []
        self.present: set[str] = set()
        self.arrived = 0

    def observe(self, info: dict[str, Any], sumo: Any) -> None:
        self.waiting.append(float(info.get("system_mean_waiting_time", 0.0)))
        self.speeds.append(float(info.get("system_mean_speed", 0.0)))
        self.stopped.append(float(info.get("system_total_stopped", 0.0)))
        now = set(sumo.vehicle.getIDList())
        self.arrived += len(self.present - now)
        self.present = now

    def summary(self) -> dict[str, Any]:
        def mean(values: list[float]) -> float:
            return round(float(np.mean(values)), 4) if values else 0.0

        return {
            "mean_waiting_time": mean(self.waiting),
            "mean_speed": mean(self.speeds),
            "mean_stopped": mean(self.stopped),
            "throughput": self.arrived,
        }


class TrafficMetrics(EpisodeMetrics):
    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.stats = SignalStats()

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        simulator: Any = self.env.unwrapped  # sumo-rl's SumoEnvironment
        self.stats.observe(info, simulator.sumo)

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        return self.stats.summary()


def import_sumo_rl() -> Any:
    """sumo-rl, imported after :func:`prepare_sumo`. traci announces "Using libsumo as
    traci" on stdout at import; stdout carries results (`gymarena eval --json`), so the
    announcement is dropped."""
    prepare_sumo()
    with contextlib.redirect_stdout(io.StringIO()):
        import sumo_rl
    return sumo_rl


def scenario_files(env_id: str) -> tuple[str, str]:
    """(net file, route file) of a bundled scenario named ``directory/routes.rou.xml``."""
    sumo_rl = import_sumo_rl()
    directory, _, routes = env_id.partition("/")
    base = Path(sumo_rl.__file__).parent / "nets" / directory
    nets = sorted(base.glob("*.net.xml"))
    if not nets or not (base / routes).is_file():
        raise ValueError(f"sumo-rl has no scenario {env_id!r} (looked in {base})")
    return str(nets[0]), str(base / routes)


def make(task: TaskSpec, **overrides: Any) -> Any:
    """A Gymnasium env for single-agent scenarios, a PettingZoo parallel env for multi-agent ones."""
    sumo_rl = import_sumo_rl()
    net, routes = scenario_files(task.env_id)
    single = task.agents == "single"
    kwargs = {"single_agent": single, "sumo_warnings": False, **task.kwargs, **overrides}
    env = sumo_rl.SumoEnvironment(net_file=net, route_file=routes, **kwargs)
    if single:
        return TrafficMetrics(SumoSeed(FixedSpaces(env)))  # sumo-rl also remakes its spaces at reset
    from gymarena.wrappers.traffic_signals import SignalsParallelEnv

    return SignalsParallelEnv(env)
