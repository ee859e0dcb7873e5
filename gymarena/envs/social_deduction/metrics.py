"""Per-game metrics, stored on every episode record; per-role rates are their means over
games (as the kaggle-environments werewolf evaluator reports win rate per role, vote
accuracy and identification).

- ``winner`` (crew / impostors / none) and ``end`` (how the game ended: no impostors
  left, all tasks done, impostors reached parity, timeout), with one flag per outcome so
  that their means are the rates of each;
- ``crew_win`` and ``impostor_win`` (0/1: the per-role win rate over games);
- ``vote_accuracy``: share of the crewmates' votes cast on an impostor (skips count as
  misses); ``identification_precision``: share of ejections that ejected an impostor
  (None when nobody was ejected);
- ``crew_survival``: share of crewmates alive at the end; ``tasks_completed``: share of
  all crewmates' tasks done; ``kills``, ``meetings``, ``ticks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gymarena.envs.social_deduction.rules import NO_IMPOSTORS, PARITY, TASKS_DONE, TIMEOUT

if TYPE_CHECKING:
    from gymarena.envs.social_deduction.game import Game


def game_metrics(game: Game) -> dict[str, Any]:
    crew = [p for p in game.players.values() if not p.impostor]
    tasks = [t for p in crew for t in p.tasks]
    log = game.log
    ejections = log["ejections"]
    return {
        "winner": game.winner or "none",
        "end": game.end,
        "crew_win": int(game.winner == "crew"),
        "impostor_win": int(game.winner == "impostors"),
        "ended_no_impostors": int(game.end == NO_IMPOSTORS),
        "ended_tasks_done": int(game.end == TASKS_DONE),
        "ended_parity": int(game.end == PARITY),
        "ended_timeout": int(game.end == TIMEOUT),
        "vote_accuracy": round(log["crew_votes_on_impostors"] / log["crew_votes"], 6) if log["crew_votes"] else None,
        "identification_precision": round(sum(ejections) / len(ejections), 6) if ejections else None,
        "crew_survival": round(sum(p.alive for p in crew) / len(crew), 6),
        "tasks_completed": round(sum(t.done for t in tasks) / len(tasks), 6) if tasks else 1.0,
        "kills": log["kills"],
        "meetings": game.meetings,
        "ticks": game.tick,
    }
