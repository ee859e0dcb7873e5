"""TQ and SACo of offline datasets: definitions, exact counting, Minari and .npz input, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gymarena.cli import app
from gymarena.datasets import load_transitions
from gymarena.errors import DatasetError
from gymarena.metrics import dataset
from gymarena.metrics.dataset import Transitions


def test_trailing_partial_episode_is_dropped_from_the_return():
    rewards = np.array([1, 1, 1, 5, 5, 2, 2, 2, 2.0])
    dones = np.array([0, 0, 1, 0, 1, 0, 0, 0, 0], dtype=bool)  # episodes 3 and 10; then a partial one
    assert dataset.completed_episode_returns(rewards, dones) == pytest.approx([3.0, 10.0])
    assert dataset.dataset_return(rewards, dones) == pytest.approx(6.5)
    with pytest.raises(ValueError, match="no completed episode"):
        dataset.dataset_return(rewards, np.zeros(9, dtype=bool))


def test_trajectory_quality_is_zero_for_random_and_one_for_the_best_online_return():
    assert dataset.trajectory_quality(10.0, 10.0, 200.0) == 0.0
    assert dataset.trajectory_quality(200.0, 10.0, 200.0) == 1.0
    assert dataset.trajectory_quality(105.0, 10.0, 200.0) == pytest.approx(0.5)


def test_unique_counts_on_hand_built_rows():
    # With limits [0, 99] and 100 bins the edges are 0..99: value v falls in bin floor(v) + 1.
    limits = np.array([[0.0, 99.0], [0.0, 99.0]])
    rows = np.array([[0.2, 1.0], [0.7, 1.0], [1.0, 1.0], [1.5, 1.9], [50.0, 3.0], [50.9, 3.5]])
    # bins: (1,2) (1,2) (2,2) (2,2) (51,4) (51,4) -> 3 distinct rows
    assert dataset.unique_state_actions(rows, limits) == 3
    assert dataset.unique_state_actions(rows, limits, bins=2) == 1  # edges 0 and 99: every value in bin 1
    assert dataset.unique_state_actions(np.zeros((5, 3))) == 1


def test_digitise_equals_numpy_digitize_exactly_at_and_next_to_every_edge():
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for low, high in ((-1.3, 2.7), (1e6, 1e6 + 1e-3), (0.0, 1e3)):
            edges = np.linspace(low, high, num=100)
            values = np.concatenate([
                rng.uniform(low - (high - low) / 5, high + (high - low) / 5, 5000),
                edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
            ]).astype(dtype)
            codes = dataset.digitise(values[:, None], np.array([[low, high]]))
            assert np.array_equal(codes[:, 0], np.digitize(values, edges)), (dtype, low, high)


def test_exact_count_matches_a_python_set_of_row_strings():
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 6, size=(5000, 4)).astype(float) + rng.random((5000, 4)) * 0.01
    limits = dataset.state_action_limits(rows)
    edges = [np.linspace(lo, hi, num=100) for lo, hi in limits]
    reference = {",".join(str(np.digitize(row[d], edges[d])) for d in range(4)) for row in rows}
    assert dataset.unique_state_actions(rows, limits) == len(reference)


def _transitions(states, actions, rewards, dones) -> Transitions:
    return Transitions(np.asarray(states, float), np.asarray(actions), np.asarray(rewards, float), np.asarray(dones, bool))


def test_statistics_of_the_reference_and_random_datasets():
    rng = np.random.default_rng(2)
    states = rng.normal(size=(400, 3))
    replay = _transitions(states, rng.integers(0, 2, 400), rng.random(400), rng.random(400) < 0.05)
    random = _transitions(states[:100], rng.integers(0, 2, 100), np.zeros(100), np.arange(100) % 10 == 9)
    stats_replay = dataset.dataset_statistics(replay, replay, random, online_best_return=50.0)
    assert stats_replay.saco == 1.0 and stats_replay.lsaco == 1.0
    stats_random = dataset.dataset_statistics(random, replay, random, online_best_return=50.0)
    assert stats_random.tq == 0.0
    assert stats_random.episodes == 10
    assert 0 < stats_random.saco < 1
    assert stats_random.to_dict()["counting"].startswith("exact")
    assert stats_random.limits_from == "reference" and stats_random.bins == 100


def test_mismatched_lengths_and_dimensions_are_refused():
    with pytest.raises(ValueError, match="one row per transition"):
        _transitions(np.zeros((3, 2)), np.zeros(2), np.zeros(3), np.zeros(3))
    small = _transitions(np.zeros((3, 2)), np.zeros(3), np.zeros(3), [0, 0, 1])
    big = _transitions(np.zeros((3, 5)), np.zeros(3), np.zeros(3), [0, 0, 1])
    with pytest.raises(ValueError, match="same task"):
        dataset.dataset_statistics(small, big, big, 1.0)


def _write_npz(path, states, actions, rewards, dones):
    np.savez(path, observations=states, actions=actions, rewards=rewards, dones=dones)
    return str(path)


def test_dataset_stats_cli_on_npz_files(tmp_path):
    rng = np.random.default_rng(3)
    states = rng.normal(size=(300, 2))
    replay = _write_npz(tmp_path / "replay.npz", states, rng.integers(0, 3, 300), np.ones(300), np.arange(300) % 30 == 29)
    random = _write_npz(tmp_path / "random.npz", states[:60], rng.integers(0, 3, 60), np.ones(60), np.arange(60) % 6 == 5)
    result = CliRunner().invoke(app, ["dataset", "stats", random, "--reference", replay, "--random", random,
                                      "--online-best", "30", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["tq"] == 0.0 and payload["dataset_return"] == 6.0 and payload["episodes"] == 10
    table = CliRunner().invoke(app, ["dataset", "stats", replay, "--reference", replay, "--random", random,
                                     "--online-best", "30"])
    assert table.exit_code == 0 and "saco" in table.output


def test_bad_dataset_inputs_give_clear_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", observations=np.zeros((3, 2)), rewards=np.zeros(3))
    with pytest.raises(DatasetError, match=r"missing array\(s\) actions, dones"):
        load_transitions(str(tmp_path / "bad.npz"))
    with pytest.raises(DatasetError, match="does not exist"):
        load_transitions(str(tmp_path / "absent.npz"))
    result = CliRunner().invoke(app, ["dataset", "stats", "nobody/nothing-v0", "--reference", "x.npz",
                                      "--random", "y.npz", "--online-best", "1"])
    assert result.exit_code == 1
    assert "no Minari dataset 'nobody/nothing-v0'" in result.output


@pytest.mark.filterwarnings("ignore::UserWarning")  # Minari asks for author metadata
def test_minari_dataset_is_read_with_partial_episodes_last(tmp_path, monkeypatch):
    import gymnasium as gym
    import minari
    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = gym.make("CartPole-v1")
    buffers, returns = [], []
    for seed, cut in ((0, None), (1, 5), (2, None)):  # the middle episode stops after 5 steps: partial
        observation, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        observations, actions, rewards, terminations, truncations = [observation], [], [], [], []
        done = False
        while not done and (cut is None or len(actions) < cut):
            action = env.action_space.sample()
            observation, reward, terminated, truncated, _ = env.step(action)
            observations.append(observation)
            actions.append(action)
            rewards.append(reward)
            terminations.append(terminated)
            truncations.append(truncated)
            done = terminated or truncated
        if cut is None:
            returns.append(sum(rewards))
        buffers.append(EpisodeBuffer(observations=np.array(observations), actions=np.array(actions),
                                     rewards=np.array(rewards), terminations=np.array(terminations),
                                     truncations=np.array(truncations)))
    minari.create_dataset_from_buffers("cartpole/test-v0", buffers, env=env, algorithm_name="random",
                                       description="test", data_format="hdf5")
    transitions = load_transitions("cartpole/test-v0")
    assert transitions.observations.shape[1] == 4
    assert len(transitions) == sum(len(b.rewards) for b in buffers)
    assert dataset.completed_episode_returns(transitions.rewards, transitions.dones) == pytest.approx(returns)


def test_limit_source_and_counting_method_are_parameters_and_recorded():
    rng = np.random.default_rng(5)
    reference = _transitions(rng.normal(size=(500, 2)), rng.integers(0, 2, 500), np.ones(500), np.arange(500) % 50 == 49)
    narrow = _transitions(rng.normal(size=(200, 2)) * 0.1, rng.integers(0, 2, 200), np.ones(200), np.arange(200) % 50 == 49)
    shared = dataset.dataset_statistics(narrow, reference, reference, 100.0)
    own = dataset.dataset_statistics(narrow, reference, reference, 100.0, limits_from="dataset")
    assert (shared.limits_from, own.limits_from) == ("reference", "dataset")
    assert own.unique_state_actions > shared.unique_state_actions  # a narrow range binned finely
    with pytest.raises(ValueError, match="unknown limit source"):
        dataset.dataset_statistics(narrow, reference, reference, 100.0, limits_from="union")
    with pytest.raises(ValueError, match="unknown counting method"):
        dataset.count_unique_rows(np.zeros((2, 2), np.uint8), counting="approx")


def test_hyperloglog_counting_reproduces_the_reference_sketch_within_its_error():
    codes = np.random.default_rng(6).integers(0, 100, size=(20_000, 3)).astype(np.uint8)
    exact = dataset.count_unique_rows(codes)
    estimate = dataset.count_unique_rows(codes, counting="hyperloglog")
    assert estimate == pytest.approx(exact, rel=0.03)


def test_the_sketch_hashes_a_float_datasets_rows_as_the_reference_does():
    """The sketch counts strings: a float dataset's digitised rows go in as "3.0,1.0" (the
    reference's form), an integer dataset's as "3,1"; the estimates differ, the exact count not."""
    from hyperloglog import HyperLogLog

    codes = np.random.default_rng(7).integers(0, 60, size=(30_000, 3)).astype(np.uint8)

    def sketch(strings) -> int:
        counter = HyperLogLog(dataset.HYPERLOGLOG_ERROR)
        for text in strings:
            counter.add(text)
        return len(counter)

    as_floats = sketch(",".join(f"{float(v)}" for v in row) for row in codes.tolist())
    as_ints = sketch(",".join(str(v) for v in row) for row in codes.tolist())
    assert dataset.count_unique_rows(codes, "hyperloglog", float_rows=True) == as_floats
    assert dataset.count_unique_rows(codes, "hyperloglog") == as_ints
    rows = np.random.default_rng(8).normal(size=(5_000, 2))
    limits = dataset.state_action_limits(rows)
    digitised = dataset.digitise(rows, limits, dataset.DEFAULT_BINS)
    assert dataset.unique_state_actions(rows, counting="hyperloglog") == dataset.count_unique_rows(
        digitised, "hyperloglog", float_rows=True)


def _reference_sketch(states: np.ndarray, actions: np.ndarray, limits: np.ndarray) -> int:
    """u(D) as the reference evaluator computes it: concatenate, digitise each column in place
    (the array keeps its type), and sketch ",".join(str(value)) of every row."""
    from hyperloglog import HyperLogLog

    rows = np.concatenate([states, actions.reshape(len(actions), -1)], axis=1)
    for column in range(rows.shape[1]):
        rows[:, column] = np.digitize(rows[:, column], np.linspace(limits[column, 0], limits[column, 1], num=100))
    sketch = HyperLogLog(dataset.HYPERLOGLOG_ERROR)
    for row in rows:
        sketch.add(",".join(str(value) for value in row))
    return len(sketch)


@pytest.mark.parametrize("kind", ["integer", "float"])
def test_the_sketch_of_a_dataset_equals_the_reference_evaluators(kind):
    """Integer datasets (MiniGrid's, NetHack's) hash as "3,1", float ones as "3.0,1.0": the
    estimate is the reference's to the count, both ways."""
    rng = np.random.default_rng(9)
    n = 20_000
    states = rng.integers(0, 120, size=(n, 3)).astype(np.uint8) if kind == "integer" else rng.normal(size=(n, 3))
    actions = rng.integers(0, 7, n)
    dones = np.arange(n) % 100 == 99
    data = Transitions(states, actions, np.ones(n), dones)
    stats = dataset.dataset_statistics(data, data, data, 200.0, counting="hyperloglog")
    limits = dataset.state_action_limits(data.state_actions())
    assert stats.unique_state_actions == _reference_sketch(states.copy(), actions.copy(), limits)
    assert data.state_actions().dtype.kind in ("iu" if kind == "integer" else "f")
