"""Trainable crewmates: their memory, the PPO loop on tiny budgets, the listening loss and
the speaking reward's credit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gymarena.baselines.social_rl.features import Memory, feature_size
from gymarena.baselines.social_rl.training import (
    CONDITIONS,
    CrewSeats,
    SocialTrainArgs,
    evaluate,
    new_policy,
    play_games,
    train,
    update,
)
from gymarena.envs.social_deduction import parallel_env
from gymarena.envs.social_deduction.rules import Rules

SHORT = {"max_ticks": 120}  # untrained crews wander: keep their games short


def test_the_memory_keeps_what_was_seen_and_heard():
    env = parallel_env()
    observations, _ = env.reset(seed=3)
    memory = Memory(env.rules)
    observation = dict(observations["green"])
    observation["text"] = "\n".join([
        "[4] World (to you): You notice Player Red killing Player Blue!",
        '[5] Player Orange (to all): "I saw Player Purple kill Player Blue."',
        '[5] Player Purple (to all): "I suspect Player Green."',
        '[6] Player Green (you) (to all): "I suspect Player Red."',
    ])
    memory.observe(observation)
    vector = memory.vector()
    assert vector.shape == (feature_size(env.rules),) and np.isfinite(vector).all()
    assert memory.counts["saw_kill"].tolist() == [1, 0, 0, 0, 0]
    assert memory.counts["accused"].tolist() == [0, 0, 0, 1, 0]  # orange's claim about purple
    assert memory.counts["accused_me"].tolist() == [0, 0, 0, 1, 0]  # purple accused green: green knows it is false
    assert memory.counts["suspected"].sum() == 0  # green's own message is not evidence


@pytest.mark.parametrize("condition", CONDITIONS)
def test_training_runs_on_a_tiny_budget_and_the_crew_plays_valid_games(condition):
    run = train(SocialTrainArgs(condition=condition, games=24, parallel=12, rules=SHORT, epochs=1))
    assert [h["games"] for h in run.history] == [12, 24] and all(0 <= h["crew_win"] <= 1 for h in run.history)
    assert np.isfinite(run.history[-1]["policy"]) and (np.isfinite(run.history[-1]["listening"]) == (condition != "win"))
    metrics = evaluate(run.policy, [10, 11, 12], "hunter", SHORT)
    assert len(metrics) == 3 and all(m["end"] for m in metrics)  # every game played to its end by the rules
    assert evaluate(run.policy, [10, 11, 12], "hunter", SHORT) == metrics  # the same seeds, the same games
    with pytest.raises(ValueError, match="condition must be one of"):
        SocialTrainArgs(condition="loud")


def test_the_listening_loss_teaches_the_belief_head_who_the_impostor_is():
    rules = Rules()
    torch.manual_seed(0)
    policy = new_policy(rules, hidden=32)
    rng = np.random.default_rng(0)
    supervision = []
    for _ in range(256):  # the feature that names the impostor: what the crewmate saw kill
        impostor = int(rng.integers(1, 5))
        features = np.zeros(feature_size(rules), dtype=np.float32)
        memory_start = 4 + rules.players * 6  # phase, identity and the five per-player flags
        features[memory_start + 2 * rules.players + impostor] = 1.0  # the saw_kill slot of the impostor
        others = np.ones(rules.players, dtype=bool)
        others[0] = False
        supervision.append((features, impostor, others))
    args = SocialTrainArgs(condition="listening", epochs=60, minibatch=256, learning_rate=3e-3)
    crew_trajectory = play_games(CrewSeats(policy, rules), [0], ["scripted"], SHORT)[0]
    optimiser = torch.optim.Adam(policy.parameters(), lr=args.learning_rate)
    first = update(policy, optimiser, crew_trajectory, supervision, args, rng)["listening"]
    last = update(policy, optimiser, crew_trajectory, supervision, args, rng)["listening"]
    assert first > 0.5 and last < 0.1, (first, last)


def test_the_speaking_reward_is_credited_to_messages_only_when_it_is_trained():
    rules = Rules()
    policy = new_policy(rules)
    seeds = list(range(40))

    def message_rewards(speaking: float) -> np.ndarray:
        torch.manual_seed(1)
        trajectories, _, _ = play_games(CrewSeats(policy, rules), seeds, ["hunter"] * len(seeds), {}, speaking)
        return np.array([r for t in trajectories for h, r in zip(t.heads, t.rewards) if h == 1])

    assert message_rewards(0.0).size > 0 and np.all(message_rewards(0.0) == 0)
    assert np.any(message_rewards(1.0) != 0)


def test_a_saved_crew_policy_plays_every_seat_of_a_table_as_it_was_trained(tmp_path):
    from gymarena.baselines.social_rl.player import crew_agent, load_policy, save_policy
    from gymarena.errors import AgentLoadError

    args = SocialTrainArgs(condition="speaking", games=12, parallel=12, rules=SHORT, epochs=1)
    run = train(args)
    path = save_policy(run.policy, args, tmp_path / "crew.pt")
    policy, loaded = load_policy(path)
    assert loaded == args
    features = torch.rand(3, feature_size(Rules()))
    assert torch.equal(policy(features)[1]["vote"], run.policy(features)[1]["vote"])
    env = parallel_env(**SHORT)
    agent = crew_agent(path, env.possible_agents, SHORT)
    agent.reset(7)
    observations, _ = env.reset(seed=7)
    while env.agents:
        observations, _, _, _, infos = env.step(agent.act(observations))  # the masks hold: every move is legal
    assert next(iter(infos.values()))["gymarena_metrics"]["end"]
    with pytest.raises(AgentLoadError, match="trained for 5 players"):
        crew_agent(path, env.possible_agents, {"players": 7, "impostors": 2})
    (tmp_path / "other.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(AgentLoadError, match="not a crew policy checkpoint"):
        load_policy(tmp_path / "other.pt")
