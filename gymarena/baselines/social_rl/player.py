"""A trained crew policy as players: its checkpoint file, and an agent that plays every
seat of a table (crew seats with the policy; the impostor seat, which the
crewmates were not trained for, with the hunting scripted impostor)."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gymarena.agents import PerAgent
from gymarena.baselines.social_rl.features import Memory
from gymarena.baselines.social_rl.hunter import HuntingImpostor
from gymarena.baselines.social_rl.policy import CrewPolicy
from gymarena.baselines.social_rl.training import CrewSeats, SocialTrainArgs, new_policy
from gymarena.envs.social_deduction.rules import Rules
from gymarena.errors import AgentLoadError

FORMAT = "gymarena-crew-policy/1"


def save_policy(policy: CrewPolicy, args: SocialTrainArgs, path: Path) -> Path:
    """Write the policy's weights with the arguments it was trained with."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "args": dataclasses.asdict(args), "state": policy.state_dict()}, path)
    return path


def load_policy(path: Path) -> tuple[CrewPolicy, SocialTrainArgs]:
    """The policy of a checkpoint file, and its training arguments."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise AgentLoadError(f"{path}: not a crew policy checkpoint ({str(exc).splitlines()[0]})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise AgentLoadError(f"{path}: not a {FORMAT} checkpoint (gymarena baselines train writes them)")
    args = SocialTrainArgs(**{**saved["args"], "impostors": tuple(saved["args"]["impostors"])})
    policy = new_policy(Rules.from_kwargs(**args.rules), args.hidden)
    policy.load_state_dict(saved["state"])
    policy.eval()
    return policy, args


class TrainedCrewmate:
    """One seat: the crew policy when it is a crewmate (its choices drawn from a generator
    seeded by the episode seed), the hunting impostor otherwise."""

    def __init__(self, policy: CrewPolicy, rules: Rules):
        self.rules = rules
        self.generator = torch.Generator()
        self.crew = CrewSeats(policy, rules, self.generator)
        self.impostor = HuntingImpostor(list(rules.names), rules.max_width)

    def reset(self, seed: int | None = None) -> None:
        self.memory = Memory(self.rules)
        self.generator.manual_seed(0 if seed is None else int(seed))
        self.impostor.reset(seed)

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        if int(observation["impostor"]):
            return self.impostor.act(observation)
        self.memory.observe(observation)
        return self.crew.decide([(self.memory, observation)])[0][0]


def crew_agent(path: Path, agent_ids: Any, task_rules: Mapping[str, Any]) -> PerAgent:
    """Every seat (``agent_ids``: the seat names, or the task's multi-agent action space) of
    a table played from a checkpoint, for a task with these rules (the policy's features are
    laid out for the rules it was trained on: they must match)."""
    policy, args = load_policy(path)
    trained, task = Rules.from_kwargs(**args.rules), Rules.from_kwargs(**task_rules)
    if (trained.players, trained.max_width, trained.max_height) != (task.players, task.max_width, task.max_height):
        raise AgentLoadError(f"{path} was trained for {trained.players} players on a {trained.max_width}x"
                             f"{trained.max_height} grid; this task has {task.players} on {task.max_width}x{task.max_height}")
    return PerAgent(agent_ids, lambda name: TrainedCrewmate(policy, task))
