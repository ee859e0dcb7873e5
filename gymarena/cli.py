"""The ``gymarena`` command: parses options, calls the library, prints. No logic of its own.

Every command that shows data takes ``--json`` (and ``--csv`` where it is tabular) through
one definition (:data:`AsJson`, :data:`AsCsv`) and prints through one function
(``output.emit``) what gymarena/views.py shapes. Imports happen inside the commands, so
``gymarena --help`` loads no simulator, no SQL and no server.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gymarena.errors import GymarenaError
from gymarena.output import Shown, emit, make_console

app = typer.Typer(
    name="gymarena",
    help="Evaluate RL agents on versioned suites of simulators and keep every result in a database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = make_console()
err = make_console(stderr=True)

DB_HELP = "Results database: any SQLAlchemy URL or a file path. Default: $GYMARENA_DB, else a SQLite file in your data directory."
DbOption = typer.Option(None, "--db", help=DB_HELP, show_default=False)
# The output options every command that shows data shares.
AsJson = Annotated[bool, typer.Option("--json", help="Print the whole result as JSON (for scripts).")]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print the table as CSV.")]


DEBUG = {"tracebacks": False}  # set by `gymarena --debug`


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn gymarena's errors into one line on stderr and a non-zero exit (with
    ``--debug``, after the traceback of what caused it: an agent's own, for agent errors)."""
    from rich.markup import escape

    try:
        yield
    except GymarenaError as exc:
        if DEBUG["tracebacks"]:
            import traceback

            err.print("".join(traceback.format_exception(exc)), highlight=False, markup=False, soft_wrap=True)
        err.print(f"[bold red]error:[/] {escape(exc.for_cli(option_of))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


# The command-line option of each field a library error names (gymarena.errors.param).
OPTIONS = {"tasks": "--task", "all_recipes": "--all"}


def option_of(name: str) -> str:
    return OPTIONS.get(name, "--" + name.replace("_", "-"))


def show(shown: Shown, as_json: bool = False, as_csv: bool = False) -> None:
    """Print what a command shows in the form asked for (``--json``, ``--csv`` or tables)."""
    emit(shown, as_json, as_csv, out, err)


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        err.print("[bold red]error:[/] choose one of --json and --csv", highlight=False)
        raise typer.Exit(2)


def say(line: str) -> None:
    """One line to stderr, never broken by the console (a path or a name stays whole to copy;
    the terminal wraps it if it must)."""
    err.print(line, highlight=False, soft_wrap=True)


def _ignore_further_interrupts() -> None:
    """After Ctrl-C has been handled: a solver that held the signal may deliver it again
    while the command exits; the exit says what was kept, so a second one is dropped."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _print_version(value: bool) -> None:
    if value:
        from gymarena import __version__

        out.print(f"gymarena {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print gymarena's version and exit.",
                                 callback=_print_version, is_eager=True),
    debug: bool = typer.Option(False, "--debug", help="On an error, print its traceback too (for an agent's error, "
                               "the agent's own; with the local backend)."),
) -> None:
    """Evaluate RL agents on versioned suites of simulators and keep every result in a database."""
    from gymarena.quiet import silence_known_warnings

    DEBUG["tracebacks"] = debug
    silence_known_warnings()


@app.command("list")
def list_command(as_json: AsJson = False, as_csv: AsCsv = False, db: str | None = DbOption) -> None:
    """List tasks and suites, whether each can run here, and what to install when not."""
    from gymarena import all_tasks, list_suites
    from gymarena.results.location import resolve_db_url
    from gymarena.views import listing_shown

    _one_format(as_json, as_csv)
    with reported_errors():
        show(listing_shown(all_tasks(), list_suites(), resolve_db_url(db)), as_json, as_csv)


@app.command("eval")
def eval_command(
    suite: str | None = typer.Option(None, "--suite", help="Suite name, name@version, or path to a suite .toml file."),
    task: list[str] | None = typer.Option(None, "--task", help="A task id such as minigrid/DoorKey-8x8-v0; repeatable."),
    agent: str = typer.Option("random", "--agent", help="'random', 'package.module:attr' or 'path/to/file.py:attr'."),
    seeds: str | None = typer.Option(None, "--seeds", help="Seeds such as 0-4 or 0,3,7. Default: the suite's, else 0-4."),
    episodes: int | None = typer.Option(None, "--episodes", help="Episodes per seed. Default: each task's own budget."),
    workers: int = typer.Option(1, "--workers", help="Worker processes; more than 1 uses the processes backend."),
    backend: str | None = typer.Option(None, "--backend", help="local, processes, isolated (a crashing simulator fails only its episode) or ray. Default: isolated for crash-prone simulators (NetHack), else from --workers."),
    address: str | None = typer.Option(None, "--address", help="With --backend ray: the Ray cluster (auto, or ray://host:port). Default: a local Ray instance of --workers CPUs."),
    isolated: bool | None = typer.Option(None, "--isolated/--in-process", help="Run the simulators in their family's own runtime (gymarena install FAMILY), or in the worker processes. Default: isolated only for families that need it (Super Mario Bros, StarCraft II)."),
    resume: int | None = typer.Option(None, "--resume", help="Continue the stored run with this id."),
    fresh: bool = typer.Option(False, "--fresh", help="Start a new run even if an unfinished identical one exists."),
    batch: int = typer.Option(1, "--batch", help="Play N episodes of a task in lockstep per worker, one act_batch call per step for all (the agent needs act_batch; README: Agents). Same records as unbatched."),
    device: str | None = typer.Option(None, "--device", help="Torch device for agents that take one (SB3 checkpoints, trained baselines): cpu, cuda, cuda:N or auto."),
    algorithm: str | None = typer.Option(None, "--algorithm", help="NAME[@VERSION]: the agent is one independently trained checkpoint of this algorithm; a leaderboard ranks an algorithm's runs as one entry over its training runs."),
    step_seconds: float | None = typer.Option(None, "--step-seconds", help="Longest an agent's act (or a simulator's step) may take before the run fails naming the task, seed, episode and step. Default: 60; 0: no limit."),
    episode_seconds: float | None = typer.Option(None, "--episode-seconds", help="Longest one episode may take. Default: no limit."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    db: str | None = DbOption,
) -> None:
    """Evaluate an agent on a suite or on tasks; every episode is stored as it finishes."""
    from gymarena.cavtest.suite import evaluate_cav_suite, safety_suite
    from gymarena.output import EpisodeProgress
    from gymarena.results import open_store
    from gymarena.results.exchange import stored_run
    from gymarena.runner import EvalRequest, evaluate, parse_algorithm, parse_seeds
    from gymarena.runner.deadlines import Deadlines
    from gymarena.tournament.play import evaluate_social_suite, social_suite
    from gymarena.views import cav_test_shown, interrupted_line, run_shown

    _one_format(as_json, as_csv)
    with reported_errors():
        request = EvalRequest(
            suite=suite, tasks=tuple(task or ()), agent=agent,
            seeds=parse_seeds(seeds) if seeds is not None else None, episodes=episodes,
            workers=workers, backend=backend, resume=resume, fresh=fresh, isolated=isolated, address=address,
            batch=batch, device=device, algorithm=parse_algorithm(algorithm) if algorithm is not None else None,
            deadlines=Deadlines.given(step_seconds, episode_seconds),
        )
        safety, social = safety_suite(request), social_suite(request)
        with open_store(db) as store:
            say(f"results database: {store.display_url}")
            if safety is not None:  # a safety board's suite: a CAV testing run
                run_id, summary = evaluate_cav_suite(store, safety, agent,
                                                     request.seeds, fresh=fresh, say=say)
                show(cav_test_shown(run_id, summary, stored_run(store, run_id).summary or {}), as_json)
                return
            if social is not None:  # a social board's suite: games against its pool
                with EpisodeProgress(err) as progress:
                    run_id = evaluate_social_suite(store, social, agent, request.seeds, fresh=fresh,
                                                   algorithm=request.algorithm, say=say, progress=progress.update)
                show(run_shown(store, stored_run(store, run_id)), as_json, as_csv)
                return
            with EpisodeProgress(err) as progress:
                try:
                    result = evaluate(request, store, progress=progress.update)
                except KeyboardInterrupt as exc:
                    say(interrupted_line(getattr(exc, "run_id", None)))
                    raise typer.Exit(130) from None
            if result.already_complete:
                say(f"run {result.run.id} already holds these results (complete); nothing was stored. "
                    "--fresh evaluates again as a new run")
            elif result.resumed:
                say(f"resumed run {result.run.id}: {result.skipped} episodes were already stored")
            if result.unbatched:
                say("played one episode at a time despite --batch: "
                    + "; ".join(f"{task} ({why})" for task, why in result.unbatched.items()))
            show(run_shown(store, result.run), as_json, as_csv)


@app.command("results")
def results_command(
    run: int | None = typer.Option(None, "--run", help="Show this run's per-task scores."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    db: str | None = DbOption,
) -> None:
    """Show what is in the results database: runs, or one run's per-task scores (CSV: every run's scores)."""
    from gymarena.results import open_store
    from gymarena.results.exchange import stored_run
    from gymarena.views import results_shown

    _one_format(as_json, as_csv)
    with reported_errors(), open_store(db, create=False) as store:
        runs = [stored_run(store, run)] if run is not None else store.list_runs()
        show(results_shown(store, runs, one_run=run is not None), as_json, as_csv)


runs_app = typer.Typer(help="Remove stored runs: one by one, or every failed and interrupted one.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
YesOption = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")


@runs_app.command("delete")
def runs_delete_command(
    runs: list[int] = typer.Argument(..., help="Ids of the runs to delete (see `gymarena results`)."),
    yes: bool = YesOption,
    db: str | None = DbOption,
) -> None:
    """Delete runs with all their episodes from the results database."""
    from gymarena.results import open_store

    with reported_errors(), open_store(db, create=False) as store:
        found = [store.get_run(run) for run in runs]
        missing = [str(run) for run, info in zip(runs, found, strict=True) if info is None]
        if missing:
            raise GymarenaError(f"there is no run {', '.join(missing)} in {store.display_url} (gymarena results lists them)")
        _confirm(f"delete {len(runs)} run(s) ({sum(r.episode_count for r in found if r):,} episodes) "
                 f"from {store.display_url}?", yes)
        for run in runs:
            store.delete_run(run)
    say(f"deleted run(s) {', '.join(map(str, runs))}")


@runs_app.command("prune")
def runs_prune_command(yes: bool = YesOption, db: str | None = DbOption) -> None:
    """Delete every failed or interrupted run (a run whose process died counts as interrupted)."""
    from gymarena.results import open_store

    with reported_errors(), open_store(db, create=False) as store:
        doomed = [run for run in store.list_runs() if run.status in ("failed", "interrupted")]
        if not doomed:
            say(f"no failed or interrupted runs in {store.display_url}")
            return
        _confirm(f"delete {len(doomed)} failed or interrupted run(s) ({', '.join(str(r.id) for r in doomed[:20])}"
                 f"{' ...' if len(doomed) > 20 else ''}) from {store.display_url}?", yes)
        for run in doomed:
            store.delete_run(run.id)
    say(f"deleted {len(doomed)} run(s)")


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise GymarenaError(f"{question} Not asked without a terminal: add --yes")
    if not typer.confirm(question, err=True):
        raise typer.Exit(1)


@app.command("report")
def report_command(
    runs: list[int] = typer.Argument(..., help="Ids of stored runs to report on (see `gymarena results`)."),
    out_dir: Path = typer.Option(Path("gymarena-report"), "--out", help="Directory to write report.md, CSVs and figures into."),
    reps: int = typer.Option(50_000, "--reps", help="Bootstrap resamples for aggregate and improvement CIs (profiles use 2,000)."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Write a report of runs: per-task tables, aggregate CIs, profiles, improvement matrix, FAS curves."""
    from gymarena.reports import write_report
    from gymarena.results import open_store
    from gymarena.views import report_shown

    with reported_errors(), open_store(db, create=False) as store:
        show(report_shown(write_report(store, runs, out_dir, reps=reps)), as_json)


@app.command("leaderboard")
def leaderboard_command(
    suite: str = typer.Option(..., "--suite", help="Suite to rank agents on: a name, name@N or a suite file."),
    reps: int = typer.Option(2_000, "--reps", help="Bootstrap resamples for the IQM, rank and improvement intervals."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
    db: str | None = DbOption,
) -> None:
    """Rank the agents whose complete runs of a suite share its protocol, with 95% intervals."""
    from gymarena.leaderboard.boards import board
    from gymarena.results import open_store
    from gymarena.suites import load_suite

    _one_format(as_json, as_csv)
    with reported_errors(), open_store(db, create=False) as store:
        show(board(load_suite(suite).board).call("shown", store, suite, reps), as_json, as_csv)


@app.command("serve")
def serve_command(
    db: str | None = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", help="Server processes (rankings are computed once, by a refresher process beside them)."),
) -> None:
    """Serve the web leaderboard and its JSON API over a results database (pip install 'gymarena\\[server]')."""
    from gymarena.leaderboard.server import serve
    from gymarena.results.location import resolve_db_url

    with reported_errors():
        serve(resolve_db_url(db), host, port, workers)


@app.command("install")
def install_command(
    family: str = typer.Argument(..., help="The simulator family whose runtime to build, e.g. mario or minigrid."),
    python: str | None = typer.Option(None, "--python", help="Interpreter of the runtime (default: this one)."),
    if_needed: bool = typer.Option(False, "--if-needed", help="Keep an installed runtime that is current "
                                   "(same requirements, this gymarena source) instead of rebuilding it."),
) -> None:
    """Build a family's isolated runtime: a virtual environment of its own (in the user's data
    directory, or $GYMARENA_RUNTIMES) where its simulator runs, behind an env server."""
    from gymarena.runtimes.install import ensure_runtime

    with reported_errors():
        ensure_runtime(family, python, if_needed, say=say)


@app.command("check")
def check_command(
    suite: str | None = typer.Option(None, "--suite", help="Check this suite's tasks (a name, name@N or a suite file)."),
    task: str | None = typer.Option(None, "--task", help="Check this one task."),
    pin: bool = typer.Option(False, "--pin", help="For maintainers: record the fingerprints here and store them as the "
                             "references that ship (after a version bump or a pinned package upgrade)."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Replay each task's reference fingerprint on the simulators installed here: does each
    behave as the reference did (and each built-in player)? Exits 1 when one diverged."""
    from gymarena.fingerprints.check import pin_references, run_checks, selected
    from gymarena.output import EpisodeProgress
    from gymarena.views import check_shown

    _one_format(as_json, as_csv)
    if suite is not None and task is not None:
        err.print("[bold red]error:[/] choose one of --suite and --task", highlight=False)
        raise typer.Exit(2)
    with reported_errors():
        pairs = selected(suite, task)
        with EpisodeProgress(err, "fingerprints") as progress:
            if pin:
                written = pin_references(pairs, progress.update)
            else:
                results = run_checks(pairs, progress.update)
        if pin:
            for path in written:
                say(f"wrote {path}")
            return
        show(check_shown(results), as_json, as_csv)
        if any(result.status == "diverged" for result in results):
            raise typer.Exit(1)


cav_app = typer.Typer(help="CAV safety testing: crash-rate estimation with NDE, NADE, adaptive testing and AdaTE.",
                      no_args_is_help=True)
app.add_typer(cav_app, name="cav")


@cav_app.command("test")
def cav_test_command(
    agent: str = typer.Option("idm", "--agent", help="The AV under test: idm, cautious, aggressive, acc, or an agent "
                              "reference whose agent has act_batch(observations) or act(observation)."),
    mode: str = typer.Option("nde", "--mode", help="nde (naturalistic), nade (importance-sampled), adaptive, or adate "
                              "(AdaTE: surrogates combined on a Q_AV learned from the tests)."),
    tests: int = typer.Option(200_000, "--tests", help="Tests to play (the most, with --until-rhw)."),
    until_rhw: float | None = typer.Option(None, "--until-rhw", help="Stop once the relative half-width (90%) is this small and the interval can be trusted (importance-sampled modes: 25+ crashes, and the barely steered tests may hide at most half the estimate)."),
    seed: int = typer.Option(0, "--seed", "--seeds", help="Seed of the run: batch i of tests is drawn from (seed, i)."),
    batch_size: int = typer.Option(4096, "--batch-size", help="Tests simulated at once (and committed together)."),
    epsilon: float = typer.Option(0.1, "--epsilon", help="NADE's defensive share of the NDD in the importance distribution."),
    ndd: str | None = typer.Option(None, "--ndd", help="An NDD file of your own (format gymarena-ndd/1)."),
    fresh: bool = typer.Option(False, "--fresh", help="Start a new run even if an identical one exists (unfinished or complete)."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Estimate an AV's crash rate; every test is stored as an episode of a run (the same command continues it)."""
    from gymarena.cavtest import run_cav_tests
    from gymarena.results import open_store
    from gymarena.results.exchange import stored_run
    from gymarena.views import cav_test_shown

    with reported_errors(), open_store(db) as store:
        say(f"results database: {store.display_url}")
        try:
            run_id, summary = run_cav_tests(store, agent, mode, tests, until_rhw, seed, batch_size, epsilon, ndd, say=say,
                                            fresh=fresh)
        except KeyboardInterrupt:
            _ignore_further_interrupts()
            say("interrupted: the tests of every finished batch are stored; run the same `gymarena cav test` again "
                "to continue")
            raise typer.Exit(130) from None
        show(cav_test_shown(run_id, summary, stored_run(store, run_id).summary or {}), as_json)


@cav_app.command("compare")
def cav_compare_command(
    run_a: int | None = typer.Argument(None, help="A testing run (e.g. NDE)."),
    run_b: int | None = typer.Argument(None, help="Another (e.g. NADE)."),
    plot: str | None = typer.Option(None, "--plot", help="Write the RHW curves to this image (needs matplotlib)."),
    reps: int = typer.Option(300, "--reps", help="Bootstrap resamples for the CIs."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Estimates side by side, whether they agree (unbiasedness), and the efficiency of B over A."""
    from gymarena.cavtest import compare, plot_paths
    from gymarena.results import open_store
    from gymarena.views import cav_compare_shown

    with reported_errors():
        if run_a is None or run_b is None:
            raise GymarenaError("give two testing runs to compare, e.g. `gymarena cav compare 1 2` "
                                "(`gymarena results` lists the runs)")
        with open_store(db, create=False) as store:
            result, paths = compare(store, run_a, run_b, reps)
        written = plot_paths(paths, [f"run {run_a}", f"run {run_b}"], plot) if plot else None
    show(cav_compare_shown((run_a, run_b), result, written), as_json)


@cav_app.command("replay")
def cav_replay_command(
    run: int = typer.Argument(..., help="A testing run."),
    test: int | None = typer.Option(None, "--test", help="The test to draw (default: the run's first crash)."),
    output: str = typer.Option("crash.gif", "--out", help="A .gif (animation) or .png (strip of frames)."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Play a stored test again and draw what the AV did."""
    from gymarena.cavtest import replay
    from gymarena.results import open_store
    from gymarena.views import cav_replay_shown

    with reported_errors(), open_store(db, create=False) as store:
        test, path = replay(store, run, test, output)
    show(cav_replay_shown(run, test, path), as_json)


admin_app = typer.Typer(help="Leaderboard server administration: API tokens, hidden seeds, hiding runs.",
                        no_args_is_help=True)
app.add_typer(admin_app, name="admin")


@admin_app.command("create-token")
def create_token_command(
    name: str = typer.Option(..., "--name", help="Who the token is for (unique)."),
    quota: int = typer.Option(20, "--quota", help="Submissions the token may make in any 24 hours."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Create an API token and print it once: only its hash is stored."""
    from gymarena.results import open_store
    from gymarena.views import token_shown

    with reported_errors(), open_store(db) as store:
        token = store.submissions.create_token(name, quota)
    show(token_shown(name, token, quota), as_json)


@admin_app.command("revoke-token")
def revoke_token_command(
    name: str = typer.Option(..., "--name", help="Whose token to revoke."),
    db: str | None = DbOption,
) -> None:
    """Revoke an API token: requests carrying it are refused from now on."""
    from gymarena.results import open_store

    with reported_errors(), open_store(db, create=False) as store:
        store.submissions.revoke_token(name)
    say(f"revoked the token of {name!r}")


@admin_app.command("rotate-seeds")
def rotate_seeds_command(
    suite: str = typer.Option(..., "--suite", help="Suite whose hidden seeds to reveal and replace."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Reveal a suite's hidden seeds (with their salt) and draw new ones; prints the new commitment."""
    from gymarena.leaderboard.worker import rotate_hidden_seeds
    from gymarena.results import open_store
    from gymarena.views import seeds_shown

    with reported_errors(), open_store(db, create=False) as store:
        show(seeds_shown(*rotate_hidden_seeds(store, suite)), as_json)


@admin_app.command("hide-run")
def hide_run_command(
    run: int = typer.Argument(..., help="Id of the run to hide (see the run's page or `gymarena results`)."),
    reason: str = typer.Option(..., "--reason", help="Why: shown on the run's page in place of it."),
    db: str | None = DbOption,
) -> None:
    """Hide a run from every ranking, listing and page (its episodes stay stored; unhide-run undoes it)."""
    from gymarena.results import open_store

    with reported_errors(), open_store(db, create=False) as store:
        store.set_hidden(run, reason.strip() or "hidden by the admin")
    say(f"run {run} is hidden: {reason}; rankings are recomputed within seconds")


@admin_app.command("unhide-run")
def unhide_run_command(
    run: int = typer.Argument(..., help="Id of a hidden run."),
    db: str | None = DbOption,
) -> None:
    """Show a hidden run again, in rankings and pages."""
    from gymarena.results import open_store

    with reported_errors(), open_store(db, create=False) as store:
        store.set_hidden(run, None)
    say(f"run {run} is shown again")


submit_app = typer.Typer(help="Submit to a leaderboard server.", no_args_is_help=True)
app.add_typer(submit_app, name="submit")

ServerOption = typer.Option(..., "--server", help="Leaderboard server URL, e.g. http://127.0.0.1:8000.")
TokenOption = typer.Option(..., "--token", envvar="GYMARENA_TOKEN", help="Your API token (or $GYMARENA_TOKEN).")


@submit_app.command("results")
def submit_results_command(
    runs: list[int] = typer.Argument(..., help="Ids of complete local runs of a suite (see `gymarena results`)."),
    algorithm: str | None = typer.Option(None, "--algorithm", help="NAME[@VERSION]: the runs are independently trained checkpoints of this algorithm, ranked as one entry over its runs (default: what each run names, if anything)."),
    server: str = ServerOption,
    token: str = TokenOption,
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Upload local runs' episodes and provenance, one submission each; the server checks and ranks them as self-reported."""
    from gymarena.leaderboard.client import submit_results
    from gymarena.leaderboard.uploads import results_payload
    from gymarena.results import open_store
    from gymarena.runner import parse_algorithm
    from gymarena.views import submission_shown, submissions_shown

    with reported_errors():
        named = parse_algorithm(algorithm) if algorithm is not None else None
        with open_store(db, create=False) as store:
            payloads = [results_payload(store, run, named) for run in runs]  # every run checked before any is sent
        answers = []
        for payload in payloads:
            answer = submit_results(server, token, payload)
            answers.append(answer)
            if not as_json:  # each as it is stored: a later refusal does not hide the earlier ones
                show(submission_shown(answer, server, f", stored as run {answer['run']} ({answer['kind']})"), False)
    if as_json:
        show(submissions_shown(answers, server), as_json)


@submit_app.command("agent")
def submit_agent_command(
    package: Path = typer.Argument(..., help="The agent's directory (with gymarena-agent.toml) or a .tar.gz of it."),
    suite: str = typer.Option(..., "--suite", help="Suite to be evaluated on, as name@version."),
    server: str = ServerOption,
    token: str = TokenOption,
    as_json: AsJson = False,
) -> None:
    """Upload an agent; the server evaluates it sandboxed on the suite's hidden seeds and ranks it as verified."""
    from gymarena.leaderboard.client import submit_agent_package
    from gymarena.views import submission_shown

    with reported_errors():
        answer, manifest = submit_agent_package(server, token, suite, package)
    show(submission_shown(answer, server, f" ({manifest.name} {manifest.version})"), as_json)


@app.command("worker")
def worker_command(
    db: str | None = DbOption,
    once: bool = typer.Option(False, "--once", help="Stop when the queue is empty instead of waiting for more."),
    poll: float = typer.Option(2.0, "--poll", help="Seconds between looks at an empty queue."),
    step_seconds: float = typer.Option(10.0, "--step-seconds", help="Longest the agent may take to answer one call."),
    episode_seconds: float = typer.Option(900.0, "--episode-seconds", help="Longest wall-clock time per episode."),
    memory_gb: float = typer.Option(4.0, "--memory-gb", help="Address-space limit of the agent process."),
    submission_seconds: float | None = typer.Option(
        None, "--submission-seconds", help="Longest wall-clock time for a whole submission "
        "(default: sized to the suite, 120 s per task + 0.05 s per planned step, at least 600 s)."),
    tmp_mb: int = typer.Option(256, "--tmp-mb", help="Size of the agent's private, writable /tmp (and HOME)."),
    unsafe_no_sandbox: bool = typer.Option(False, "--unsafe-no-sandbox", help="Run agents without bubblewrap: only for code you trust."),
    as_json: AsJson = False,
) -> None:
    """Evaluate queued agent submissions, each sandboxed, on the suites' hidden seeds."""
    import logging

    from gymarena.leaderboard.sandbox import Limits
    from gymarena.leaderboard.worker import WorkerConfig, run_worker
    from gymarena.results.location import resolve_db_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    limits = Limits(memory_bytes=int(memory_gb * 1024**3), step_seconds=step_seconds, episode_seconds=episode_seconds,
                    submission_seconds=submission_seconds, tmp_bytes=tmp_mb * 1024**2)
    with reported_errors():
        done = run_worker(resolve_db_url(db), once=once, unsafe_no_sandbox=unsafe_no_sandbox,
                          config=WorkerConfig(limits=limits, poll_seconds=poll))
    show(Shown({"evaluated": done}, notes=(f"evaluated {done} submission(s)",)), as_json)


dataset_app = typer.Typer(help="Offline datasets: exploitation (TQ) and exploration (SACo) statistics.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("record")
def dataset_record_command(
    task: str = typer.Option(..., "--task", help="The task to play, e.g. classic/CartPole-v1."),
    agent: str = typer.Option("random", "--agent", help="'random', 'scripted', 'package.module:attr' or 'path/to/file.py:attr'."),
    episodes: int = typer.Option(10, "--episodes", help="Episodes per seed."),
    seeds: str = typer.Option("0", "--seeds", help="Seeds such as 0-4 or 0,3,7."),
    dataset_id: str = typer.Option(..., "--id", help="The Minari dataset id, e.g. cartpole/random-v0."),
    as_json: AsJson = False,
) -> None:
    """Record an agent's episodes into a Minari dataset (MINARI_DATASETS_PATH), as gymarena eval plays them."""
    from gymarena.recording import record_dataset
    from gymarena.runner import parse_seeds
    from gymarena.views import dataset_shown

    with reported_errors():
        try:
            dataset = record_dataset(task, agent, dataset_id, parse_seeds(seeds), episodes, say=say)
        except KeyboardInterrupt:
            _ignore_further_interrupts()
            say(f"interrupted: nothing was written (a dataset is written whole, at its end); {dataset_id!r} is free "
                "to record again")
            raise typer.Exit(130) from None
    show(dataset_shown(dataset_id, dataset), as_json)


@dataset_app.command("make-suite")
def dataset_make_suite_command(
    task: str = typer.Option(..., "--task", help="A task with a DQN recipe, e.g. classic/CartPole-v1 (gymarena baselines list)."),
    transitions: int = typer.Option(100_000, "--transitions", help="Transitions per dataset; the online DQN run trains for as many."),
    seed: int = typer.Option(0, "--seed", help="Seed of the online run and of the collection."),
    prefix: str | None = typer.Option(None, "--prefix", help="Minari namespace of the five datasets. Default: the task's name, e.g. cartpole-v1."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """The five datasets of Schweighofer et al. (random, mixed, replay, noisy, expert) from one online DQN run, with TQ and SACo."""
    from gymarena.dataset_suite import make_suite
    from gymarena.views import dataset_suite_shown

    _one_format(as_json, as_csv)
    with reported_errors():
        try:
            result = make_suite(task, transitions, seed, prefix, say=say)
        except KeyboardInterrupt:
            _ignore_further_interrupts()
            say("interrupted: every dataset a `wrote` line names is kept, and so is the online run once its replay "
                "is written; run the same command again to make the rest")
            raise typer.Exit(130) from None
    show(dataset_suite_shown(result), as_json, as_csv)


@dataset_app.command("stats")
def dataset_stats_command(
    dataset: str = typer.Argument(..., help="Minari dataset id (under MINARI_DATASETS_PATH) or .npz file."),
    reference: str = typer.Option(..., "--reference", help="Dataset that SACo is relative to (the replay dataset in the paper)."),
    random: str = typer.Option(..., "--random", help="Dataset of a random policy: the zero of TQ."),
    online_best: float = typer.Option(..., "--online-best", help="Best online evaluation return: the one of TQ."),
    bins: int = typer.Option(100, "--bins", help="Bins per state/action dimension when counting unique pairs."),
    limits: str = typer.Option("reference", "--limits", help="Binning range: 'reference' (shared) or 'dataset' (each its own)."),
    counting: str = typer.Option("exact", "--counting", help="'exact', or 'hyperloglog' (the paper's sketch, ~1% error)."),
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """TQ and SACo of a dataset (Schweighofer et al., CoLLAs 2022), unique pairs counted exactly."""
    from gymarena.datasets import dataset_stats
    from gymarena.views import dataset_stats_shown

    _one_format(as_json, as_csv)
    with reported_errors():
        stats = dataset_stats(dataset, reference, random, online_best, bins, limits, counting)
    show(dataset_stats_shown(stats), as_json, as_csv)


baselines_app = typer.Typer(help="Trained baselines (Stable-Baselines3): recipes, training, reference results.", no_args_is_help=True)
app.add_typer(baselines_app, name="baselines")


@baselines_app.command("list")
def baselines_list_command(as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """The recipes, their budgets and the seeds trained here (score and wall time of each); --json adds each recipe's docstring."""
    from gymarena.baselines.algorithms import unavailable
    from gymarena.baselines.catalog import recipe_rows
    from gymarena.views import recipes_shown

    _one_format(as_json, as_csv)
    with reported_errors():
        show(recipes_shown(recipe_rows(), list(unavailable().values())), as_json, as_csv)


@baselines_app.command("train")
def baselines_train_command(
    recipes: list[str] = typer.Argument(None, help="Recipe names (gymarena baselines list); none with --all."),
    all_recipes: bool = typer.Option(False, "--all", help="Train every recipe."),
    seeds: str = typer.Option("0", "--seeds", help="Training seeds such as 0-2 or 0,3."),
    steps: int | None = typer.Option(None, "--steps", help="Override the recipe's budget (env steps; games for the crew recipes), e.g. for a smoke test."),
    root: Path | None = typer.Option(None, "--root", help="Where checkpoints go. Default: $GYMARENA_BASELINES, else ~/.cache/gymarena/baselines."),
    as_json: AsJson = False,
) -> None:
    """Train recipes and write their checkpoints (model.zip, or policy.pt for crew recipes, + training.json per seed)."""
    from gymarena.baselines.catalog import train_recipes
    from gymarena.runner import parse_seeds
    from gymarena.views import checkpoints_shown

    with reported_errors():
        try:
            written = train_recipes(recipes or [], all_recipes, parse_seeds(seeds), steps, root, say=say)
        except KeyboardInterrupt:
            _ignore_further_interrupts()
            say("interrupted: every checkpoint whose training finished is written (its line above says so); "
                "the one being trained is not saved: train it again with the same command")
            raise typer.Exit(130) from None
    show(checkpoints_shown(written), as_json)


@baselines_app.command("evaluate")
def baselines_evaluate_command(
    algorithms: str = typer.Option("ppo,dqn,sac,crew", "--algorithms", help="Comma-separated algorithms whose checkpoints to evaluate."),
    seeds: str = typer.Option("0-2", "--seeds", help="Training seeds such as 0-2."),
    export: Path | None = typer.Option(None, "--export", help="Also write each run as a gzipped document in this directory."),
    boards: bool = typer.Option(False, "--boards", help="Also play the social board's reference players on its games."),
    as_json: AsJson = False,
    db: str | None = DbOption,
) -> None:
    """Evaluate trained checkpoints: whole suites where an algorithm covers every task, else each recipe's task."""
    from gymarena.baselines.publish import evaluate_baselines, evaluate_board_references
    from gymarena.results import open_store
    from gymarena.runner import parse_seeds
    from gymarena.views import runs_made_shown

    with reported_errors(), open_store(db) as store:
        run_ids = evaluate_baselines(store, [a.strip() for a in algorithms.split(",") if a.strip()], parse_seeds(seeds),
                                     export, say=say)
        if boards:
            run_ids += evaluate_board_references(store, export, say=say)
        show(runs_made_shown(run_ids, store.display_url, "baseline evaluation runs"), as_json)


@baselines_app.command("publish")
def baselines_publish_command(
    db: str | None = DbOption,
    source: Path | None = typer.Option(None, "--from", help="A directory of run documents (default: the ones shipped with gymarena)."),
    as_json: AsJson = False,
) -> None:
    """Store the published baseline runs in a results database (once), as leaderboard reference entries."""
    from gymarena.baselines.publish import PUBLISHED_DIR, publish
    from gymarena.results import open_store
    from gymarena.views import runs_made_shown

    with reported_errors(), open_store(db) as store:
        run_ids = publish(store, source or PUBLISHED_DIR, say=say)
        show(runs_made_shown(run_ids, store.display_url, "baseline runs"), as_json)


def main() -> None:
    """Console entry point."""
    sys.exit(app())
