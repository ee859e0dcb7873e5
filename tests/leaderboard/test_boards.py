"""One registry of boards: every board a suite file may name has its player, page, CLI output
and template, and no face tests a board's name itself."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from gymarena.leaderboard.boards import BOARDS
from gymarena.suites import BOARDS as SUITE_BOARDS

PACKAGE = Path(__file__).parents[2] / "gymarena"


def test_every_board_a_suite_may_name_is_registered_with_callables_and_a_template():
    assert set(BOARDS) == set(SUITE_BOARDS)
    for board in BOARDS.values():
        for role in ("plays", "page", "shown"):
            module, _, attr = getattr(board, role).partition(":")
            assert callable(getattr(importlib.import_module(module), attr)), (board.name, role)
        assert (PACKAGE / "leaderboard" / "templates" / board.body).is_file()


def test_the_faces_look_boards_up_instead_of_testing_their_names():
    faces = ["cli.py", "views.py", *(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "leaderboard").glob("*.py"))]
    testing = re.compile(r"""board\s*[!=]=\s*["'](scores|cav|social)["']""")
    found = {face: testing.findall((PACKAGE / face).read_text()) for face in faces}
    assert {face: names for face, names in found.items() if names} == {}
