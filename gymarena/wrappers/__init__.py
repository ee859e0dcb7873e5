"""Simulator families and the adapters that turn a TaskSpec into an environment.

Simulators are imported lazily: a missing one raises :class:`MissingExtraError` with
the ``pip install 'gymarena[extra]'`` line, and the registry still lists its tasks.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache

from gymarena.errors import GymarenaError, MissingExtraError, param
from gymarena.provenance import package_versions
from gymarena.tasks import TaskSpec, get_task


@dataclass(frozen=True)
class Family:
    """A simulator family: what it needs installed and which adapter builds its envs.

    ``modules`` are import names that must be importable; ``packages`` are the
    distributions whose versions enter the protocol hash. ``crash_prone`` families (a
    native simulator that can segfault or abort) run on the ``isolated`` backend unless
    the user picks another.
    """

    name: str
    extra: str
    modules: tuple[str, ...]
    packages: tuple[str, ...]
    adapter: str
    crash_prone: bool = False
    # Isolated families run in their own runtime (``gymarena install FAMILY``) unless told
    # otherwise; ``runtime_pins`` are requirements its runtime must have (over the versions
    # of this environment).
    isolated: bool = False
    runtime_pins: tuple[str, ...] = ()
    # The adapter defines ``protocol_facts() -> dict[str, str]``: what else fixes the
    # simulator (a ROM's digest, a game build), entered into the protocol beside versions.
    has_protocol_facts: bool = False
    # A module for what no registry ships (a game binary): its ``missing()`` says why the
    # simulator cannot run here ("" when it can), its ``HOW_TO_INSTALL`` how to fix that.
    external: str = ""

    def missing_modules(self) -> list[str]:
        return [m for m in self.modules if importlib.util.find_spec(m) is None]

    def availability(self) -> tuple[bool, str]:
        """(available, reason): the reason names what is missing and how to get it."""
        if self.isolated:
            from gymarena.runtimes.registry import load_runtime

            if load_runtime(self.name) is None:
                return False, f"runs in a runtime of its own: gymarena install {self.name}"
        else:
            missing = self.missing_modules()
            if missing:
                return False, f"needs {', '.join(missing)}: pip install 'gymarena[{self.extra}]'"
        reason = self.external_missing()
        return (False, reason) if reason else (True, "")

    def external_missing(self, how_to_install: bool = False) -> str:
        """Why what the family needs beyond packages is missing ('' if nothing is), and how to get it."""
        if not self.external:
            return ""
        module = importlib.import_module(self.external)
        reason = module.missing()
        return f"{reason}. {module.HOW_TO_INSTALL}" if reason and how_to_install else reason

    def simulator_versions(self) -> dict[str, str]:
        """What fixes the simulator: the installed versions of the family's packages (those
        absent are 'missing') and its protocol facts, of this environment, or for an isolated
        family, of its runtime, where its simulator runs."""
        if not self.isolated:
            return self.local_simulator_versions()
        from gymarena.runtimes.registry import load_runtime
        from gymarena.runtimes.remote_env import runtime_simulator_versions

        runtime = load_runtime(self.name)
        if runtime is None:
            return dict.fromkeys(sorted({"gymnasium", *self.packages}), "not installed")
        return runtime_simulator_versions(runtime)

    def local_simulator_versions(self) -> dict[str, str]:
        versions = package_versions(("gymnasium", *self.packages))
        if self.has_protocol_facts:
            versions.update(importlib.import_module(self.adapter).protocol_facts())
        return versions


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("classic", "classic", ("gymnasium",), (), "gymarena.wrappers.classic"),
        Family("minigrid", "minigrid", ("minigrid",), ("minigrid",), "gymarena.wrappers.minigrid"),
        Family("mujoco", "mujoco", ("mujoco",), ("mujoco",), "gymarena.wrappers.mujoco"),
        Family("metaworld", "metaworld", ("metaworld",), ("metaworld", "mujoco"), "gymarena.wrappers.metaworld"),
        Family("nethack", "nethack", ("nle",), ("nle",), "gymarena.wrappers.nethack", crash_prone=True),
        Family("highway", "highway", ("highway_env",), ("highway-env",), "gymarena.wrappers.highway"),
        Family("mario", "mario", ("gym_super_mario_bros", "nes_py"), ("gym-super-mario-bros", "nes-py", "numpy"),
               "gymarena.wrappers.mario", isolated=True, has_protocol_facts=True, runtime_pins=(
                   # 9.x is Gymnasium-native but needs Python >= 3.13; before it, 7.4.0 (old gym) on numpy 1.
                   'gym-super-mario-bros>=9.1; python_version >= "3.13"',
                   'gym-super-mario-bros==7.4.0; python_version < "3.13"',
                   'numpy<2; python_version < "3.13"',
               )),
        Family("sc2", "sc2", ("pysc2",), ("pysc2", "s2clientprotocol", "protobuf"), "gymarena.wrappers.sc2",
               isolated=True, has_protocol_facts=True, runtime_pins=("pysc2==4.0.0",),
               external="gymarena.wrappers.sc2_game"),
        Family("cav", "cav", ("qpsolvers",), ("qpsolvers", "quadprog"), "gymarena.wrappers.cav", has_protocol_facts=True),
        Family("social", "social", ("pettingzoo",), ("pettingzoo",), "gymarena.wrappers.social", has_protocol_facts=True),
        Family("traffic", "traffic", ("sumo_rl", "sumo"), ("sumo-rl", "eclipse-sumo", "libsumo"), "gymarena.wrappers.traffic"),
    )
}


def family_of(task: TaskSpec) -> Family:
    try:
        return FAMILIES[task.family]
    except KeyError:
        raise MissingExtraError(task.family, task.extra, "no adapter for this family") from None


def task_availability(task: TaskSpec) -> tuple[bool, str]:
    """(available, reason): whether this task's simulator can run here, and if not, why."""
    family = FAMILIES.get(task.family)
    if family is None:
        return False, f"no adapter for family {task.family!r} in this gymarena version"
    return family.availability()


@cache
def simulator_versions(family: str) -> dict[str, str]:
    """Cached per process: versions do not change while it runs."""
    return FAMILIES[family].simulator_versions()


def task_facts(task: TaskSpec) -> dict[str, str]:
    """What fixes this one task beyond its family's simulator (the adapter's optional
    ``task_facts(task)``: the code of a testing method only one task uses). Isolated
    families' facts come from their runtimes, so only local families have these."""
    family = family_of(task)
    if not family.has_protocol_facts or family.isolated:
        return {}
    facts = getattr(importlib.import_module(family.adapter), "task_facts", None)
    return facts(task) if facts is not None else {}


def make_env(task: TaskSpec, isolated: bool | None = None, **overrides):
    """Build the environment of a task with its protocol applied (time limit, kwargs): in
    this process, or (``isolated``, by default for isolated families) in the family's own
    runtime, behind a ``RemoteEnv``."""
    if isolated is None:
        isolated = family_of(task).isolated
    if not isolated:
        return make_local_env(task, **overrides)
    from gymarena.runtimes.registry import require_runtime
    from gymarena.runtimes.remote_env import RemoteEnv

    if task.agents == "multi":
        raise GymarenaError(f"{task.id} is a multi-agent task: those run in this process only (no {param('isolated')})")
    runtime = require_runtime(task.family)
    return RemoteEnv(task, runtime.python, overrides, label=f"the {task.family} runtime ({runtime.root})")


def make_local_env(task: TaskSpec, **overrides):
    """Build the environment of a task in this process."""
    family = family_of(task)
    missing = family.missing_modules()
    if missing:
        raise MissingExtraError(task.family, family.extra, f"cannot import {', '.join(missing)}")
    adapter = importlib.import_module(family.adapter)
    return adapter.make(task, **overrides)


def make_env_from_registry(task_id: str, **overrides):
    """Gymnasium entry point for every registered gymarena id."""
    return make_env(get_task(task_id), **overrides)
