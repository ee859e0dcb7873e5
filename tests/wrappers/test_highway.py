"""highway-env through gymarena: the same seed gives the same reset, info included."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("highway_env")

import gymarena


@pytest.mark.parametrize("task_id", ["highway/HighwayFast-v0", "highway/Merge-v1"])
def test_the_same_seed_gives_the_same_reset_and_reset_info(task_id):
    env = gymarena.make(task_id)
    first, first_info = env.reset(seed=3)
    resets = [env.reset(seed=3) for _ in range(3)]
    env.close()
    for observation, info in resets:
        assert np.array_equal(observation, first)
        assert info.keys() == first_info.keys() and "action" not in info and "rewards" not in info
        assert repr(sorted(info.items())) == repr(sorted(first_info.items()))
