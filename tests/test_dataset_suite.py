"""`gymarena dataset make-suite`: five datasets from one online DQN run, with TQ and SACo."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("minari")
pytest.importorskip("stable_baselines3")

import minari

from gymarena.dataset_suite import KINDS, Episode, head, make_suite, tail
from gymarena.datasets import load_transitions
from gymarena.errors import GymarenaError


@pytest.fixture(autouse=True)
def minari_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))


def episode(length: int, first: int, ended: bool = True) -> Episode:
    steps = list(range(first, first + length))
    return Episode([first - 1, *steps], steps, [1.0] * length, [False] * (length - 1) + [ended], [False] * length)


def test_head_and_tail_cut_exact_transition_counts_and_mark_cut_ends_unfinished():
    episodes = [episode(5, 0), episode(5, 100), episode(5, 200)]
    first = head(episodes, 7)
    assert [e.actions for e in first] == [[0, 1, 2, 3, 4], [100, 101]]
    assert first[1].observations == [99, 100, 101] and first[1].terminations == [False, False]
    last = tail(episodes, 7)
    assert [e.actions for e in last] == [[103, 104], [200, 201, 202, 203, 204]]
    assert last[0].observations == [102, 103, 104] and last[0].terminations == [False, True]


def test_the_five_datasets_have_the_papers_shape():
    result = make_suite("classic/CartPole-v1", 3_000, say=lambda _: None)
    assert set(result.statistics) == set(KINDS)
    for kind, dataset_id in result.dataset_ids.items():
        dataset = minari.load_dataset(dataset_id)
        assert dataset.total_steps == 3_000, kind
        assert dataset.storage.metadata["gymarena_dataset_kind"] == kind
        assert json.loads(dataset.storage.metadata["gymarena_statistics"])["tq"] == pytest.approx(result.statistics[kind]["tq"])
    stats = result.statistics
    assert stats["replay"]["saco"] == 1.0
    assert stats["random"]["tq"] == 0.0
    assert stats["expert"]["dataset_return"] > stats["random"]["dataset_return"]
    assert stats["expert"]["unique_state_actions"] < stats["random"]["unique_state_actions"]
    assert len(result.online_history) == 11 and result.online_best_return == max(v for _, v in result.online_history)

    random, expert, mixed = (_states(result.dataset_ids[k]) for k in ("random", "expert", "mixed"))
    # mixed = the first 2,400 random transitions, then the last 600 expert ones
    assert np.array_equal(mixed, np.concatenate([random[:2_400], expert[-600:]]))


def _states(dataset_id: str) -> np.ndarray:
    """The state of every transition, in the order the dataset stores its episodes."""
    return np.concatenate([e.observations[:-1] for e in minari.load_dataset(dataset_id).iterate_episodes()])


def test_minigrid_datasets_store_the_flattened_view_and_nothing_is_lost_or_overwritten():
    with pytest.raises(GymarenaError, match=r"datasets are written .* TQ is undefined.* give more --transitions"):
        make_suite("minigrid/LavaGapS7-v0", 300, prefix="lava", say=lambda _: None)  # too short to learn anything
    assert load_transitions("lava/replay-v0").observations.shape == (300, 147)
    assert load_transitions("lava/expert-v0").observations.dtype == np.uint8
    with pytest.raises(GymarenaError, match=r"datasets exist already: lava/random-v0.*made with other arguments"):
        make_suite("minigrid/LavaGapS7-v0", 400, prefix="lava", say=lambda _: None)
    with pytest.raises(GymarenaError, match="no DQN recipe for mujoco/Hopper-v5"):
        make_suite("mujoco/Hopper-v5", 300, say=lambda _: None)


def test_an_interrupted_suite_keeps_what_it_wrote_and_a_rerun_makes_the_same_datasets():
    """Item 2: the datasets were written only at the end, so Ctrl-C lost everything. Now each
    is written once collected and the online run is kept: a re-run continues, without
    training again, and its datasets equal an uninterrupted run's."""
    said: list[str] = []

    def interrupt_at_expert(line: str) -> None:
        said.append(line)
        if line.startswith("collecting expert"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_suite("classic/CartPole-v1", 2_000, prefix="cut", say=interrupt_at_expert)
    assert sorted(minari.list_local_datasets()) == ["cut/random-v0", "cut/replay-v0"]
    said.clear()
    continued = make_suite("classic/CartPole-v1", 2_000, prefix="cut", say=said.append)
    assert said[0] == "continuing: cut/random-v0, cut/replay-v0 written before; making the rest"
    assert not any(line.startswith("training") for line in said) and any("was kept" in line for line in said)
    whole = make_suite("classic/CartPole-v1", 2_000, prefix="whole", say=lambda _: None)
    for kind in KINDS:
        assert np.array_equal(_states(continued.dataset_ids[kind]), _states(whole.dataset_ids[kind])), kind
    assert continued.statistics == whole.statistics
