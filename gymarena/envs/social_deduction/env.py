"""The game as a PettingZoo ``ParallelEnv`` (``aec_env()`` gives the AEC form).

Every player acts at every step with a Dict action: ``action`` (the game action, used in
gameplay), ``message`` (free text, used when it is the player's turn to speak), ``belief``
(the survey answer, a vector over players normalised by the game, used in discussion and
voting) and ``vote`` (a player index, or ``players`` to skip, used in voting). What the
phase does not use is ignored; what it uses must be allowed by the masks in the
observation's ``action_mask`` (also in ``info["action_mask"]``), else the step raises an
error naming the player, the phase and the choice.

Players stay in the game after dying (with nothing to do) until it ends, so the team's
win reward reaches them too, as in the paper. Observations carry a structured part and
``text``: the new lines of the game's transcript for that player since the last step.
"""

from __future__ import annotations

import copy
import string
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from gymarena.errors import MissingExtraError

try:
    from pettingzoo import ParallelEnv
except ImportError as missing:  # the game is a PettingZoo env: say which extra brings it
    raise MissingExtraError("social", "social", "cannot import pettingzoo", what="deduction game's PettingZoo API") from missing

from gymarena.envs.social_deduction.game import CHANNELS, Game, InvalidMove
from gymarena.envs.social_deduction.metrics import game_metrics
from gymarena.envs.social_deduction.rules import OVER, PHASES, TIMEOUT, Rules
from gymarena.success import METRICS_KEY

CHARSET = string.printable  # letters, digits, punctuation and whitespace
TEXT_LIMIT = 16384  # characters of transcript per observation (the oldest are cut beyond it)
BIG = np.iinfo(np.int32).max


class MaskedDict(spaces.Dict):
    """A Dict space whose ``sample(mask)`` takes masks for some of its entries only (the
    others sampled freely), so PettingZoo's tools and random agents can use the game's
    ``action_mask``, which masks ``action`` and ``vote`` but not free text or beliefs."""

    def sample(self, mask: dict[str, Any] | None = None, probability: dict[str, Any] | None = None) -> dict[str, Any]:
        if mask is None:
            return super().sample(probability=probability)
        return {key: space.sample(mask=mask.get(key)) for key, space in self.spaces.items()}


class SocialDeductionEnv(ParallelEnv):
    metadata = {"name": "social_deduction_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, render_mode: str | None = None, **rules: Any):
        self.rules = Rules.from_kwargs(**rules)
        self.render_mode = render_mode
        self.possible_agents = list(self.rules.names)
        self.agents: list[str] = []
        self.game: Game | None = None
        players, actions = self.rules.players, self.rules.game_actions
        rooms = self.rules.max_width * self.rules.max_height
        mask = spaces.Dict({"action": spaces.MultiBinary(actions), "vote": spaces.MultiBinary(players + 1)})
        self._observation_space = spaces.Dict({
            "phase": spaces.Discrete(len(PHASES)),
            "tick": spaces.Box(0, BIG, (), np.int64),
            "me": spaces.Discrete(players),
            "impostor": spaces.Discrete(2),
            "impostors": spaces.MultiBinary(players),  # known to impostors only (zeros for crewmates)
            "layout": spaces.MultiDiscrete([self.rules.max_width + 1, self.rules.max_height + 1]),
            "room": spaces.MultiDiscrete([self.rules.max_width, self.rules.max_height]),
            "alive": spaces.MultiBinary(players),
            "here": spaces.MultiBinary(players),
            "entering": spaces.MultiBinary(players),
            "leaving": spaces.MultiBinary(players),
            "bodies": spaces.MultiBinary(players),
            "tasks": spaces.Box(0, self.rules.tasks[1], (rooms,), np.int64),  # own unfinished tasks per room (x + y * width)
            "busy": spaces.Box(0, self.rules.task_time, (), np.int64),
            "kill_timer": spaces.Box(0, self.rules.kill_cooldown, (), np.int64),
            "speaker": spaces.Discrete(players + 1),  # whose turn it is to speak (players: nobody)
            "action_mask": mask,
            "text": spaces.Text(TEXT_LIMIT, min_length=0, charset=CHARSET),
        })
        action_space = MaskedDict({
            "action": spaces.Discrete(actions),
            "message": spaces.Text(self.rules.message_chars, min_length=0, charset=CHARSET),
            "belief": spaces.Box(0.0, 1.0, (players,), np.float32),
            "vote": spaces.Discrete(players + 1),
        })
        # One space object per player, so that seeding one player's sampler leaves the others alone.
        self._action_spaces = {name: copy.deepcopy(action_space) for name in self.possible_agents}

    def observation_space(self, agent: str) -> gymnasium.Space:
        return self._observation_space

    def action_space(self, agent: str) -> gymnasium.Space:
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.game = Game(self.rules, seed)
        self.agents = list(self.possible_agents)
        return self._observations(), {name: self._info(name) for name in self.agents}

    def step(self, actions: dict[str, Any]):
        if self.game is None or not self.agents:
            raise RuntimeError("the game is over or not started: call reset()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidMove(f"no action for {', '.join(missing)} in the {PHASES[self.game.phase]} phase: every "
                              "player acts at every step (what the phase does not use is ignored)")
        self.game.step({name: dict(actions[name]) for name in self.agents})
        weights = self.rules.weights
        rewards = {name: float(sum(getattr(weights, c) * self.game.players[name].rewards[c] for c in CHANNELS))
                   for name in self.agents}
        observations = self._observations()
        infos = {name: self._info(name) for name in self.agents}
        over = self.game.phase == OVER
        timeout = over and self.game.end == TIMEOUT
        terminations = dict.fromkeys(self.agents, over and not timeout)
        truncations = dict.fromkeys(self.agents, timeout)
        if over:
            metrics = game_metrics(self.game)
            for info in infos.values():
                info[METRICS_KEY] = metrics
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _info(self, name: str) -> dict[str, Any]:
        assert self.game is not None
        player = self.game.players[name]
        return {"reward_channels": dict(player.rewards),
                "action_mask": {"action": self.game.game_mask(player), "vote": self.game.vote_mask(player)}}

    def _observations(self) -> dict[str, dict[str, Any]]:
        assert self.game is not None
        return {name: self._observe(name) for name in self.agents}

    def _observe(self, name: str) -> dict[str, Any]:
        game = self.game
        assert game is not None
        player = game.players[name]
        names = list(game.players)

        def members(group) -> np.ndarray:
            flags = np.zeros(len(names), dtype=np.int8)
            for other in group:
                flags[names.index(other.name)] = 1
            return flags

        tasks = np.zeros(self.rules.max_width * self.rules.max_height, dtype=np.int64)
        for task in player.tasks:
            if not task.done:
                tasks[task.room[0] + task.room[1] * self.rules.max_width] += 1
        transcript = "\n".join(player.text) + ("\n" if player.text else "")
        player.text.clear()
        speaker = game.speaker()
        alive_view = player.alive
        return {
            "phase": game.phase,
            "tick": np.int64(game.tick),
            "me": names.index(name),
            "impostor": int(player.impostor),
            "impostors": members([p for p in game.players.values() if p.impostor]) if player.impostor
            else np.zeros(len(names), dtype=np.int8),
            "layout": np.array([game.width, game.height], dtype=np.int64),
            "room": np.array(player.room, dtype=np.int64),
            "alive": members(game.living()),
            "here": members(game.stationary(player) if alive_view else []),
            "entering": members(game.entering(player) if alive_view else []),
            "leaving": members(game.leaving(player) if alive_view else []),
            "bodies": members(game.bodies_here(player) if alive_view else []),
            "tasks": tasks,
            "busy": np.int64(player.busy),
            "kill_timer": np.int64(player.kill_timer),
            "speaker": names.index(speaker) if speaker is not None else len(names),
            "action_mask": {"action": game.game_mask(player), "vote": game.vote_mask(player)},
            "text": _printable(transcript)[-TEXT_LIMIT:],
        }

    def render(self) -> str | None:
        if self.game is None:
            return None
        game = self.game
        lines = [f"tick {game.tick}, {PHASES[game.phase]}, {game.width}x{game.height} rooms"]
        for player in game.players.values():
            role = "impostor" if player.impostor else "crewmate"
            state = "alive" if player.alive else "dead"
            done = sum(t.done for t in player.tasks)
            lines.append(f"  {player.name:7} {role:8} {state:5} room {player.room} {player.activity:5} "
                         f"tasks {done}/{len(player.tasks)}")
        return "\n".join(lines)

    def close(self) -> None:
        self.game = None


def _printable(value: str) -> str:
    return "".join(c if c in CHARSET else "?" for c in value)


def parallel_env(**kwargs: Any) -> SocialDeductionEnv:
    return SocialDeductionEnv(**kwargs)


def aec_env(**kwargs: Any):
    """The AEC form, through PettingZoo's converter."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(SocialDeductionEnv(**kwargs))
