"""The boards a suite can name (``board = "scores" | "cav" | "social"``), in one registry: what
plays a submitted player's verified run, what computes the web page and what the CLI prints,
whether the board takes self-reported results, and how its playing time is counted. The CLI,
the worker, the refresher, the web app and the sandbox's budget look a board up here instead
of testing its name; its functions are ``module:attr`` strings, imported when first used."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Board:
    """One kind of board.

    ``plays(store, suite, source, seeds, submission_id, algorithm, say) -> run id`` plays a
    verified run; ``page(store, label, reps) -> (payload, figure)`` is the web page's data;
    ``shown(store, suite, reps) -> Shown`` is ``gymarena leaderboard``'s output; ``body`` the
    page's template. ``takes_results``: self-reported uploads are ranked (else the server
    computes every result itself). ``counts_tests``: an episode is a test played in batches
    (its time budget counts tests per second, not steps)."""

    name: str
    plays: str
    page: str
    shown: str
    body: str
    takes_results: bool
    counts_tests: bool = False

    def call(self, role: str, *args: Any, **kwargs: Any) -> Any:
        """Call the board's function for ``role`` ("plays", "page" or "shown")."""
        module, _, attr = getattr(self, role).partition(":")
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)


BOARDS = {
    "scores": Board("scores", "gymarena.leaderboard.worker:play_scores", "gymarena.leaderboard.refresher:scores_page",
                    "gymarena.views:scores_board_shown", "ranking_body.html", takes_results=True),
    "cav": Board("cav", "gymarena.leaderboard.worker:play_cav", "gymarena.leaderboard.refresher:cav_page",
                 "gymarena.views:cav_board_shown", "cav_body.html", takes_results=False, counts_tests=True),
    "social": Board("social", "gymarena.leaderboard.worker:play_social", "gymarena.leaderboard.refresher:social_page",
                    "gymarena.views:social_board_shown", "social_body.html", takes_results=False),
}


def board(name: str) -> Board:
    """The board of this name (a suite file's names are checked when it is read)."""
    return BOARDS[name]


def board_of_suite(label: str) -> Board:
    """The board of a suite installed here."""
    from gymarena.suites import registered_suite

    return BOARDS[registered_suite(label).board]
