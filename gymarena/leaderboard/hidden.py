"""What no page, API or download may show while a suite's hidden seeds are unrevealed.

A verified run is played on the suite's hidden seeds; they are public only once an admin
rotates them (``gymarena admin rotate-seeds``), with the salt of their commitment. Until
then a verified run's pages show its episode keys (which seed of the set, which episode)
but never a seed: its config and protocol say "hidden", its episodes' seeds become
``hidden #i`` (the seed's index in the set), and any text a page shows (run and episode
errors, submission reasons, protocol differences) has every unrevealed seed replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gymarena.results import ResultsStore, RunInfo

HIDDEN = "hidden until the suite's seeds are revealed"
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Unrevealed:
    """The hidden seeds not revealed yet (of every suite), read once per page."""

    seeds: frozenset[int]

    @classmethod
    def of(cls, store: ResultsStore) -> Unrevealed:
        return cls(frozenset(store.submissions.unrevealed_seeds()))

    def hides(self, run: RunInfo) -> bool:
        """Whether ``run`` was played on seeds that are still hidden."""
        return any(seed in self.seeds for task in run.protocol for seed in task.seeds)

    def text(self, text: str | None) -> str | None:
        """``text`` with every unrevealed seed in it replaced."""
        if not text or not self.seeds:
            return text
        return _NUMBER.sub(lambda m: "<hidden seed>" if int(m.group()) in self.seeds else m.group(), text)

    def config(self, run: RunInfo) -> dict[str, Any]:
        return {**run.config, "seeds": HIDDEN} if self.hides(run) and "seeds" in run.config else run.config

    def episode_seed_label(self, run: RunInfo, task_id: str, seed: int) -> int | str:
        """An episode's seed as a page shows it: itself, or its index in the hidden set."""
        if seed not in self.seeds:
            return seed
        seeds = list(run.protocol.task(task_id).seeds)
        return f"hidden #{seeds.index(seed)}" if seed in seeds else "hidden"
