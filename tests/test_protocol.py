"""The protocol: what its hash covers, its JSON round trip, the episodes it lays out."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from pathlib import Path

import pytest

from gymarena.metrics import METRIC_DEFINITIONS
from gymarena.protocol import ProtocolError, RunProtocol, TaskProtocol, episode_seed
from gymarena.records import EpisodeKey
from gymarena.tasks import TaskSpec, TrialSpec, get_task

PUBLISHED = Path(__file__).parents[1] / "gymarena" / "baselines" / "published"
# The run protocol hashes the shipped baseline runs were stored under: they must stay valid.
PUBLISHED_HASHES = {
    "classic-MountainCar-v0": "9d0c6848706f7b1dc0603aeab098b45f66b3d842bf2bc9f27bb107d87b2f18f8",
    "highway-HighwayFast-v0": "a47d114591b88f158e45a5cff320b8dbb949750d7b1812c46d3f1054fcd9076b",
    "minigrid-Dynamic-Obstacles-8x8-v0": "9c21831d8400e715a05a03cd5381fca6cdf783f7e215385921687ebbf63d62a7",
    "minigrid-Empty-8x8-v0": "2c55f329e93fa7938970e4b6e8970bbebc4dcbfd2bd88e6f4dfc9c2171d20095",
    "minigrid-LavaGapS7-v0": "90695d24c09af0ab393598e4bed903e4d48d2075eecdc8b2feff94f41b25fc44",
    "quickstart": "91302777dbaf1128488bab63f30d330181d8153710480c541fe99b08029505f2",
    "traffic-SingleIntersection-v0": "74df1f1f7cb14cb3f12564618ba6ee53bb9289212efec3bc7e5bf85e643ede6c",
    "mujoco-Hopper-v5": "2107a5bbc78af88c95941adc553032796a1a5d661ce72211e5dddbd407c12151",
    "mujoco-InvertedPendulum-v5": "9b938eba0d2f7be1a9db7768a6313f1bc2a084c7684c53a63a9239f214727707",
    # the social board's reference players: the pool's code is in the protocol
    "social-core@1": "308a38458451a3cbb66200adc460ff13065552d4b9eb773c66a87ad5a179325e",
    # ... and version 2's, with the trained crews whose weights ship (gymarena/baselines/social_rl/shipped/)
    "social-core@2": "46900f318353615aefe6f0c1e69eb5be1a49fe7b68bc6d89c392559f4c7fbf5f",
}
VERSIONS = {"gymnasium": "1.2.0"}
# The simulators gymarena ships are versioned by a declared version (gymarena/versions.py) whose
# first value is the digest their source had then, under the same fact: stored results keep it.
SHIPPED_SIMULATORS = {
    ("social", "social deduction game sha256"): "c5178c15ff77965c88cd50df86db8e9a9ca5d1ad9fee6a981a569fe7380e764b",
    ("cav", "cav simulator and default NDD sha256"): "14c78076fa053bbbdddfa1655aaa9ef4a97cf8b1094180fa8d8c958fdd2106d9",
}


def _protocol(spec: TaskSpec, seeds=(0, 1), versions=VERSIONS, metrics=METRIC_DEFINITIONS) -> TaskProtocol:
    return TaskProtocol(spec, tuple(seeds), dict(versions), dict(metrics))


def test_the_hash_covers_spec_seeds_budget_metrics_and_simulator():
    spec = get_task("classic/CartPole-v1")
    base = _protocol(spec).hash
    assert base == _protocol(spec, seeds=(1, 0)).hash  # a seed set, not a sequence
    changed = [
        _protocol(spec, seeds=(0, 2)).hash,
        _protocol(spec.with_episodes(11)).hash,
        _protocol(spec, versions={"gymnasium": "1.2.1"}).hash,
        _protocol(spec, metrics={**METRIC_DEFINITIONS, "version": 2}).hash,
        _protocol(dataclasses.replace(spec, max_episode_steps=200)).hash,
    ]
    assert len({base, *changed}) == 6


def test_shipped_published_runs_keep_their_protocol_hashes():
    documents = sorted(PUBLISHED.glob("*.json.gz"))
    assert len(documents) >= 30
    for path in documents:
        document = json.loads(gzip.decompress(path.read_bytes()))
        protocol = RunProtocol.from_json(document["tasks"])  # each task hash checked against its fields
        subject = re.sub(r"^[\w-]+?-seed\d-", "", path.name.removesuffix(".json.gz"))
        if (document.get("suite") or "").startswith("social-core@"):  # a social board's run: the board's suite
            subject = document["suite"]
        assert protocol.hash == PUBLISHED_HASHES[subject], path.name


def test_the_shipped_simulators_keep_their_first_versions():
    import importlib

    from gymarena.wrappers import FAMILIES

    for (family, fact), pinned in SHIPPED_SIMULATORS.items():
        version = importlib.import_module(FAMILIES[family].adapter).protocol_facts()[fact]
        assert version == pinned, (
            f"the {family} simulator's declared version moved: every stored {family} result is now under another "
            "protocol. Bump it only when its behaviour changed (gymarena/versions.py), then update this pin")


def test_a_newer_simulator_version_is_told_in_words():
    from gymarena.versions import SOCIAL_GAME

    spec = get_task("social/Impostor-5p1i-v0")
    first = _protocol(spec, versions={"social deduction game sha256": SOCIAL_GAME.values[0]})
    bumped = _protocol(spec, versions={"social deduction game sha256": "2"})
    assert first.differences(bumped) == ["social/Impostor-5p1i-v0: social deduction game version 2 instead of version 1"]


def test_the_social_boards_installed_protocols_are_the_ones_their_published_players_ran_under():
    from gymarena.installed import suite_protocol

    for board in ("social-core@1", "social-core@2"):
        assert suite_protocol(board).hash == PUBLISHED_HASHES[board], (
            f"{board}: the pool's pinned code moved (the built-in `scripted` agent is every file of "
            "gymarena/baselines/scripted/; a trained crew is its shipped weights and the social_rl modules that play "
            "it, gymarena/baselines/social_rl/shipped.py): new players belong elsewhere, or the board needs a new "
            "version")


def test_adates_code_is_pinned_in_its_own_task_only():
    from gymarena.installed import installed_protocol

    adate, nade = (installed_protocol([get_task(t)], (0,)).tasks[0].simulator_versions
                   for t in ("cav/Highway2Lane-AdaTE-v0", "cav/Highway2Lane-NADE-v0"))
    assert re.fullmatch(r"[0-9a-f]{64}", adate["cav AdaTE sha256"]) and "cav AdaTE sha256" not in nade
    simulator = "cav simulator and default NDD sha256"
    assert adate[simulator] == nade[simulator] == SHIPPED_SIMULATORS[("cav", simulator)]


def test_json_round_trip_and_forged_or_malformed_documents_are_refused():
    protocol = RunProtocol((_protocol(get_task("classic/CartPole-v1")), _protocol(get_task("minigrid/DoorKey-5x5-v0"))))
    again = RunProtocol.from_json(json.loads(json.dumps(protocol.to_json())))
    assert again == protocol and again.hash == protocol.hash
    forged = protocol.to_json()
    forged[0]["seeds"] = [5, 6]  # other seeds under the old hash
    with pytest.raises(ProtocolError, match="does not match its spec"):
        RunProtocol.from_json(forged)
    renamed = protocol.to_json()
    renamed[0]["task_id"] = "classic/Other-v0"
    with pytest.raises(ProtocolError, match="names another task"):
        RunProtocol.from_json(renamed)
    for broken in ({"spec": {}}, {**protocol.to_json()[0], "seeds": "zero"}, {**protocol.to_json()[0], "spec": {"id": 1}}):
        with pytest.raises(ProtocolError, match="malformed"):
            TaskProtocol.from_json(broken)
    with pytest.raises(ProtocolError):
        RunProtocol.from_json("not a list")


def test_episode_layout_of_sweeps_and_trials():
    swept = _protocol(dataclasses.replace(get_task("classic/Pendulum-v1"), episodes=2, decision_intervals=(1, 3)))
    assert swept.native_interval == 1 and swept.expected_episodes == 8
    assert swept.episode_keys()[:4] == [EpisodeKey(swept.task_id, 0, e, i) for i in (1, 3) for e in (0, 1)]
    trial = dataclasses.replace(get_task("classic/CartPole-v1"), episodes=2, trial=TrialSpec(adaptation=2, evaluation=1))
    trials = _protocol(trial, seeds=(4,))
    assert trials.unit_keys() == [EpisodeKey(trial.id, 4, 0), EpisodeKey(trial.id, 4, 3)]
    assert trials.unit_episode_keys(EpisodeKey(trial.id, 4, 3)) == [EpisodeKey(trial.id, 4, e) for e in (3, 4, 5)]
    assert trials.expected_episodes == len(trials.episode_keys()) == 6
    # every episode of a trial carries the trial's seed; other tasks' each their own
    assert {trials.episode_seed(k) for k in trials.episode_keys()[3:]} == {episode_seed(4, 3)}
    assert swept.episode_seed(EpisodeKey(swept.task_id, 1, 1, 3)) == episode_seed(1, 1)


def test_missing_units_replay_whole_trials():
    trial = dataclasses.replace(get_task("classic/CartPole-v1"), episodes=2, trial=TrialSpec(adaptation=1, evaluation=1))
    protocol = RunProtocol((_protocol(trial, seeds=(0,)),))
    todo, stored, total = protocol.missing({EpisodeKey(trial.id, 0, 0), EpisodeKey(trial.id, 0, 1), EpisodeKey(trial.id, 0, 2)})
    assert (todo, stored, total) == ([EpisodeKey(trial.id, 0, 2)], 2, 4)


def test_differences_say_what_changed():
    cartpole, doorkey = get_task("classic/CartPole-v1"), get_task("minigrid/DoorKey-5x5-v0")
    ours = RunProtocol((_protocol(cartpole), _protocol(doorkey)))
    assert ours.differences(ours) == []
    theirs = RunProtocol((_protocol(cartpole.with_episodes(3), seeds=(7,), versions={"gymnasium": "9"}),))
    found = ours.differences(theirs)
    assert found[0] == "lacks tasks minigrid/DoorKey-5x5-v0"
    assert "classic/CartPole-v1: seeds [7] instead of [0, 1]" in found
    assert "classic/CartPole-v1: 3 episodes per seed instead of 10" in found
    assert "classic/CartPole-v1: gymnasium 9 instead of 1.2.0" in found
    assert RunProtocol(tuple(reversed(ours.tasks))).differences(ours) == ["the tasks come in another order"]


def test_bulk_episode_seeds_are_seedsequences_words_over_the_whole_range():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gymarena.protocol import episode_seed
    from gymarena.seeding import REMEMBERED, episode_seeds, remember

    words = st.integers(0, 2**32 - 1)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(words, words), min_size=1, max_size=40))
    def agree(pairs):
        REMEMBERED.clear()
        expected = [episode_seed(seed, episode) for seed, episode in pairs]  # SeedSequence itself
        assert episode_seeds([s for s, _ in pairs], [e for _, e in pairs]) == expected
        remember(pairs)
        assert [episode_seed(seed, episode) for seed, episode in pairs] == expected

    agree()
    remember([(2**32, 0), (0, -1)])  # out of the 32-bit range: left to SeedSequence
    assert REMEMBERED == {}
    REMEMBERED.clear()
