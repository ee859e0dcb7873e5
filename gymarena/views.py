"""What each command shows (gymarena/output.py's :class:`Shown`): JSON payloads, CSV
rows and terminal tables of tasks, suites, runs, scores, rankings and the other commands'
results.

Kept apart from ``cli.py`` so that the CLI only parses and prints, and tests can check
the shapes directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gymarena.leaderboard.ranking import Entry, SuiteRanking
from gymarena.output import Shown, Table, short_number
from gymarena.results import ResultsStore, RunInfo
from gymarena.scoring import Estimate, TaskScore, score_run
from gymarena.suites import Suite
from gymarena.tasks import TaskSpec
from gymarena.wrappers import task_availability

TASK_COLUMNS = ["id", "family", "available", "reason", "episodes", "success", "random", "reference"]
TASK_TABLE_COLUMNS = ["id", "available", "reason", "episodes", "success", "random", "reference"]
SUITE_COLUMNS = ["suite", "tasks", "seeds", "available", "description"]
RUN_COLUMNS = ["run", "agent", "suite", "status", "episodes", "created", "protocol"]
# Per-task scores as CSV: one flat row per (run, task), the same numbers as the JSON form.
SCORE_COLUMNS = [
    "run", "task", "seeds", "episodes", "expected_episodes", "scored", "failed",
    "mean_return", "mean_return_low", "mean_return_high", "return_std",
    "normalised", "normalised_low", "normalised_high", "success", "success_low", "success_high", "fas", "fas_std",
]


def task_row(task: TaskSpec) -> dict[str, Any]:
    available, reason = task_availability(task)
    return {
        "id": task.id,
        "family": task.family,
        "available": available,
        "reason": reason,
        "episodes": task.episodes,
        "success": task.success,
        "random": task.scores.random if task.scores else None,
        "reference": task.scores.reference if task.scores else None,
    }


def suite_row(suite: Suite) -> dict[str, Any]:
    missing = sorted({reason for t in suite.tasks for ok, reason in [task_availability(t)] if not ok})
    return {
        "suite": suite.label,
        "tasks": len(suite.tasks),
        "seeds": len(suite.seeds),
        "available": not missing,
        "description": suite.description if not missing else f"{suite.description} ({'; '.join(missing)})",
    }


def run_row(run: RunInfo) -> dict[str, Any]:
    return {
        "run": run.id,
        "agent": run.agent.reference,
        "suite": run.suite or ", ".join(run.protocol.task_ids),
        "status": run.status,
        "episodes": run.episode_count,
        "created": run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "protocol": run.protocol_hash[:12],
    }


def score_row(run_id: int, score: TaskScore) -> dict[str, Any]:
    """A task's score as one flat row (CSV, report tables): the JSON form's numbers."""
    data = score.to_json()
    row = {"run": run_id, **{k: data[k] for k in ("task", "seeds", "episodes", "expected_episodes", "scored", "failed")},
           "return_std": data["return_std"]}
    for name in ("mean_return", "normalised", "success"):
        estimate = data[name] or {}
        row[name], row[f"{name}_low"], row[f"{name}_high"] = estimate.get("point"), estimate.get("low"), estimate.get("high")
    row["fas"], row["fas_std"] = (data["fas"]["point"], data["fas"]["std"]) if data["fas"] else (None, None)
    return row


RETURN_COLUMN = "return (mean ± std)"
FAS_COLUMN = "FAS (mean ± std over seeds)"
SCORE_TABLE_COLUMNS = ["task", "episodes", "seeds", RETURN_COLUMN, "return 95% CI", "normalised", "normalised 95% CI",
                       "success", "success 95% CI"]


def score_table_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table's columns: FAS only when some task ran a decision-interval sweep."""
    return SCORE_TABLE_COLUMNS + ([FAS_COLUMN] if any(FAS_COLUMN in row for row in rows) else [])


def _number(value: float | None) -> str:
    return "-" if value is None else short_number(value)


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"[{short_number(low)}, {short_number(high)}]"


def _estimate(estimate: Estimate | None) -> tuple[str, str]:
    return ("-", "-") if estimate is None else (short_number(estimate.point), _interval(estimate.low, estimate.high))


def score_table_row(score: TaskScore) -> dict[str, Any]:
    """The compact, rounded form of a task's score for terminal tables."""
    done = score.episodes if score.episodes == score.expected_episodes else f"{score.episodes}/{score.expected_episodes}"
    if score.fas is not None:  # a sweep: the return and success columns are the native interval's episodes
        done = f"{done} ({score.scored} at the native interval)"
    if score.failed:
        done = f"{done} ({score.failed} crashed)"
    returns = "-" if score.mean_return is None else f"{short_number(score.mean_return.point)} ± {_number(score.return_std)}"
    normalised, normalised_ci = _estimate(score.normalised)
    success, success_ci = _estimate(score.success)
    row = {
        "task": score.task_id, "episodes": done, "seeds": score.seeds, RETURN_COLUMN: returns,
        "return 95% CI": "-" if score.mean_return is None else _interval(score.mean_return.low, score.mean_return.high),
        "normalised": normalised, "normalised 95% CI": normalised_ci, "success": success, "success 95% CI": success_ci,
    }
    if score.fas is not None:
        row[FAS_COLUMN] = f"{short_number(score.fas.point)} ± {short_number(score.fas.std)}"
    return row


LEADERBOARD_COLUMNS = ["rank", "agent", "kind", "IQM", "IQM 95% CI", "CI over", "P(> next)", "mean", "success", "runs",
                       "seeds", "episodes", "date"]


def leaderboard_row(entry: Entry) -> dict[str, Any]:
    """One agent of a suite ranking, rounded for the terminal."""
    rank = str(entry.rank) if entry.rank_low is None else f"{entry.rank} [{entry.rank_low}-{entry.rank_high}]"
    return {
        "rank": rank,
        "agent": f"{entry.agent} {entry.version}" if entry.version != "unversioned" else entry.agent,
        "kind": entry.kind,
        "IQM": short_number(entry.iqm.point),
        "IQM 95% CI": _interval(entry.iqm.low, entry.iqm.high),
        "CI over": f"{entry.runs} runs" if entry.unit == "runs" else f"{entry.seeds} seeds",
        "P(> next)": "-" if entry.poi_next is None else short_number(entry.poi_next.point),
        "mean": short_number(entry.mean_score),
        "success": _number(entry.success_rate),
        "runs": entry.runs,
        "seeds": entry.seeds,
        "episodes": entry.episodes,
        "date": entry.date.strftime("%Y-%m-%d"),
    }


def run_scores(store: ResultsStore, run: RunInfo) -> list[TaskScore]:
    """A stored run's per-task scores (gymarena/scoring.py), from its per-seed means."""
    return score_run(run.protocol, store.seed_means([run.id]))


def stored_run_payload(store: ResultsStore, run: RunInfo) -> dict[str, Any]:
    """Everything stored about a run, scores and episodes included, for ``--json``."""
    return {
        "id": run.id,
        "status": run.status,
        "error": run.error,
        "kind": run.kind,
        "agent": vars(run.agent),
        "suite": run.suite,
        "protocol_hash": run.protocol_hash,
        "config": run.config,
        "provenance": run.provenance,
        "summary": run.summary,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "tasks": run.protocol.to_json(),
        "scores": [score.to_json() for score in run_scores(store, run)],
        "episodes": [r.to_dict() for r in store.episodes(run.id)],
    }


def score_rows(store: ResultsStore, runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    return [score_row(run.id, score) for run in runs for score in run_scores(store, run)]


# -- what each command shows -------------------------------------------------------------

def listing_shown(tasks: Sequence[TaskSpec], suites: Sequence[Suite], database: str) -> Shown:
    task_rows, suite_rows = [task_row(t) for t in tasks], [suite_row(s) for s in suites]
    return Shown({"tasks": task_rows, "suites": suite_rows, "database": database},
                 tables=(Table(task_rows, TASK_TABLE_COLUMNS, "Tasks"), Table(suite_rows, SUITE_COLUMNS, "Suites")),
                 lines=(f"results database: {database}",), csv=Table(task_rows, TASK_COLUMNS))


def _scores_table(run: RunInfo, scores: Sequence[TaskScore]) -> Table:
    rows = [score_table_row(s) for s in scores]
    return Table(rows, score_table_columns(rows), f"run {run.id}: {run.agent.reference} ({run.status})")


def run_shown(store: ResultsStore, run: RunInfo) -> Shown:
    """One run: its scores as a table (and CSV), everything stored as JSON (read only then)."""
    scores = run_scores(store, run)
    return Shown(lambda: stored_run_payload(store, run), tables=(_scores_table(run, scores),),
                 csv=Table([score_row(run.id, s) for s in scores], SCORE_COLUMNS))


def results_shown(store: ResultsStore, runs: Sequence[RunInfo], one_run: bool) -> Shown:
    """``gymarena results``: the runs listed (JSON: everything stored; CSV: every listed
    run's scores), and for people the runs' table, or with ``--run`` that run's scores.
    Episodes and scores are read only for the form asked for."""
    tables = ((_scores_table(runs[0], run_scores(store, runs[0])),) if one_run
              else (Table([run_row(r) for r in runs], RUN_COLUMNS, f"runs in {store.display_url}"),))
    return Shown(lambda: {"database": store.display_url, "runs": [stored_run_payload(store, r) for r in runs]},
                 tables=tables, csv=lambda: Table(score_rows(store, runs), SCORE_COLUMNS))


def ranking_shown(ranking: SuiteRanking, suite: str) -> Shown:
    from gymarena.leaderboard.payloads import ranking_payload

    rows = [leaderboard_row(e) for e in ranking.entries]
    notes = [f"apart (protocol {g.protocol_hash[:12]}, runs {', '.join(map(str, g.run_ids))}): {'; '.join(g.differences)}"
             for g in ranking.apart] + [f"not ranked: run {u.run_id} ({u.agent}): {u.reason}" for u in ranking.unranked] + [
             f"note: {note}" for note in ranking.notes]
    if not rows:
        notes.insert(0, f"no complete run of {ranking.suite} under its protocol yet: `gymarena eval --suite {suite}` makes one")
    table = Table(rows, LEADERBOARD_COLUMNS, f"{ranking.suite}: ranked by {', '.join(ranking.ranking)}")
    return Shown(ranking_payload(ranking), tables=(table,) if rows else (), notes=tuple(notes), csv=table)


SAFETY_COLUMNS = ["rank", "AV", "kind", "crash rate", "90% CI", "RHW", "may hide", "tests", "crashes", "date"]


def _unseen_text(diagnostics: dict[str, Any] | None) -> str:
    """What a run's barely steered tests may still hide, against its estimate ("-" without diagnostics)."""
    from gymarena.metrics.importance import WeightDiagnostics

    parsed = WeightDiagnostics.from_json(diagnostics)
    if parsed is None:
        return "-"
    return "unbounded" if math.isinf(parsed.unseen_share) else f"{parsed.unseen_share:.0%}"


def safety_shown(ranking: Any) -> Shown:
    """A safety board (leaderboard/safety.py): crash rates, lowest first; the unsettled below."""
    from gymarena.leaderboard.safety import safety_payload

    rows = [{"rank": e.rank if e.settled else "not settled", "AV": e.agent, "kind": e.kind,
             "crash rate": f"{e.crash_rate:.3e}", "90% CI": f"[{e.low:.3e}, {e.high:.3e}]",
             "RHW": "-" if e.relative_half_width is None else f"{e.relative_half_width:.3f}",
             "may hide": _unseen_text(e.diagnostics), "tests": e.tests,
             "crashes": e.crashes, "date": e.date.strftime("%Y-%m-%d")} for e in ranking.entries]
    notes = [f"not settled: run {e.run_id} ({e.agent}): {e.why_not_settled}" for e in ranking.entries if not e.settled]
    notes += [f"not ranked: run {u['run']} ({u['agent']}): {u['reason']}" for u in ranking.unranked]
    if not rows:
        notes.insert(0, f"no AV tested on {ranking.suite} yet: `gymarena eval --suite {ranking.suite} --agent cav:idm`")
    table = Table(rows, SAFETY_COLUMNS, f"{ranking.suite}: crash rate per test, lowest first (settled at RHW "
                  f"{ranking.until_rhw})")
    return Shown(safety_payload(ranking), tables=(table,) if rows else (), notes=tuple(notes), csv=table)


SOCIAL_COLUMNS = ["rank", "agent", "kind", "rating", "95% interval", "as crewmate", "as impostor", "games", "date"]


def social_shown(ranking: Any) -> Shown:
    """A social board (leaderboard/social.py): ratings, and each role's win rate with its interval."""
    from gymarena.leaderboard.social import social_payload

    def role(entry: Any, name: str) -> str:
        found = [r for r in entry.roles if r.role == name]
        return "-" if not found or not found[0].games else (
            f"{found[0].win_rate:.2f} [{found[0].low:.2f}, {found[0].high:.2f}] ({found[0].games})")

    def named(entry: Any) -> str:  # a pool member by the pool's name too (`make_agent` alone says little)
        return entry.agent if entry.pool_member in (None, entry.agent) else f"{entry.agent} (pool: {entry.pool_member})"

    rows = [{"rank": e.rank, "agent": named(e), "kind": e.kind, "rating": f"{e.rating:.0f}",
             "95% interval": "-" if e.rating_low is None else f"[{e.rating_low:.0f}, {e.rating_high:.0f}]",
             "as crewmate": role(e, "crewmate"), "as impostor": role(e, "impostor"), "games": e.games,
             "date": e.date.strftime("%Y-%m-%d")} for e in ranking.entries]
    notes = [f"not ranked: run {u['run']} ({u['agent']}): {u['reason']}" for u in ranking.unranked]
    if not rows:
        notes.insert(0, f"no games on {ranking.suite} yet: `gymarena eval --suite {ranking.suite} --agent scripted`")
    table = Table(rows, SOCIAL_COLUMNS, f"{ranking.suite}: rating against the pool {', '.join(ranking.pool)} "
                  "(Bradley-Terry, Elo scale, pool mean 0)")
    return Shown(social_payload(ranking), tables=(table,) if rows else (), notes=tuple(notes), csv=table)


def report_shown(report: Any) -> Shown:
    excluded = dict(report.comparison.excluded)
    return Shown({"directory": str(report.directory), "files": [str(p) for p in report.files], "excluded": excluded},
                 lines=tuple(str(p) for p in report.files),
                 notes=tuple(f"note: {task} is not in the aggregates: {reason}" for task, reason in excluded.items()))


def cav_test_shown(run_id: int, summary: Any, stored: dict[str, Any]) -> Shown:
    trust = summary.trust_line()
    return Shown({"run": run_id, **stored}, lines=(f"run {run_id}: {summary.line()}", *((f"  {trust}",) if trust else ())))


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _needed_text(needed: tuple[float, float, float]) -> str:
    """Tests needed for RHW 0.3 with its bootstrap CI, saying "not reached" instead of inf."""
    point, low, high = needed
    if not math.isfinite(point):
        return ""  # the summary's line says "not reached" already
    interval = (f"95% CI {low:,.0f} to {high:,.0f}" if math.isfinite(low) and math.isfinite(high)
                else "95% CI: not reached in most bootstrap resamples" if not math.isfinite(low)
                else f"95% CI {low:,.0f} to not reached")
    return f"tests needed {point:,.0f} ({interval})"


def cav_compare_shown(run_ids: tuple[int, int], result: Any, plot: str | None) -> Shown:
    lines = []
    for run_id, summary, needed in zip(run_ids, result.summaries, result.needed):
        lines.append(f"run {run_id}: {summary.line()}" + (f"; {text}" if (text := _needed_text(needed)) else ""))
        lines.extend(f"  {trust}" for trust in (summary.trust_line(),) if trust)
    lines.append(f"the estimates differ by {result.z:+.2f} standard errors: they {'agree' if result.agree else 'DISAGREE'}")
    point, low, high = result.efficiency
    if math.isfinite(point):
        interval = f"95% CI {low:.1f} to {high:.1f}" if math.isfinite(low) and math.isfinite(high) else "no bootstrap CI"
        lines.append(f"efficiency of run {run_ids[1]} over run {run_ids[0]}: {point:.1f}x ({interval})")
    else:
        lines.append(f"efficiency of run {run_ids[1]} over run {run_ids[0]}: not defined (a run never reached "
                     "relative half-width 0.3)")
    if plot:
        lines.append(f"RHW curves: {plot}")
    payload = {
        "runs": [{"run": run_id, "crash_rate": s.crash_rate, "ci90": [s.low, s.high], "tests": s.tests, "crashes": s.crashes,
                  "relative_half_width": s.relative_half_width, "tests_needed": [_finite_or_none(v) for v in needed],
                  "diagnostics": None if s.diagnostics is None else s.diagnostics.to_json(),
                  "untrusted_because": s.untrusted_because}
                 for run_id, s, needed in zip(run_ids, result.summaries, result.needed)],
        "z": result.z, "agree": result.agree, "efficiency": [_finite_or_none(v) for v in result.efficiency], "plot": plot,
    }
    return Shown(payload, lines=tuple(lines))


def cav_replay_shown(run_id: int, test: int, path: str) -> Shown:
    return Shown({"run": run_id, "test": test, "path": path}, lines=(f"test {test} of run {run_id}: {path}",))


def token_shown(name: str, token: str, quota: int) -> Shown:
    return Shown({"name": name, "token": token, "daily_quota": quota}, lines=(token,),
                 notes=(f"token for {name!r}: shown this once, stored hashed; {quota} submissions per 24 hours",))


def seeds_shown(label: str, commitment: Any) -> Shown:
    return Shown({"suite": label, "commitment": commitment.commitment},
                 lines=(f"{label}: new hidden seeds committed as {commitment.commitment}",))


def submission_shown(answer: dict[str, Any], server: str, what: str) -> Shown:
    """A submission the server accepted; ``what`` follows its status (", stored as run 3", " (name 1.0)")."""
    url = f"{server.rstrip('/')}/submissions/{answer['submission']}"
    return Shown({**answer, "url": url}, lines=(f"submission {answer['submission']}: {answer['status']}{what}; {url}",))


def submissions_shown(answers: list[dict[str, Any]], server: str) -> Shown:
    """The submissions of ``gymarena submit results``: one run's answer, or a list of them."""
    payloads = [submission_shown(a, server, "").payload for a in answers]
    return Shown(payloads[0] if len(payloads) == 1 else payloads)


def dataset_shown(dataset_id: str, dataset: Any) -> Shown:
    return Shown({"dataset": dataset_id, "episodes": dataset.total_episodes, "steps": dataset.total_steps},
                 lines=(f"dataset {dataset_id}: {dataset.total_episodes} episodes, {dataset.total_steps} steps",))


DATASET_COLUMNS = ["dataset", "episodes", "return", "TQ", "SACo", "unique pairs"]


def dataset_suite_shown(result: Any) -> Shown:
    payload = {"task": result.task, "transitions": result.transitions, "online_best_return": result.online_best_return,
               "online_evaluations": result.online_history, "wall_seconds": round(result.wall_seconds, 1),
               "datasets": {kind: {"id": result.dataset_ids[kind], **stats} for kind, stats in result.statistics.items()}}
    rows = [{"dataset": result.dataset_ids[kind], "episodes": stats["episodes"], "return": stats["dataset_return"],
             "TQ": stats["tq"], "SACo": stats["saco"], "unique pairs": stats["unique_state_actions"]}
            for kind, stats in result.statistics.items()]
    title = f"{result.task}: {result.transitions} transitions each, best online return {result.online_best_return:.4g}"
    return Shown(payload, tables=(Table(rows, DATASET_COLUMNS, title),))


def dataset_stats_shown(stats: dict[str, Any]) -> Shown:
    rows = [{"statistic": key.replace("_", " "), "value": value} for key, value in stats.items()]
    return Shown(stats, tables=(Table(rows, ["statistic", "value"], f"dataset {stats['dataset']}"),))


RECIPE_COLUMNS = ["recipe", "task", "algorithm", "budget", "checkpoints", "score", "wall s"]


def recipes_shown(rows: list[dict[str, Any]], unavailable: Sequence[str] = ()) -> Shown:
    """The recipes' table; ``unavailable``: a line per algorithm whose recipes cannot load here."""
    title = ("baseline recipes (score at training's end per trained seed: the greedy return over 10 episodes; "
             "for crew recipes the crew's win rate over 100 games per impostor)")
    return Shown(rows, tables=(Table(rows, RECIPE_COLUMNS, title),), notes=tuple(unavailable))


def interrupted_line(run_id: int | None) -> str:
    """What Ctrl-C during an eval says: the run that keeps what was played, if one does."""
    if run_id is None:
        return "interrupted before any episode was stored: nothing was kept"
    return (f"interrupted: run {run_id} keeps every finished episode; run `gymarena eval` again with the same "
            f"options (or --resume {run_id}) to continue it")


def checkpoints_shown(paths: Sequence[Any]) -> Shown:
    return Shown({"checkpoints": [str(p) for p in paths]}, lines=tuple(str(p) for p in paths))


def runs_made_shown(run_ids: Sequence[int], database: str, what: str) -> Shown:
    return Shown({"database": database, "runs": list(run_ids)}, lines=(f"{len(run_ids)} {what} in {database}",))



CHECK_COLUMNS = ["task", "player", "result", "versions_differ"]


def check_shown(results: Sequence[Any]) -> Shown:
    """`gymarena check`: per task (and player), whether it behaves like its reference."""
    rows = [{"task": r.task_id, "player": r.player, "result": r.words, "versions_differ": ", ".join(r.versions)}
            for r in results]
    counts: dict[str, int] = {}
    for r in results:
        status = r.status if not r.status.startswith("not run") else "not run"
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return Shown({"checks": [{"task": r.task_id, "player": r.player, **r.to_json()} for r in results]},
                 tables=(Table(rows, CHECK_COLUMNS, "Simulator checks against the reference fingerprints"),),
                 lines=(summary,), csv=Table(rows, CHECK_COLUMNS))


# -- each board's `gymarena leaderboard` output (gymarena/leaderboard/boards.py names them) -------

def scores_board_shown(store: ResultsStore, suite: str, reps: int) -> Shown:
    from gymarena.leaderboard import leaderboard

    return ranking_shown(leaderboard(store, suite, reps=reps), suite)


def cav_board_shown(store: ResultsStore, suite: str, reps: int) -> Shown:
    from gymarena.leaderboard.safety import safety_board

    return safety_shown(safety_board(store, suite))


def social_board_shown(store: ResultsStore, suite: str, reps: int) -> Shown:
    from gymarena.leaderboard.social import social_board

    return social_shown(social_board(store, suite, reps))
