"""Training crewmates with PPO: parameter-shared crewmates against a fixed pool of scripted
impostors, in the paper's three conditions (Sarkar et al., AAMAS 2025):

- ``win``: the sparse win reward only (standard RL);
- ``listening``: + the listening loss, a supervised cross-entropy of the belief head
  against the true impostor at every survey (the belief head is the survey answer, and it
  shares the trunk with every decision);
- ``speaking``: + the speaking reward, the game's ``speaking`` channel (how much the
  message moved the other living crewmates' pooled belief towards the impostor), credited
  to the message that caused it.

The PPO is compact and our own: Stable-Baselines3's PPO takes neither Dict actions nor
masks, and sb3-contrib's MaskablePPO masks one categorical, not four heads of which each
phase uses one, nor an auxiliary supervised loss. ``parallel`` games run in lockstep; each
step, every crew seat that decides is one row of one batched forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gymarena.baselines.scripted.social import ScriptedPlayer
from gymarena.baselines.social_rl.features import Memory, feature_size
from gymarena.baselines.social_rl.hunter import HuntingImpostor
from gymarena.baselines.social_rl.policy import HEADS, CrewPolicy, masked
from gymarena.envs.social_deduction import parallel_env
from gymarena.envs.social_deduction.rules import DISCUSSION, GAMEPLAY, VOTING, WAIT, Rules

CONDITIONS = ("win", "listening", "speaking")
IMPOSTORS = {"scripted": ScriptedPlayer, "hunter": HuntingImpostor}


@dataclass(frozen=True)
class SocialTrainArgs:
    condition: str = "win"
    seed: int = 0
    games: int = 4000  # training games in all
    parallel: int = 32  # games played in lockstep (one PPO update per round of them)
    impostors: tuple[str, ...] = ("scripted", "hunter")  # each game's impostor, drawn from these
    rules: dict[str, Any] = field(default_factory=dict)  # the task's kwargs
    learning_rate: float = 3e-4
    epochs: int = 4
    minibatch: int = 512
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    entropy: float = 0.01
    value_coef: float = 0.5
    listening_coef: float = 1.0
    speaking_coef: float = 1.0
    hidden: int = 128

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {', '.join(CONDITIONS)}, got {self.condition!r}")
        unknown = set(self.impostors) - set(IMPOSTORS)
        if unknown or not self.impostors:
            raise ValueError(f"impostors must be some of {', '.join(IMPOSTORS)}, got {self.impostors}")


@dataclass
class Trajectory:
    """One crew seat's decisions in one game."""

    features: list[np.ndarray] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    choices: list[int] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    logps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)


def new_policy(rules: Rules, hidden: int = 128) -> CrewPolicy:
    from gymarena.baselines.social_rl.vocabulary import Vocabulary

    utterances = Vocabulary(rules.names, rules.max_width, rules.max_height).size
    return CrewPolicy(feature_size(rules), rules.game_actions, utterances, rules.players, hidden)


class CrewSeats:
    """The crew seats of a set of games, played by one policy. Choices are sampled, from
    ``generator`` when given (evaluation: the same seeds give the same games): the policy is
    the stochastic one PPO trained (its most likely choice alone can loop, e.g. waiting for
    ever, which it never learned to avoid)."""

    def __init__(self, policy: CrewPolicy, rules: Rules, generator: torch.Generator | None = None):
        self.policy, self.rules, self.generator = policy, rules, generator
        self.width = max(policy.sizes.values())

    def decide(self, seats: list[tuple[Memory, dict[str, Any]]]) -> list[tuple[dict[str, Any], dict | None, np.ndarray]]:
        """Each seat's action, its decision record (None when it decided nothing) and its features."""
        if not seats:
            return []
        features = np.stack([memory.vector() for memory, _ in seats])
        with torch.no_grad():
            _, logits, belief_logits, values = self.policy(torch.as_tensor(features))
        answers = []
        for row, (memory, observation) in enumerate(seats):
            head, mask = self._decision(memory, observation)
            me, alive = int(observation["me"]), np.asarray(observation["alive"], dtype=bool)
            others = alive.copy()
            others[me] = False
            belief = torch.softmax(belief_logits[row].masked_fill(~torch.as_tensor(others), -1e9), -1).numpy()
            action = {"action": WAIT, "message": "", "belief": belief.astype(np.float32), "vote": self.rules.players}
            record = None
            if head is not None:
                padded = np.zeros(self.width, dtype=bool)
                padded[: mask.size] = mask
                distribution = masked(logits[HEADS[head]][row], torch.as_tensor(mask))
                choice = int(torch.multinomial(distribution.probs, 1, generator=self.generator))
                action[HEADS[head]] = memory.vocabulary.render(choice) if HEADS[head] == "message" else choice
                record = {"features": features[row], "head": head, "choice": choice, "mask": padded,
                          "logp": float(distribution.log_prob(torch.tensor(choice))), "value": float(values[row])}
            answers.append((action, record, features[row]))
        return answers

    def _decision(self, memory: Memory, observation: dict[str, Any]) -> tuple[int | None, np.ndarray]:
        me = int(observation["me"])
        alive = np.asarray(observation["alive"], dtype=bool)
        if not alive[me]:
            return None, np.zeros(0, dtype=bool)
        phase = int(observation["phase"])
        if phase == GAMEPLAY:
            mask = np.asarray(observation["action_mask"]["action"], dtype=bool)
            return (0, mask) if mask.sum() > 1 else (None, mask)
        if phase == DISCUSSION and int(observation["speaker"]) == me:
            return 1, memory.vocabulary.allowed(me, alive)
        if phase == VOTING:
            return 2, np.asarray(observation["action_mask"]["vote"], dtype=bool)
        return None, np.zeros(0, dtype=bool)


def play_games(crew: CrewSeats, seeds: list[int], impostors: list[str], rules: dict[str, Any],
               speaking: float = 0.0) -> tuple[list[Trajectory], list[tuple[np.ndarray, int, np.ndarray]], list[dict]]:
    """Play one game per seed in lockstep: the crew seats' trajectories, the belief
    supervision rows (features, true impostor, living others) and each game's metrics."""
    envs = [parallel_env(**rules) for _ in seeds]
    parsed = envs[0].rules
    observations = [env.reset(seed=seed)[0] for env, seed in zip(envs, seeds)]
    impostor_of = []
    memories: list[dict[str, Memory]] = []
    players: list[dict[str, Any]] = []
    for env, seed, kind in zip(envs, seeds, impostors):
        names = list(env.possible_agents)
        assert env.game is not None
        impostor = next(n for n, p in env.game.players.items() if p.impostor)
        impostor_of.append(names.index(impostor))
        player = IMPOSTORS[kind](names, parsed.max_width)
        player.reset(seed)
        players.append({impostor: player})
        memories.append({n: Memory(parsed) for n in names if n != impostor})
    trajectories = [{n: Trajectory() for n in m} for m in memories]
    supervision: list[tuple[np.ndarray, int, np.ndarray]] = []
    metrics: list[dict] = [{} for _ in seeds]
    while any(env.agents for env in envs):
        seats, where = [], []
        for g, env in enumerate(envs):
            for name in env.agents:
                if name in memories[g]:
                    memories[g][name].observe(observations[g][name])
                    seats.append((memories[g][name], observations[g][name]))
                    where.append((g, name))
        decided = crew.decide(seats)
        actions: list[dict[str, Any]] = [{} for _ in envs]
        for (g, name), (action, record, features), (_, observation) in zip(where, decided, seats):
            actions[g][name] = action
            if record is not None:
                t = trajectories[g][name]
                t.features.append(record["features"])
                t.heads.append(record["head"])
                t.choices.append(record["choice"])
                t.masks.append(record["mask"])
                t.logps.append(record["logp"])
                t.values.append(record["value"])
                t.rewards.append(0.0)
            if int(observation["phase"]) in (DISCUSSION, VOTING) and np.asarray(observation["alive"])[int(observation["me"])]:
                others = np.asarray(observation["alive"], dtype=bool).copy()
                others[int(observation["me"])] = False
                supervision.append((features, impostor_of[g], others))
        for g, env in enumerate(envs):
            if not env.agents:
                continue
            for name, player in players[g].items():
                actions[g][name] = player.act(observations[g][name])
            observations[g], _, _, _, infos = env.step(actions[g])
            for name, trajectory in trajectories[g].items():
                channels = infos[name]["reward_channels"]
                if trajectory.rewards:
                    trajectory.rewards[-1] += channels["win"] + speaking * channels["speaking"]
            if not env.agents:
                metrics[g] = next(iter(infos.values()))["gymarena_metrics"]
    return [t for per_game in trajectories for t in per_game.values() if t.heads], supervision, metrics


def advantages(trajectory: Trajectory, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """GAE over one seat's decisions (the game's end terminates it); (advantages, returns)."""
    values = np.append(np.asarray(trajectory.values, dtype=np.float64), 0.0)
    rewards = np.asarray(trajectory.rewards, dtype=np.float64)
    gae, out = 0.0, np.zeros(rewards.size)
    for t in range(rewards.size - 1, -1, -1):
        delta = rewards[t] + gamma * values[t + 1] - values[t]
        gae = delta + gamma * lam * gae
        out[t] = gae
    return out, out + values[:-1]


def update(policy: CrewPolicy, optimiser: torch.optim.Optimizer, trajectories: list[Trajectory],
           supervision: list[tuple[np.ndarray, int, np.ndarray]], args: SocialTrainArgs,
           rng: np.random.Generator) -> dict[str, float]:
    """One PPO update on a round of games (and the listening loss, in its conditions)."""
    gae = [advantages(t, args.gamma, args.lam) for t in trajectories]
    features = torch.as_tensor(np.concatenate([np.stack(t.features) for t in trajectories]))
    heads = torch.as_tensor(np.concatenate([t.heads for t in trajectories]))
    choices = torch.as_tensor(np.concatenate([t.choices for t in trajectories]))
    masks = torch.as_tensor(np.concatenate([np.stack(t.masks) for t in trajectories]))
    old_logps = torch.as_tensor(np.concatenate([t.logps for t in trajectories]), dtype=torch.float32)
    adv = torch.as_tensor(np.concatenate([a for a, _ in gae]), dtype=torch.float32)
    returns = torch.as_tensor(np.concatenate([r for _, r in gae]), dtype=torch.float32)
    listening = args.condition in ("listening", "speaking") and supervision
    if listening:
        s_features = torch.as_tensor(np.stack([f for f, _, _ in supervision]))
        s_targets = torch.as_tensor([t for _, t, _ in supervision])
        s_masks = torch.as_tensor(np.stack([m for _, _, m in supervision]))
    n = features.shape[0]
    stats: dict[str, list[float]] = {"policy": [], "value": [], "entropy": [], "listening": []}
    for _ in range(args.epochs):
        for batch in np.array_split(rng.permutation(n), max(1, n // args.minibatch)):
            index = torch.as_tensor(batch)
            _, logits, _, values = policy(features[index])
            logps = torch.zeros(index.numel())
            entropy = torch.zeros(index.numel())
            for h, name in enumerate(HEADS):
                rows = heads[index] == h
                if rows.any():
                    width = logits[name].shape[1]
                    distribution = masked(logits[name][rows], masks[index][rows][:, :width])
                    logps[rows] = distribution.log_prob(choices[index][rows])
                    entropy[rows] = distribution.entropy()
            a = adv[index]
            a = (a - a.mean()) / (a.std() + 1e-8) if a.numel() > 1 else a
            ratio = torch.exp(logps - old_logps[index])
            policy_loss = -torch.min(ratio * a, torch.clamp(ratio, 1 - args.clip, 1 + args.clip) * a).mean()
            value_loss = ((values - returns[index]) ** 2).mean()
            loss = policy_loss + args.value_coef * value_loss - args.entropy * entropy.mean()
            if listening:
                pick = torch.as_tensor(rng.choice(len(supervision), size=min(len(supervision), args.minibatch),
                                                  replace=False))
                _, _, belief, _ = policy(s_features[pick])
                listening_loss = torch.nn.functional.cross_entropy(belief.masked_fill(~s_masks[pick], -1e9), s_targets[pick])
                loss = loss + args.listening_coef * listening_loss
                stats["listening"].append(float(listening_loss.detach()))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            optimiser.step()
            stats["policy"].append(float(policy_loss.detach()))
            stats["value"].append(float(value_loss.detach()))
            stats["entropy"].append(float(entropy.mean().detach()))
    return {k: float(np.mean(v)) if v else float("nan") for k, v in stats.items()}


@dataclass
class TrainingRun:
    policy: CrewPolicy
    history: list[dict[str, float]]  # per round: crew win rate, losses


def train(args: SocialTrainArgs, say=lambda line: None) -> TrainingRun:
    """Train crewmates for ``args.games`` games; the policy and each round's figures."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    rules = Rules.from_kwargs(**args.rules)
    policy = new_policy(rules, args.hidden)
    optimiser = torch.optim.Adam(policy.parameters(), lr=args.learning_rate)
    crew = CrewSeats(policy, rules)
    speaking = args.speaking_coef if args.condition == "speaking" else 0.0
    history = []
    for first in range(0, args.games, args.parallel):
        count = min(args.parallel, args.games - first)
        seeds = [int(s) for s in rng.integers(2**31, size=count)]  # training seeds: never the evaluation's
        impostors = [str(rng.choice(args.impostors)) for _ in range(count)]
        trajectories, supervision, metrics = play_games(crew, seeds, impostors, args.rules, speaking)
        figures = update(policy, optimiser, trajectories, supervision, args, rng) if trajectories else {}
        figures["crew_win"] = float(np.mean([m["crew_win"] for m in metrics]))
        figures["games"] = first + count
        history.append(figures)
        say(f"{first + count} games: crew win {figures['crew_win']:.2f}")
    return TrainingRun(policy, history)


def evaluate(policy: CrewPolicy, seeds: list[int], impostor: str, rules: dict[str, Any], parallel: int = 64) -> list[dict]:
    """Each game's metrics with the crew playing against one impostor (its choices drawn from
    a generator seeded by the chunk's first seed: reproducible)."""
    metrics: list[dict] = []
    for first in range(0, len(seeds), parallel):
        chunk = seeds[first:first + parallel]
        crew = CrewSeats(policy, Rules.from_kwargs(**rules), torch.Generator().manual_seed(chunk[0]))
        metrics += play_games(crew, chunk, [impostor] * len(chunk), rules)[2]
    return metrics
