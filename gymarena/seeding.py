"""Episode seeds in bulk: numpy's ``SeedSequence`` word, computed for many episodes at once.

An episode's reset seed is ``SeedSequence(seed, spawn_key=(episode,)).generate_state(1)``
(:func:`gymarena.protocol.episode_seed`, the definition). Building one SeedSequence costs
~5 us, as much as all the rest of a short episode's bookkeeping, so a worker computes the
seeds of the episodes it is handed in one go: :func:`episode_seeds` follows numpy's
implementation (O'Neill's seed_seq hash: four pool words mixed from the entropy
``[seed, 0, 0, 0, episode]``, then one output word) in uint32 arithmetic over arrays; the
tests compare it with SeedSequence over the whole 32-bit range. :func:`remember` keeps a
worker's current seeds where ``episode_seed`` looks first.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R, _XSHIFT = 0xCA01F9DD, 0x4973F715, np.uint32(16)
_POOL = 4
_WORD = 2**32

REMEMBERED: dict[tuple[int, int], int] = {}  # (seed, episode) -> episode seed, of the episodes a worker plays now


class _Hash:
    """SeedSequence's ``hashmix``, whose constant advances with every call."""

    def __init__(self) -> None:
        self.constant = _INIT_A

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = value ^ np.uint32(self.constant)
        self.constant = (self.constant * _MULT_A) % _WORD
        value = value * np.uint32(self.constant)
        return value ^ (value >> _XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
    return result ^ (result >> _XSHIFT)


def episode_seeds(seeds: Iterable[int], episodes: Iterable[int]) -> list[int]:
    """The reset seed of each (seed, episode) pair, each below 2**32, as ``episode_seed`` gives it."""
    seed_words = np.fromiter(seeds, dtype=np.uint32)
    entropy = [seed_words, *[np.zeros_like(seed_words)] * (_POOL - 1), np.fromiter(episodes, dtype=np.uint32)]
    hashmix = _Hash()
    pool = [hashmix(word) for word in entropy[:_POOL]]
    for source in range(_POOL):
        for target in range(_POOL):
            if source != target:
                pool[target] = _mix(pool[target], hashmix(pool[source]))
    for word in entropy[_POOL:]:
        for target in range(_POOL):
            pool[target] = _mix(pool[target], hashmix(word))
    state = (pool[0] ^ np.uint32(_INIT_B)) * np.uint32((_INIT_B * _MULT_B) % _WORD)
    return (state ^ (state >> _XSHIFT)).tolist()


def remember(pairs: Iterable[tuple[int, int]]) -> None:
    """Compute the seeds of these (seed, episode) pairs now, in place of those remembered before."""
    REMEMBERED.clear()
    wanted = [(seed, episode) for seed, episode in pairs if 0 <= seed < _WORD and 0 <= episode < _WORD]
    if wanted:
        REMEMBERED.update(zip(wanted, episode_seeds((s for s, _ in wanted), (e for _, e in wanted)), strict=True))
