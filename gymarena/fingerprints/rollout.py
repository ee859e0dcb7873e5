"""A fingerprint: a short rollout of a task by a player, summarised step by step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymarena.fingerprints.summary import summarise
from gymarena.tasks import TaskSpec

SEEDS = (0, 1)
STEPS = 40  # per seed: tens of steps, a second or two per task (an ended episode is reset)
AV_PREFIX = "cav:"  # a built-in AV of `gymarena cav test`, as a fingerprint's player
AV_TESTS = 256  # naturalistic tests per seed for an AV's fingerprint


@dataclass(frozen=True)
class Fingerprint:
    """What a rollout returned: per step, its summarised observation, reward, ends and info
    (step 0 of each seed is its reset), and the versions it was made under."""

    task_id: str
    player: str
    versions: dict[str, str]
    steps: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"versions": self.versions, "steps": self.steps}


def fingerprint_versions(task: TaskSpec, player: str) -> dict[str, str]:
    """What a fingerprint is keyed by: the task's simulator versions and facts (pool pins
    included) and the player's identity."""
    from gymarena.installed import installed_protocol

    facts = dict(installed_protocol([task], SEEDS).tasks[0].simulator_versions)
    return {**facts, f"player {player}": _player_identity(player)}


def _player_identity(player: str) -> str:
    if player.startswith(AV_PREFIX):
        from gymarena.versions import BUILTIN_AVS

        return BUILTIN_AVS[player.removeprefix(AV_PREFIX)].identity_hash()
    from gymarena.agents import load_agent

    return load_agent(player).content_hash


def record(task: TaskSpec, player: str = "random", seeds: tuple[int, ...] = SEEDS, steps: int = STEPS) -> Fingerprint:
    """Play ``steps`` steps of the task from each seed with the player (a built-in agent
    reference; ``cav:NAME`` for a built-in AV, which drives ``AV_TESTS`` naturalistic tests
    instead) and summarise them."""
    if player.startswith(AV_PREFIX):
        return Fingerprint(task.id, player, fingerprint_versions(task, player), _av_tests(player, seeds))
    from gymarena.agents import load_agent
    from gymarena.wrappers import make_env

    source = load_agent(player)
    env = make_env(task)
    try:
        multi = task.agents == "multi"
        if multi:  # a PettingZoo parallel env: spaces per agent
            observation_space = {a: env.observation_space(a) for a in env.possible_agents}
            action_space = {a: env.action_space(a) for a in env.possible_agents}
        else:
            observation_space, action_space = env.observation_space, env.action_space
        agent = source.make(task, observation_space, action_space)
        found: list[dict[str, Any]] = []
        for seed in seeds:
            found += _rollout(env, agent, seed, steps, multi)
    finally:
        env.close()
    return Fingerprint(task.id, player, fingerprint_versions(task, player), found)


def _av_tests(player: str, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """A built-in AV's behaviour: per seed, the outcomes of naturalistic tests it drives
    (which crash, after how many steps)."""
    from gymarena.envs.cav.builtin_avs import BUILTIN_AVS
    from gymarena.envs.cav.ndd import load_ndd
    from gymarena.envs.cav.testing import NaturalisticBVs, run_tests

    policy = BUILTIN_AVS[player.removeprefix(AV_PREFIX)]
    found = []
    for seed in seeds:
        outcomes = run_tests(AV_TESTS, policy, NaturalisticBVs(load_ndd()), seed=seed, batch_size=AV_TESTS)
        found.append({"seed": seed, "obs": summarise({"crashed": outcomes.crashed, "steps": outcomes.steps})})
    return found


def _rollout(env: Any, agent: Any, seed: int, steps: int, multi: bool) -> list[dict[str, Any]]:
    agent.reset(seed=seed)
    observation, info = env.reset(seed=seed)
    found = [{"seed": seed, "obs": summarise(observation), "info": summarise(_plain(info))}]
    for _ in range(steps):
        action = agent.act(observation)
        observation, reward, terminated, truncated, info = env.step(action)
        found.append({"obs": summarise(observation), "reward": summarise(reward), "terminated": summarise(terminated),
                      "truncated": summarise(truncated), "info": summarise(_plain(info))})
        if _ended(env, terminated, truncated, multi):
            agent.reset(seed=seed + 1000)
            observation, info = env.reset(seed=seed + 1000)
            found.append({"seed": seed + 1000, "obs": summarise(observation), "info": summarise(_plain(info))})
    return found


def _ended(env: Any, terminated: Any, truncated: Any, multi: bool) -> bool:
    if multi:
        return not env.agents
    return bool(terminated) or bool(truncated)


def _plain(info: Any) -> Any:
    """An info without what differs from run to run by design (wall-clock figures)."""
    if isinstance(info, dict):
        return {k: _plain(v) for k, v in info.items() if not any(w in str(k) for w in ("time", "seconds", "fps"))}
    return info
