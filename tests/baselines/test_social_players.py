"""The social deduction agents: scripted players and the language-model adapter."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.agents import PerAgent
from gymarena.baselines.scripted.social import ScriptedPlayer
from gymarena.envs.social_deduction import parallel_env
from gymarena.envs.social_deduction.game import Task
from gymarena.envs.social_deduction.llm import LanguageModelPlayer
from gymarena.envs.social_deduction.rules import DISCUSSION, DO_TASK, EAST, GAMEPLAY, SOUTH, VOTING


def scripted_table(env, seed: int, listens: bool = True) -> PerAgent:
    names = list(env.possible_agents)
    table = PerAgent(names, lambda name: ScriptedPlayer(names, env.rules.max_width, listens))
    table.reset(seed)
    return table


def arranged_env(impostor: str = "red"):
    """An env whose impostor is ``impostor`` and whose crewmates each have one task in (2, 1)."""
    env = parallel_env()
    env.reset(seed=0)
    for player in env.game.players.values():
        player.impostor = player.name == impostor
        player.tasks = [] if player.impostor else [Task((2, 1))]
        player.kill_timer = 6 if player.impostor else 0
        player.text.clear()
    return env, env._observations()


def test_a_witness_tells_and_the_listening_crew_ejects_the_killer():
    env, observations = arranged_env()
    table = scripted_table(env, 0)
    game = env.game
    for _ in range(6):  # everyone waits in the start room while red's cooldown runs out
        observations, *_ = env.step({n: {**table.act(observations)[n], "action": 0} for n in env.agents})
    actions = {n: {**a, "action": 0} for n, a in table.act(observations).items()}
    actions["red"]["action"] = 7 + 1  # red kills green in front of everyone
    observations, *_ = env.step(actions)
    observations, *_ = env.step(table.act(observations))  # a witness reports at once
    assert game.phase == DISCUSSION
    said = []
    while game.phase in (DISCUSSION, VOTING):
        speaker = game.speaker()
        actions = table.act(observations)
        if speaker is not None:
            said.append(actions[speaker]["message"])
        observations, _rewards, _terminations, _truncations, infos = env.step(actions)
    assert any("I saw Player Red kill Player Green" in m for m in said)
    assert not game.players["red"].alive and game.winner == "crew"
    assert infos["blue"]["gymarena_metrics"]["identification_precision"] == 1.0


def test_scripted_crewmates_walk_to_their_tasks_and_do_them():
    env, observations = arranged_env()
    table = scripted_table(env, 0)
    player = ScriptedPlayer(list(env.possible_agents), env.rules.max_width)
    player.reset(0)
    first = player.act(observations["green"])
    assert first["action"] in (EAST, SOUTH)  # from (1, 0) towards (2, 1)
    for _ in range(12):
        if not env.agents:
            break
        observations, *_ = env.step(table.act(observations))
    assert env.game.players["green"].tasks[0].done
    assert env.game.end == "all tasks done"  # the one-task crew finishes before the impostor gets far


@pytest.mark.parametrize("listens", [True, False])
def test_scripted_games_always_play_valid_actions_to_the_end(listens):
    env = parallel_env(layouts="randomized")
    for seed in range(30):
        table = scripted_table(env, seed, listens)
        observations, _ = env.reset(seed=seed)
        while env.agents:
            observations, _rewards, _terminations, _truncations, infos = env.step(table.act(observations))
        assert infos["red"]["gymarena_metrics"]["winner"] in ("crew", "impostors")


def test_the_scripted_agent_runs_through_the_runner(store):
    from gymarena.runner import EvalRequest, evaluate

    result = evaluate(EvalRequest(tasks=("social/Impostor-7p2i-v0",), seeds=(0, 1), episodes=2, agent="scripted"), store)
    assert result.run.status == "complete"
    assert all(r.error is None and r.extra["winner"] in ("crew", "impostors") for r in store.episodes(result.run.id))


class ScriptedModel:
    """A stand-in for a language model: answers from what the prompt asks."""

    def __init__(self):
        self.prompts = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        tail = prompt[-400:]
        if "You can perform any of the following actions" in tail:
            options = dict(part.split(": ", 1) for part in tail.split("actions: ", 1)[1].split("\n")[0].split(", "))
            letter = next((k for k, v in options.items() if v == "do task"), next(iter(options)))
            return f" {letter}"
        if tail.endswith('saying: "'):
            return 'I saw Player Blue vent in room (0,1)." and more'
        if "most suspicious" in tail:
            return " Blue"
        if "What will you vote" in tail:
            return " I am not sure, maybe nobody"
        return ""


def test_the_language_model_adapter_builds_prompts_and_parses_replies():
    env = parallel_env()
    observations, _ = env.reset(seed=0)
    names = list(env.possible_agents)
    crewmate = next(n for n in names if not observations[n]["impostor"])
    model = ScriptedModel()
    player = LanguageModelPlayer(model, names)
    player.reset(0)
    env.game.players[crewmate].tasks = [Task((1, 0))]  # a task in the start room
    first = dict(env._observe(crewmate), text=observations[crewmate]["text"])  # with the game's introduction
    action = player.act(first)
    prompt = model.prompts[-1]
    assert "You are a Crewmate." in prompt  # the transcript so far
    assert "A: wait" in prompt and "do task" in prompt and prompt.endswith(f"Player {crewmate.capitalize()} (you):")
    assert action["action"] == DO_TASK

    observation = dict(first, phase=DISCUSSION, speaker=names.index(crewmate), text="")
    action = player.act(observation)
    assert action["message"] == "I saw Player Blue vent in room (0,1)."  # up to the closing quote
    assert np.array_equal(action["belief"], np.eye(len(names), dtype=np.float32)[names.index("blue")]) or crewmate == "blue"

    observation = dict(observation, phase=VOTING, speaker=len(names),
                       action_mask={"action": observation["action_mask"]["action"], "vote": np.ones(len(names) + 1, np.int8)})
    unparsed = player.unparsed
    action = player.act(observation)
    assert action["vote"] == len(names) and player.unparsed == unparsed + 1  # no colour in the reply: skip, counted


def test_language_model_players_play_whole_games():
    from gymarena.envs.social_deduction.llm import language_model_players
    from gymarena.tasks import get_task

    task = get_task("social/Impostor-5p1i-v0")
    env = parallel_env()
    observations, _ = env.reset(seed=4)
    agent = language_model_players(ScriptedModel())(task, {n: env.observation_space(n) for n in env.possible_agents},
                                                    {n: env.action_space(n) for n in env.possible_agents})
    agent.reset(4)
    while env.agents:
        observations, _rewards, _terminations, _truncations, infos = env.step(agent.act(observations))
    assert env.game.phase != GAMEPLAY and infos["red"]["gymarena_metrics"]["ticks"] > 0
