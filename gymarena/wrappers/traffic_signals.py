"""Multi-agent SUMO traffic-signal control as a PettingZoo parallel env: one agent per signal.

sumo-rl 1.4.5 ships PettingZoo classes, but they call ``pettingzoo.utils.agent_selector``
as a class, which PettingZoo 1.25+ turned into a module (the class is ``AgentSelector``),
so they fail on the PettingZoo gymarena pins. This env drives sumo-rl's own multi-agent
``SumoEnvironment`` (``single_agent=False``) directly instead, patching nothing.

Every signal acts every ``delta_time`` seconds; a signal that is not due to act (sumo-rl
lets a yellow phase finish first) keeps its last observation, gets reward 0 and has its
action ignored, as in sumo-rl. Episodes end by truncation when the simulated time is up.
Infos hold the system metrics and the signal's own (``<id>_stopped`` ...); the last step's
infos carry the episode metrics of :class:`~gymarena.wrappers.traffic.SignalStats`.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import ParallelEnv

from gymarena.success import METRICS_KEY
from gymarena.wrappers.traffic import SignalStats, sumo_seed


class SignalsParallelEnv(ParallelEnv):
    metadata = {"name": "gymarena_traffic_signals_v0", "render_modes": ["human", "rgb_array"], "is_parallelizable": True}

    def __init__(self, sumo_env: Any):
        self.sumo_env = sumo_env
        self.possible_agents = list(sumo_env.ts_ids)
        self.agents: list[str] = []
        # sumo-rl builds new signal objects, spaces included, at every reset: keep these.
        self.observation_spaces = {a: sumo_env.observation_spaces(a) for a in self.possible_agents}
        self.action_spaces = {a: sumo_env.action_spaces(a) for a in self.possible_agents}
        self.render_mode = sumo_env.render_mode
        self.stats = SignalStats()

    def observation_space(self, agent: str) -> Any:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Any:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None):
        self.sumo_env.reset(seed=sumo_seed(seed))
        self.agents = self.possible_agents[:]
        self.stats.start()
        return self._observations(), self._infos(self.sumo_env._compute_info())

    def step(self, actions: dict[str, Any]):
        _, rewards, dones, info = self.sumo_env.step(actions)
        self.stats.observe(info, self.sumo_env.sumo)
        observations = self._observations()
        rewards = {a: float(rewards.get(a, 0.0)) for a in self.agents}
        over = bool(dones["__all__"])
        terminations = dict.fromkeys(self.agents, False)  # signal control has no terminal states
        truncations = dict.fromkeys(self.agents, over)
        infos = self._infos(info)
        if over:
            summary = self.stats.summary()
            for agent_info in infos.values():
                agent_info[METRICS_KEY] = summary
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _observations(self) -> dict[str, Any]:
        return {a: self.sumo_env.observations[a].copy() for a in self.agents}

    def _infos(self, info: dict[str, Any]) -> dict[str, dict[str, Any]]:
        system = {k: v for k, v in info.items() if k.startswith("system_") or k == "step"}
        return {a: {**system, **{k: v for k, v in info.items() if k.startswith(f"{a}_")}} for a in self.agents}

    def render(self) -> Any:
        return self.sumo_env.render()

    def close(self) -> None:
        self.sumo_env.close()
