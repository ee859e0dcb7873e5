"""The Agent protocol and the loaders that turn a reference string into agents.

An agent reference is ``random`` or ``scripted`` (built in: the family's hand-written
baseline, see gymarena/baselines/scripted), ``package.module:attr`` or
``path/to/file.py:attr``. ``attr`` names either a factory
``make_agent(task, observation_space, action_space) -> Agent`` or an Agent class, whose
constructor takes those three arguments or none; a factory with a ``content_digest``
(bytes) adds it to the agent's identity (the checkpoints it loads, say). A
Stable-Baselines3 checkpoint is ``path/to/model.zip`` or ``model.zip:ALGORITHM``
(gymarena/baselines/trained.py); its identity is the file.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np
from gymnasium import spaces

from gymarena.errors import AgentLoadError, raised_at
from gymarena.records import AgentIdentity
from gymarena.tasks import TaskSpec


@runtime_checkable
class Agent(Protocol):
    """What the runner needs of an agent.

    On multi-agent tasks (``task.agents == "multi"``, a PettingZoo parallel env) the
    factory receives dicts of spaces keyed by agent id, and ``act`` takes the dict of
    observations of the agents still playing and returns a dict of their actions.
    """

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; ``seed`` makes any randomness of the agent reproducible."""

    def act(self, observation: Any) -> Any:
        """The action for this observation."""


# Optional: an agent evaluated at decision interval l > 1 (the FAS sweep) may define
#     act_sequence(observation, length) -> sequence of `length` actions
# to plan l distinct actions from one observation; without it, ``act``'s action is
# repeated for the l primitive steps. An agent that holds a process or files may define
# close(), called when the runner is done with it. Tasks played in trials add
# begin_trial, begin_episode and observe (gymarena/runner/trials.py).
#
# Batched play (``--batch N``, gymarena/runner/batched.py) needs
#     act_batch(observations) -> actions
# which takes one row per slot of the batch, stacked as gymnasium.vector stacks them,
# and returns one action per row (stacked, or a list); and optionally
#     reset_slot(slot, seed)
# called when slot ``slot`` starts an episode with ``seed`` (instead of reset).


AgentFactory = Callable[[TaskSpec, Any, Any], Agent]


class RandomAgent:
    """Uniformly random actions from the action space, seeded per episode; within the
    observation's ``action_mask`` when it has one (PettingZoo's convention for envs whose
    valid actions change with the state). In batched play each slot samples from its own
    copy of the space, seeded with its episode's seed, so its episodes are those of
    unbatched play."""

    def __init__(self, task: TaskSpec, observation_space: Any, action_space: Any):
        self.observation_space, self.action_space = observation_space, action_space
        self.slot_spaces: list[Any] = []
        masked = isinstance(observation_space, spaces.Dict) and "action_mask" in observation_space.spaces
        self.act = self._act_masked if masked else self._act  # type: ignore[method-assign]  # decided once, not per step

    def reset(self, seed: int | None = None) -> None:
        self.action_space.seed(seed)

    def act(self, observation: Any) -> Any:
        return self.act(observation)  # replaced in __init__

    def _act(self, observation: Any) -> Any:
        return self.action_space.sample()

    def _act_masked(self, observation: Any) -> Any:
        return self.action_space.sample(mask=observation["action_mask"])

    def reset_slot(self, slot: int, seed: int | None = None) -> None:
        while len(self.slot_spaces) <= slot:
            self.slot_spaces.append(copy.deepcopy(self.action_space))
        self.slot_spaces[slot].seed(seed)

    def act_batch(self, observations: Any) -> list[Any]:
        spaces = self.slot_spaces[:batch_length(self.observation_space, observations)]
        masks = observations.get("action_mask") if isinstance(observations, dict) else None
        if masks is None:
            return [space.sample() for space in spaces]
        return [space.sample(mask=mask) for space, mask in zip(spaces, masks, strict=True)]


def batch_length(space: Any, observations: Any) -> int:
    """How many rows a batch of observations of ``space`` holds (its leading axis; the first
    part's for dict and tuple spaces)."""
    from gymnasium import spaces

    while isinstance(space, (spaces.Dict, spaces.Tuple)):
        if isinstance(space, spaces.Dict):
            name = next(iter(space.spaces))
            space, observations = space.spaces[name], observations[name]
        else:
            space, observations = space.spaces[0], observations[0]
    return len(observations)


class PerAgent:
    """A multi-agent agent made of one single-agent policy per agent id.

    ``make_policy(agent_id)`` builds each policy; each is reset with its own seed, drawn
    from the episode seed, and acts on its own observation.
    """

    def __init__(self, agent_ids: Any, make_policy: Callable[[str], Agent]):
        self.policies = {agent_id: make_policy(agent_id) for agent_id in agent_ids}

    def reset(self, seed: int | None = None) -> None:
        seeds = _spawn_seeds(seed, len(self.policies))
        for policy, policy_seed in zip(self.policies.values(), seeds):
            policy.reset(seed=policy_seed)

    def act(self, observations: dict[str, Any]) -> dict[str, Any]:
        return {agent_id: self.policies[agent_id].act(observation) for agent_id, observation in observations.items()}


def _spawn_seeds(seed: int | None, count: int) -> list[int | None]:
    if seed is None:
        return [None] * count
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count, np.uint32)]


def random_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> Agent:
    """Uniformly random actions: one sampler per agent on multi-agent tasks."""
    if isinstance(action_space, dict):
        return PerAgent(action_space, lambda agent_id: RandomAgent(task, observation_space[agent_id], action_space[agent_id]))
    return RandomAgent(task, observation_space, action_space)


# The built-in agents' factories, resolved lazily by name: this module, at the ground of the
# package, imports nothing of the baselines above it.
BUILTIN_FACTORIES = {"random": "gymarena.agents:random_agent", "scripted": "gymarena.baselines.scripted:make_agent"}
BUILTIN_AGENTS = tuple(BUILTIN_FACTORIES)
CHECKPOINT_FACTORY = "gymarena.baselines.trained:file_agent"


def _resolve(target: str) -> Any:
    """The object a ``module:attr`` string of gymarena's own names."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _builtin(reference: str) -> tuple[AgentFactory, str]:
    """A built-in agent's factory and its content hash: its declared version, never its
    source (gymarena/versions.py)."""
    from gymarena import versions

    content_hash = versions.RANDOM_AGENT.identity_hash() if reference == "random" else versions.scripted_identity_hash()
    return _resolve(BUILTIN_FACTORIES[reference]), content_hash


@dataclass(frozen=True)
class AgentSource:
    """A loaded agent reference: its identity (stored with every run) and its factory."""

    reference: str
    name: str
    version: str
    content_hash: str
    factory: AgentFactory
    owner: str = ""  # a leaderboard submission's token name (the worker sets it)

    @property
    def identity(self) -> AgentIdentity:
        """What runs of this agent are stored under."""
        return AgentIdentity(self.name, self.reference, self.version, self.content_hash, self.owner)

    def make(self, task: TaskSpec, observation_space: Any, action_space: Any, device: str | None = None,
             checkpoint: str | None = None) -> Agent:
        """A fresh agent for one task, checked against the Agent protocol; ``device`` (a torch
        device name) goes to a factory that takes a ``device`` keyword, ``checkpoint`` (the
        file of one of an algorithm's trained checkpoints) to one that takes ``checkpoint``."""
        options: dict[str, Any] = {"device": device} if device is not None and takes_device(self.factory) else {}
        if checkpoint is not None:
            if not takes_keyword(self.factory, "checkpoint"):
                raise AgentLoadError(f"agent {self.reference!r} lists checkpoints, but its factory takes no "
                                     "checkpoint keyword: def make_agent(task, observation_space, action_space, checkpoint)")
            options["checkpoint"] = checkpoint
        try:
            agent = self.factory(task, observation_space, action_space, **options)
        except Exception as exc:  # the user's code: report it as theirs
            raise AgentLoadError(
                f"agent {self.reference!r} raised {type(exc).__name__} while being made for "
                f"{task.id}: {exc}{raised_at(exc)}"
            ) from exc
        lacking = [method for method in ("act(observation)", "reset(seed)")
                   if not callable(getattr(agent, method.partition("(")[0], None))]
        if lacking:
            raise AgentLoadError(
                f"agent {self.reference!r} made a {type(agent).__name__}, which lacks "
                f"{' and '.join(lacking)} (the Agent protocol: README, Agents)"
            )
        return agent


def takes_device(factory: Any) -> bool:
    """Whether a factory (or agent class) accepts a ``device`` keyword argument."""
    return takes_keyword(factory, "device")


def takes_keyword(factory: Any, name: str) -> bool:
    """Whether a factory (or agent class) accepts the keyword argument ``name``."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _hash_bytes(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _as_factory(target: Any, reference: str) -> AgentFactory:  # target: the user's class or function
    """Wrap a class or a factory function so both are called the same way."""
    if not callable(target):
        raise AgentLoadError(f"agent reference {reference!r} names a {type(target).__name__}, not a class or factory")
    if inspect.isclass(target):
        if not callable(getattr(target, "act", None)):
            raise AgentLoadError(f"agent class {reference!r} has no act(observation) method")
        if _binds_three(target):
            return cast(AgentFactory, target)
        try:
            inspect.signature(target).bind()
        except TypeError:
            raise AgentLoadError(
                f"agent class {reference!r} must take (task, observation_space, action_space) or no arguments"
            ) from None
        return cast(AgentFactory, lambda task, observation_space, action_space: target())
    if not _binds_three(target):
        raise AgentLoadError(f"agent factory {reference!r} must take (task, observation_space, action_space)")
    return target


def _binds_three(target: Any) -> bool:
    """Whether ``target`` takes (task, observation_space, action_space), and perhaps the
    ``checkpoint`` keyword of an algorithm's package."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    for keywords in ({}, {"checkpoint": None}):
        try:
            signature.bind(None, None, None, **keywords)
            return True
        except TypeError:
            continue
    return False


def _import_file(path: Path, reference: str):
    if not path.is_file():
        raise AgentLoadError(f"agent file {str(path)!r} of reference {reference!r} does not exist")
    # Keyed by path and content: an edited file is imported afresh, never served stale.
    key = str(path.resolve()).encode() + path.read_bytes()
    module_name = f"gymarena_agent_{hashlib.sha1(key).hexdigest()[:16]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AgentLoadError(f"agent file {str(path)!r} of reference {reference!r} is not a Python module (a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise AgentLoadError(f"agent file {str(path)!r} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def _import_module(name: str, reference: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise AgentLoadError(
            f"agent module {name!r} of reference {reference!r} cannot be imported: {exc}; "
            "check the spelling and that it is on PYTHONPATH (or use path/to/file.py:attr)"
        ) from None
    except Exception as exc:
        raise AgentLoadError(f"agent module {name!r} failed to import: {type(exc).__name__}: {exc}") from exc


def _shipped_player_hash(reference: str) -> str | None:
    """The content hash of a player gymarena ships under this reference (a social pool's): its
    declared version, not its module's bytes; None for anyone else's agent."""
    from gymarena.versions import SHIPPED_PLAYERS, player_identity_hash

    declared = SHIPPED_PLAYERS.get(reference)
    return player_identity_hash(declared) if declared is not None else None


def _module_bytes(module: Any) -> bytes:
    """The source of the module that defines the agent: its identity for resume checks (for a
    module of gymarena's that declares a version, that version instead: gymarena/versions.py)."""
    from gymarena.versions import MODULE_VERSIONS

    declared = MODULE_VERSIONS.get(getattr(module, "__name__", ""))
    if declared is not None:
        return declared.identity_bytes()
    path = getattr(module, "__file__", None)
    try:
        return Path(path).read_bytes() if path else b""
    except OSError:
        return b""


# The version of the built-in agents (random, scripted, the CAV testing AVs): their own, not
# the package's, so a new gymarena release does not make them new agents on every board.
BUILTIN_AGENT_VERSION = "0.1.0"


def load_agent(reference: str) -> AgentSource:
    """Resolve an agent reference, with a one-line error naming what went wrong."""
    if reference in BUILTIN_AGENTS:
        factory, content_hash = _builtin(reference)
        return AgentSource(reference, reference, BUILTIN_AGENT_VERSION, content_hash, factory)
    if reference.endswith(".zip") or reference.rpartition(":")[0].endswith(".zip"):
        return _checkpoint_source(reference)
    if ":" not in reference:
        raise AgentLoadError(
            f"agent reference {reference!r} is not 'random', 'scripted', 'package.module:attr' or 'path/to/file.py:attr'"
        )
    location, _, attr = reference.rpartition(":")
    if not location or not attr:
        raise AgentLoadError(f"agent reference {reference!r} needs both a module or file and an attribute")
    if location.endswith(".py"):
        path = Path(location).expanduser()
        module = _import_file(path, reference)
        reference = f"{path.resolve()}:{attr}"  # stored with the run: resumable from any directory
    else:
        module = _import_module(location, reference)
    try:
        target = getattr(module, attr)
    except AttributeError:
        raise AgentLoadError(f"agent reference {reference!r}: {location} has no attribute {attr!r}") from None
    version = str(getattr(target, "version", None) or getattr(module, "__version__", None) or "unversioned")
    content_hash = _shipped_player_hash(reference) or _hash_bytes(
        reference.encode(), _module_bytes(module), getattr(target, "content_digest", b""))
    return AgentSource(reference, attr, version, content_hash, _as_factory(target, reference))


def _checkpoint_source(reference: str) -> AgentSource:
    """A Stable-Baselines3 checkpoint file as an agent (``model.zip`` or ``model.zip:ALGORITHM``)."""
    file_agent = _resolve(CHECKPOINT_FACTORY)
    location, _, algorithm = reference.partition(".zip:")
    path = Path(location + ".zip" if algorithm else location).expanduser()
    if not path.is_file():
        raise AgentLoadError(f"checkpoint {str(path)!r} of agent reference {reference!r} does not exist")
    factory = file_agent(path, algorithm or None)
    resolved = f"{path.resolve()}:{algorithm}" if algorithm else str(path.resolve())
    return AgentSource(resolved, path.stem, "checkpoint", _hash_bytes(path.read_bytes()), factory)
