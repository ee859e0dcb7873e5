"""The trainable players' utterance vocabulary, and the hunting impostor."""

from __future__ import annotations

import numpy as np
import pytest

from gymarena.agents import PerAgent
from gymarena.baselines.scripted import social as scripted
from gymarena.baselines.social_rl.hunter import HuntingImpostor
from gymarena.baselines.social_rl.vocabulary import KINDS, NOTHING, SAW_KILL, SUSPECT, Utterance, Vocabulary, heard
from gymarena.envs.social_deduction import parallel_env
from gymarena.envs.social_deduction.rules import COLOURS, DISCUSSION, Rules


@pytest.mark.parametrize(("players", "width", "height"), [(5, 3, 2), (7, 3, 1)])
def test_every_utterance_renders_to_its_own_sentence_and_parses_back(players, width, height):
    vocabulary = Vocabulary(COLOURS[:players], width, height)
    sentences = [vocabulary.render(i) for i in range(vocabulary.size)]
    assert len(set(sentences)) == vocabulary.size == 1 + players * width * height + players * players + 2 * players
    assert [vocabulary.index(vocabulary.parse(s)) for s in sentences] == list(range(vocabulary.size))
    assert max(map(len, sentences)) <= Rules().message_chars
    assert {vocabulary.utterance(i).kind for i in range(vocabulary.size)} == set(KINDS)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocabulary.utterance(vocabulary.size)


def test_the_scripted_players_understand_what_is_rendered_and_are_understood():
    vocabulary = Vocabulary(COLOURS[:5], 3, 2)
    kill = vocabulary.render(vocabulary.index(Utterance(SAW_KILL, 0, 4)))
    suspect = vocabulary.render(vocabulary.index(Utterance(SUSPECT, 2)))
    assert scripted.SAW.search(kill).groups() == ("Red", "Blue") and scripted.SUSPECT.search(suspect)[1] == "Orange"
    # the scripted players' own sentences, as they speak them
    assert vocabulary.parse("I saw Player Red kill Player Blue in room (1,0).") == Utterance(SAW_KILL, 0, 4)
    assert vocabulary.parse("I vote Player Green.") == Utterance(SUSPECT, 1)
    assert vocabulary.parse("I have no information. I was doing my tasks.") == Utterance(NOTHING)
    assert vocabulary.parse("I saw Player Nobody kill Player Red.") == Utterance(NOTHING)  # unknown names say nothing


def test_what_may_be_said_names_living_others_and_dead_victims():
    vocabulary = Vocabulary(COLOURS[:5], 3, 2)
    alive = np.array([True, True, False, True, True])
    mask = vocabulary.allowed(0, alive)
    said = [vocabulary.utterance(i) for i in np.flatnonzero(mask)]
    assert Utterance(NOTHING) in said and all(u.subject not in (0, 2) for u in said if u.kind != NOTHING)
    assert {u.victim for u in said if u.kind == SAW_KILL} == {2}


def test_messages_are_heard_from_a_real_games_transcript():
    env = parallel_env()
    names = list(env.possible_agents)
    vocabulary = Vocabulary(names, env.rules.max_width, env.rules.max_height)
    for seed in range(40):
        table = PerAgent(names, lambda name: scripted.ScriptedPlayer(names, env.rules.max_width))
        table.reset(seed)
        observations, _ = env.reset(seed=seed)
        said, read = [], []
        while env.agents:
            actions = table.act(observations)
            speaker = env.game.speaker() if env.game.phase == DISCUSSION else None
            if speaker is not None:
                said.append((names.index(speaker), vocabulary.parse(actions[speaker]["message"])))
            observations, *_ = env.step(actions)
            if env.agents:
                read += heard(observations[names[0]]["text"], vocabulary)
        if said and env.game.players[names[0]].alive:
            break
    assert said and len(read) >= len(said) - 1 and read == said[: len(read)]  # what player 0 read is what was said


def test_the_hunting_impostor_kills_more_and_wins_more_than_the_scripted_one():
    def play(player_class, games: int = 200) -> tuple[float, float]:
        env = parallel_env()
        names = list(env.possible_agents)
        kills, wins = [], []
        for seed in range(games):
            table = PerAgent(names, lambda name: player_class(names, env.rules.max_width))
            table.reset(seed)
            observations, _ = env.reset(seed=seed)
            while env.agents:
                observations, _, _, _, infos = env.step(table.act(observations))
            metrics = next(iter(infos.values()))["gymarena_metrics"]
            kills.append(metrics["kills"])
            wins.append(metrics["impostor_win"])
        return float(np.mean(kills)), float(np.mean(wins))

    scripted_kills, scripted_wins = play(scripted.ScriptedPlayer)
    hunter_kills, hunter_wins = play(HuntingImpostor)
    assert hunter_kills > scripted_kills and hunter_wins > 1.5 * scripted_wins, (scripted_kills, hunter_kills,
                                                                                  scripted_wins, hunter_wins)
