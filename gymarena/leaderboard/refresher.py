"""Keeping every suite's leaderboard page computed (ranking snapshots).

A suite's page holds two rankings (public seeds, and the verified runs on the current
hidden seeds), the hidden seeds' commitments and the IQM plot. Computing it bootstraps
over every ranked run, and rendering it writes a row per agent: hundreds of milliseconds
to seconds with hundreds of agents, all CPU. So one refresher does both, away from the
processes that answer page views, and stores the page as served (JSON text and HTML,
``store.snapshots``); a serving process only fetches it. ``gymarena serve`` runs the
refresher as its own process; an app built alone (tests, embedding) runs it as a thread.

The refresher polls: every ``interval`` seconds it compares each suite's inputs (complete
runs, hidden seeds, commitments, the installed protocol) with those the stored page was
computed from, and recomputes the suites whose inputs moved.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import cache
from pathlib import Path
from typing import Any

from gymarena.errors import UnknownSuiteError
from gymarena.leaderboard.boards import board
from gymarena.leaderboard.hidden import Unrevealed
from gymarena.leaderboard.payloads import ranking_payload
from gymarena.leaderboard.ranking import RANKING_REPS, rank_suite
from gymarena.results import ResultsStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0  # a ranking follows new results within about this, plus its computation
# How pages are computed, beyond gymarena's version: a change recomputes every stored page.
PAGE_FORMAT = 4


@cache
def _installed_protocol_hash(label: str) -> str:
    """The run protocol hash of an installed suite (fixed while this process lives)."""
    from gymarena.installed import suite_protocol

    return suite_protocol(label).hash


def installed_label(suite: str) -> str | None:
    """The label of a suite registered here (a name from a URL: never read as a path)."""
    from gymarena.suites import registered_suite

    try:
        return registered_suite(suite).label
    except UnknownSuiteError:
        return None


def page_inputs(store: ResultsStore, label: str, reps: int) -> str:
    """Everything a suite's page is computed from, as one string: when it changes, the
    stored page is stale."""
    from gymarena import __version__

    installed = _installed_protocol_hash(label) if installed_label(label) == label else "not installed"
    commitments = [(c.commitment, c.revealed_at.isoformat() if c.revealed_at else None)
                   for c in store.submissions.seed_commitments(label)]
    return repr((__version__, PAGE_FORMAT, reps, installed, store.suite_version(label), commitments))


def board_of(label: str) -> str:
    """The board kind of a suite installed here ("scores" for one that is not)."""
    from gymarena.suites import registered_suite

    return registered_suite(label).board if installed_label(label) == label else "scores"


def _hidden_seeds(store: ResultsStore, label: str) -> list[dict[str, Any]]:
    return [
        {"commitment": c.commitment, "drawn": c.created_at.isoformat(),
         "revealed": c.revealed_at.isoformat() if c.revealed_at else None, "seeds": c.seeds, "salt": c.salt}
        for c in store.submissions.seed_commitments(label)
    ]


def _without_unrevealed(store: ResultsStore, payload: dict[str, Any]) -> None:
    """Protocol differences name seeds: never the hidden ones."""
    unrevealed = Unrevealed.of(store)
    for ranking in (payload, payload["verified"] or {}):
        for group in ranking.get("apart", []):
            group["differences"] = [unrevealed.text(d) for d in group["differences"]]


def _public_and_verified(store: ResultsStore, label: str, payload_under) -> dict[str, Any]:
    """A board's page data: its ranking under the suite's protocol and, once hidden seeds
    exist, ``verified``: the one under theirs (whose runs are then not "apart" from the
    public one). ``payload_under(protocol)`` ranks the board under a protocol."""
    from gymarena.installed import suite_protocol

    payload = payload_under(suite_protocol(label))
    seeds = store.submissions.current_hidden_seeds(label)
    verified = None if seeds is None else payload_under(suite_protocol(label, tuple(seeds)))
    if verified is not None:
        payload["apart"] = [g for g in payload["apart"] if g["protocol_hash"] != verified["protocol_hash"]]
    payload["verified"] = verified
    return payload


# -- each board's page (gymarena/leaderboard/boards.py names them) ---------------------------------

def scores_page(store: ResultsStore, label: str, reps: int) -> tuple[dict[str, Any], str]:
    """A scores board: the ranking of normalised scores (of runs stored for a suite this
    server does not have, too)."""
    from gymarena.leaderboard.pages import interval_figure

    if installed_label(label) == label:
        from gymarena.suites import load_suite

        keys = load_suite(label).ranking
        payload = _public_and_verified(store, label, lambda protocol: ranking_payload(
            rank_suite(store, label, protocol, keys, reps)))
    elif store.suite_version(label)[0]:  # stored runs of a suite this server does not have
        payload = {**ranking_payload(rank_suite(store, label, reps=reps)), "verified": None}
    else:
        raise UnknownSuiteError(f"there is no suite {label!r} on this server nor runs of it in its database")
    payload["board"] = "scores"
    figure = interval_figure({e["agent"]: e["iqm"] for e in payload["entries"]},
                             f"{label}: IQM of normalised scores, 95% stratified-bootstrap CI")
    return payload, figure


def cav_page(store: ResultsStore, label: str, reps: int) -> tuple[dict[str, Any], str]:
    """A safety board: crash-rate estimates with their intervals."""
    from gymarena.leaderboard.safety import safety_figure, safety_payload_under

    payload = _public_and_verified(store, label, safety_payload_under(store, label))
    return payload, safety_figure(payload)


def social_page(store: ResultsStore, label: str, reps: int) -> tuple[dict[str, Any], str]:
    """A social board: ratings and win rates against the pool."""
    from gymarena.leaderboard.social import social_figure, social_payload_under

    payload = _public_and_verified(store, label, social_payload_under(store, label, reps))
    return payload, social_figure(payload)


def compute_page(store: ResultsStore, label: str, reps: int) -> tuple[dict[str, Any], str]:
    """A suite's page data (what ``/api/suites/{suite}`` returns) and its figures."""
    payload, figure = board(board_of(label)).call("page", store, label, reps)
    _without_unrevealed(store, payload)
    payload["hidden_seeds"] = _hidden_seeds(store, label)
    return payload, figure


@cache
def _page_body(name: str):
    """A board's page body template (rendered outside requests: relative links only)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                              autoescape=select_autoescape(["html"]))
    return environment.get_template(board(name).body)


def render_page(store: ResultsStore, label: str, reps: int) -> tuple[str, str]:
    """A suite's page as served: its data as JSON text and its rendered HTML body."""
    payload, figure = compute_page(store, label, reps)
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text, _page_body(payload["board"]).render(data=payload, figure=figure)


class RankingRefresher:
    """Recomputes and stores the pages of suites whose inputs changed."""

    def __init__(self, store: ResultsStore, reps: int = RANKING_REPS):
        self.store = store
        self.reps = reps

    def refresh(self, label: str) -> bool:
        """Recompute ``label``'s page if its inputs moved since it was stored; True if it did."""
        inputs = page_inputs(self.store, label, self.reps)
        if self.store.snapshots.version(label) == inputs:
            return False
        self.store.snapshots.put(label, inputs, *render_page(self.store, label, self.reps))
        return True

    def suites(self) -> list[str]:
        """The suites with a page: installed here, or with complete runs stored."""
        from gymarena.suites import list_suites

        return sorted({s.label for s in list_suites()} | set(self.store.suite_labels()))

    def refresh_all(self) -> int:
        """One pass over every suite; returns how many pages were recomputed."""
        recomputed = 0
        for label in self.suites():
            try:
                recomputed += self.refresh(label)
            except Exception:  # one broken suite must not stop the others' pages
                log.exception("recomputing the leaderboard page of %s failed", label)
        return recomputed

    def run(self, stop: threading.Event, interval: float = REFRESH_SECONDS) -> None:
        """Refresh every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            self.refresh_all()
            stop.wait(interval)

    def start_thread(self, interval: float = REFRESH_SECONDS) -> threading.Event:
        """Run in a daemon thread of this process; set the returned event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.run, args=(stop, interval), name="ranking-refresher", daemon=True).start()
        return stop


def _die_with_parent() -> None:
    """Have the kernel end this process when the thread that started it ends (Linux's
    PR_SET_PDEATHSIG): a refresher never outlives ``gymarena serve``, even one killed -9."""
    import ctypes
    import os
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: serve's own shutdown still stops it
        return
    if os.getppid() == 1:  # the parent was already gone before the request took effect
        raise SystemExit(0)


def run_refresher_process(db_url: str, reps: int = RANKING_REPS, interval: float = REFRESH_SECONDS) -> None:
    """The refresher process of ``gymarena serve``: it refreshes until its standard input
    closes (serve closes it to stop it; the kernel ends it should serve die)."""
    import sys

    _die_with_parent()
    logging.basicConfig(level=logging.INFO)
    stop = threading.Event()

    def stop_at_end_of_input() -> None:
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=stop_at_end_of_input, name="refresher-stop", daemon=True).start()
    with ResultsStore(db_url) as store:
        RankingRefresher(store, reps).run(stop, interval)


if __name__ == "__main__":
    import os

    from gymarena.leaderboard.server import DB_ENV

    run_refresher_process(os.environ[DB_ENV])
