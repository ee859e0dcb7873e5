"""The social deduction game through PettingZoo and through gymarena's runner."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test

from gymarena.envs.social_deduction import RewardWeights, aec_env, parallel_env
from gymarena.envs.social_deduction.game import InvalidMove
from gymarena.envs.social_deduction.rules import FIRST_KILL, GAMEPLAY, OVER


def test_the_parallel_env_passes_pettingzoo_api_test():
    parallel_api_test(parallel_env(), num_cycles=1000)


def test_the_aec_form_passes_pettingzoo_api_test():
    api_test(aec_env(), num_cycles=1000)


def test_pettingzoo_seed_test_passes():
    """(PettingZoo's parallel_seed_test samples actions without their masks, which the game
    rejects; test_same_seed_same_game checks the parallel form within the masks.)"""
    seed_test(aec_env, num_cycles=300)


def _game(seed: int, **rules) -> list[str]:
    """A whole game of masked random play: every player's transcript, in order."""
    env = parallel_env(**rules)
    for index, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed * 100 + index)
    observations, _ = env.reset(seed=seed)
    transcript = []
    while env.agents:
        transcript += [observations[a]["text"] for a in env.agents]
        actions = {a: env.action_space(a).sample(mask=observations[a]["action_mask"]) for a in env.agents}
        observations, *_ = env.step(actions)
    return transcript


def test_same_seed_same_game():
    assert _game(3) == _game(3)
    assert _game(3) != _game(4)
    assert _game(5, layouts="randomized") == _game(5, layouts="randomized")


def test_observations_carry_the_structured_state_and_the_text():
    env = parallel_env()
    observations, infos = env.reset(seed=0)
    impostor = next(a for a in env.agents if observations[a]["impostor"])
    crewmate = next(a for a in env.agents if not observations[a]["impostor"])
    assert observations[impostor]["impostors"][env.possible_agents.index(impostor)] == 1
    assert not observations[crewmate]["impostors"].any()  # crewmates do not know
    assert list(observations[crewmate]["room"]) == [1, 0] and list(observations[crewmate]["layout"]) == [3, 2]
    assert observations[crewmate]["here"].sum() == 4 and 3 <= observations[crewmate]["tasks"].sum() <= 5
    assert observations[impostor]["kill_timer"] == 6 and observations[crewmate]["phase"] == GAMEPLAY
    assert "You are a Crewmate." in observations[crewmate]["text"]
    assert "You are an Imposter." in observations[impostor]["text"]
    assert f"You are Player {crewmate.capitalize()}." in observations[crewmate]["text"]
    assert np.array_equal(observations[crewmate]["action_mask"]["action"], infos[crewmate]["action_mask"]["action"])
    for agent in env.agents:
        assert env.observation_space(agent).contains(observations[agent])


def test_an_invalid_action_is_a_clear_error_naming_agent_phase_and_action():
    env = parallel_env()
    observations, _ = env.reset(seed=0)
    crewmate = next(a for a in env.agents if not observations[a]["impostor"])
    actions = {a: env.action_space(a).sample(mask=observations[a]["action_mask"]) for a in env.agents}
    actions[crewmate]["action"] = FIRST_KILL  # crewmates cannot kill
    with pytest.raises(InvalidMove, match=rf"{crewmate} cannot kill red \(action {FIRST_KILL}\) in the gameplay phase at tick 0"):
        env.step(actions)
    del actions[crewmate]
    with pytest.raises(InvalidMove, match=f"no action for {crewmate} in the gameplay phase"):
        env.step(actions)


def test_rewards_are_the_weighted_channels_reported_in_info():
    weights = {"win": 1.0, "task": 0.5, "listening": 2.0, "speaking": 3.0}
    env = parallel_env(weights=weights)
    seen = dict.fromkeys(weights, 0.0)
    for seed in range(20):  # enough games for meetings (listening, speaking) and wins
        observations, _ = env.reset(seed=seed)
        while env.agents:
            actions = {a: env.action_space(a).sample(mask=observations[a]["action_mask"]) for a in env.agents}
            observations, rewards, _terminations, _truncations, infos = env.step(actions)
            for agent, reward in rewards.items():
                channels = infos[agent]["reward_channels"]
                assert reward == pytest.approx(sum(weights[c] * v for c, v in channels.items()))
                for channel, value in channels.items():
                    seen[channel] += abs(value)
    assert all(total > 0 for total in seen.values()), seen
    assert RewardWeights() == RewardWeights(win=1.0, task=0.0, listening=0.0, speaking=0.0)


def test_a_finished_game_reports_its_metrics_and_ends_for_everyone():
    env = parallel_env()
    observations, _ = env.reset(seed=2)
    while env.agents:
        actions = {a: env.action_space(a).sample(mask=observations[a]["action_mask"]) for a in env.agents}
        observations, _rewards, terminations, truncations, infos = env.step(actions)
    metrics = infos["red"]["gymarena_metrics"]
    assert env.game.phase == OVER and all(terminations.values()) != all(truncations.values())
    assert metrics["winner"] in ("crew", "impostors", "none") and metrics["crew_win"] + metrics["impostor_win"] <= 1
    assert metrics["ended_no_impostors"] + metrics["ended_tasks_done"] + metrics["ended_parity"] + metrics["ended_timeout"] == 1
    assert 0 <= metrics["tasks_completed"] <= 1 and 0 <= metrics["crew_survival"] <= 1


def test_the_runner_plays_social_games_with_the_random_agent(store):
    from gymarena.runner import EvalRequest, evaluate

    result = evaluate(EvalRequest(tasks=("social/Impostor-5p1i-v0",), seeds=(0, 1), episodes=3), store)
    assert result.run.status == "complete"
    records = store.episodes(result.run.id)
    assert len(records) == 6 and all(r.error is None for r in records)
    for record in records:
        assert record.success == bool(record.extra["crew_win"])
        assert set(record.agent_returns) == {"red", "green", "orange", "purple", "blue"}
        assert record.episode_return == sum(record.agent_returns.values())
