"""The ``gymarena`` command: parses options, calls the library, prints. No logic of its own."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from gymarena import all_tasks, list_suites
from gymarena.errors import GymarenaError
from gymarena.output import make_console, print_csv, print_json, print_table
from gymarena.results import open_store, resolve_db_url
from gymarena.runner import EvalRequest, evaluate, parse_seeds
from gymarena.views import (
    LEADERBOARD_COLUMNS, RUN_COLUMNS, SCORE_COLUMNS, SUITE_COLUMNS, TASK_COLUMNS, TASK_TABLE_COLUMNS,
    leaderboard_row, run_row, run_scores, score_rows, score_table_columns, score_table_row, stored_run_payload,
    suite_row, task_row,
)

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


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn gymarena's errors into one line on stderr and a non-zero exit."""
    try:
        yield
    except GymarenaError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _check_formats(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        err.print("[bold red]error:[/] choose one of --json and --csv", highlight=False)
        raise typer.Exit(2)


@app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print tasks, suites and the database as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the tasks as CSV."),
    db: Optional[str] = DbOption,
) -> None:
    """List tasks and suites, whether each can run here, and what to install when not."""
    _check_formats(as_json, as_csv)
    with reported_errors():
        tasks = [task_row(t) for t in all_tasks()]
        suites = [suite_row(s) for s in list_suites()]
    if as_json:
        print_json({"tasks": tasks, "suites": suites, "database": resolve_db_url(db)})
    elif as_csv:
        print_csv(tasks, TASK_COLUMNS)
    else:
        print_table(out, tasks, TASK_TABLE_COLUMNS, title="Tasks")
        print_table(out, suites, SUITE_COLUMNS, title="Suites")
        out.print(f"results database: {resolve_db_url(db)}", highlight=False)


class EpisodeProgress:
    """A progress bar on stderr that appears once the run knows its episode count."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task_id = None
        self.last_update = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.bar is not None and done < total and now - self.last_update < 0.1:
            return  # redrawing per episode would cost more than a CartPole episode
        self.last_update = now
        if self.bar is None:
            if done:
                err.print(f"resuming: {done} of {total} episodes are already stored", highlight=False)
            self.bar = Progress(
                TextColumn("episodes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                console=err,
            )
            self.bar.start()
            self.task_id = self.bar.add_task("episodes", total=total)
        self.bar.update(self.task_id, completed=done, total=total)

    def __enter__(self) -> EpisodeProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("eval")
def eval_command(
    suite: Optional[str] = typer.Option(None, "--suite", help="Suite name, name@version, or path to a suite .toml file."),
    task: Optional[List[str]] = typer.Option(None, "--task", help="A task id such as minigrid/DoorKey-8x8-v0; repeatable."),
    agent: str = typer.Option("random", "--agent", help="'random', 'package.module:attr' or 'path/to/file.py:attr'."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds such as 0-4 or 0,3,7. Default: the suite's, else 0-4."),
    episodes: Optional[int] = typer.Option(None, "--episodes", help="Episodes per seed. Default: each task's own budget."),
    workers: int = typer.Option(1, "--workers", help="Worker processes; more than 1 uses the processes backend."),
    backend: Optional[str] = typer.Option(None, "--backend", help="local, processes, isolated (a crashing simulator fails only its episode) or ray. Default: isolated for crash-prone simulators (NetHack), else from --workers."),
    address: Optional[str] = typer.Option(None, "--address", help="With --backend ray: the Ray cluster (auto, or ray://host:port). Default: a local Ray instance of --workers CPUs."),
    isolated: Optional[bool] = typer.Option(None, "--isolated/--in-process", help="Run the simulators in their family's own runtime (gymarena install FAMILY), or in the worker processes. Default: isolated only for families that need it (Super Mario Bros, StarCraft II)."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Continue the stored run with this id."),
    fresh: bool = typer.Option(False, "--fresh", help="Start a new run even if an unfinished identical one exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the finished run as JSON (episodes included)."),
    db: Optional[str] = DbOption,
) -> None:
    """Evaluate an agent on a suite or on tasks; every episode is stored as it finishes."""
    with reported_errors():
        request = EvalRequest(
            suite=suite, tasks=tuple(task or ()), agent=agent,
            seeds=parse_seeds(seeds) if seeds else None, episodes=episodes,
            workers=workers, backend=backend, resume=resume, fresh=fresh, isolated=isolated, address=address,
        )
        with open_store(db) as store:
            err.print(f"results database: {store.display_url}", highlight=False)
            with EpisodeProgress() as progress:
                try:
                    result = evaluate(request, store, progress=progress.update)
                except KeyboardInterrupt:
                    err.print("interrupted: run `gymarena eval` again with the same options (or --resume ID) to continue")
                    raise typer.Exit(130) from None
            if result.resumed:
                err.print(f"resumed run {result.run.id}: {result.skipped} episodes were already stored", highlight=False)
            if as_json:
                print_json(stored_run_payload(store, result.run))
            else:
                rows = [score_table_row(s) for s in run_scores(store, result.run)]
                title = f"run {result.run.id}: {result.run.agent.reference} ({result.run.status})"
                print_table(out, rows, score_table_columns(rows), title=title)


@app.command("results")
def results_command(
    run: Optional[int] = typer.Option(None, "--run", help="Show this run's per-task scores."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, episode records included."),
    as_csv: bool = typer.Option(False, "--csv", help="Print per-task scores as CSV."),
    db: Optional[str] = DbOption,
) -> None:
    """Show what is in the results database: runs, or one run's per-task scores."""
    _check_formats(as_json, as_csv)
    with reported_errors(), open_store(db) as store:
        if run is not None:
            found = store.get_run(run)
            if found is None:
                raise GymarenaError(f"there is no run {run} in {store.display_url}; `gymarena results` lists the runs")
            runs = [found]
        else:
            runs = store.list_runs()
        if as_json:
            print_json({"database": store.display_url, "runs": [stored_run_payload(store, r) for r in runs]})
        elif as_csv:
            print_csv(score_rows(store, runs), SCORE_COLUMNS)
        elif run is not None:
            rows = [score_table_row(s) for s in run_scores(store, runs[0])]
            print_table(out, rows, score_table_columns(rows), title=f"run {run}: {runs[0].agent.reference} ({runs[0].status})")
        else:
            print_table(out, [run_row(r) for r in runs], RUN_COLUMNS, title=f"runs in {store.display_url}")


@app.command("report")
def report_command(
    runs: List[int] = typer.Argument(..., help="Ids of stored runs to report on (see `gymarena results`)."),
    out_dir: Path = typer.Option(Path("gymarena-report"), "--out", help="Directory to write report.md, CSVs and figures into."),
    reps: int = typer.Option(50_000, "--reps", help="Bootstrap resamples for aggregate and improvement CIs (profiles use 2,000)."),
    db: Optional[str] = DbOption,
) -> None:
    """Write a report of runs: per-task tables, aggregate CIs, profiles, improvement matrix, FAS curves."""
    from gymarena.reports import write_report

    with reported_errors(), open_store(db) as store:
        report = write_report(store, runs, out_dir, reps=reps)
    for path in report.files:
        out.print(str(path), highlight=False)
    for task, reason in report.comparison.excluded.items():
        err.print(f"note: {task} is not in the aggregates: {reason}", highlight=False)


@app.command("leaderboard")
def leaderboard_command(
    suite: str = typer.Option(..., "--suite", help="Suite to rank agents on: a name, name@N or a suite file."),
    reps: int = typer.Option(2_000, "--reps", help="Bootstrap resamples for the IQM, rank and improvement intervals."),
    as_json: bool = typer.Option(False, "--json", help="Print the ranking as JSON, per-task scores and apart runs included."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the ranking table as CSV."),
    db: Optional[str] = DbOption,
) -> None:
    """Rank the agents whose complete runs of a suite share its protocol, with 95% intervals."""
    from gymarena.leaderboard import leaderboard
    from gymarena.leaderboard.payloads import ranking_payload

    _check_formats(as_json, as_csv)
    with reported_errors(), open_store(db) as store:
        ranking = leaderboard(store, suite, reps=reps)
    if as_json:
        print_json(ranking_payload(ranking))
        return
    rows = [leaderboard_row(e) for e in ranking.entries]
    if as_csv:
        print_csv(rows, LEADERBOARD_COLUMNS)
        return
    if rows:
        print_table(out, rows, LEADERBOARD_COLUMNS, title=f"{ranking.suite}: ranked by {', '.join(ranking.ranking)}")
    else:
        err.print(f"no complete run of {ranking.suite} under its protocol yet: `gymarena eval --suite {suite}` makes one", highlight=False)
    for group in ranking.apart:
        err.print(
            f"apart (protocol {group.protocol_hash[:12]}, runs {', '.join(map(str, group.run_ids))}): {'; '.join(group.differences)}",
            highlight=False, soft_wrap=True,
        )
    for note in ranking.notes:
        err.print(f"note: {note}", highlight=False)


@app.command("serve")
def serve_command(
    db: Optional[str] = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", help="Server processes (rankings are computed once, by a refresher process beside them)."),
) -> None:
    """Serve the web leaderboard and its JSON API over a results database (pip install 'gymarena[server]')."""
    from gymarena.leaderboard.server import serve

    with reported_errors():
        serve(resolve_db_url(db), host, port, workers)


@app.command("install")
def install_command(
    family: str = typer.Argument(..., help="The simulator family whose runtime to build, e.g. mario or minigrid."),
    python: Optional[str] = typer.Option(None, "--python", help="Interpreter of the runtime (default: this one)."),
    if_needed: bool = typer.Option(False, "--if-needed", help="Keep an installed runtime that is current "
                                   "(same requirements, this gymarena source) instead of rebuilding it."),
) -> None:
    """Build a family's isolated runtime: a virtual environment of its own (in the user's data
    directory, or $GYMARENA_RUNTIMES) where its simulator runs, behind an env server."""
    from gymarena.runtimes.install import install_runtime, outdated_reason

    say = lambda line: err.print(line, highlight=False)  # noqa: E731
    with reported_errors():
        reason = outdated_reason(family, python)
        if if_needed and not reason:
            say(f"the {family} runtime is current; kept")
            return
        install_runtime(family, python, say=say)


cav_app = typer.Typer(help="CAV safety testing: crash-rate estimation with NDE, NADE and adaptive testing.",
                      no_args_is_help=True)
app.add_typer(cav_app, name="cav")


@cav_app.command("test")
def cav_test_command(
    agent: str = typer.Option("idm", "--agent", help="The AV under test: idm, cautious, aggressive, or an agent "
                              "reference whose agent has act_batch(observations) or act(observation)."),
    mode: str = typer.Option("nde", "--mode", help="nde (naturalistic), nade (importance-sampled) or adaptive."),
    tests: int = typer.Option(200_000, "--tests", help="Tests to play (the most, with --until-rhw)."),
    until_rhw: Optional[float] = typer.Option(None, "--until-rhw", help="Stop once the relative half-width (90%) is this small."),
    seed: int = typer.Option(0, "--seed", help="Seed of the run: batch i of tests is drawn from (seed, i)."),
    batch_size: int = typer.Option(4096, "--batch-size", help="Tests simulated at once (and committed together)."),
    epsilon: float = typer.Option(0.1, "--epsilon", help="NADE's defensive share of the NDD in the importance distribution."),
    ndd: Optional[str] = typer.Option(None, "--ndd", help="An NDD file of your own (format gymarena-ndd/1)."),
    db: Optional[str] = DbOption,
) -> None:
    """Estimate an AV's crash rate; every test is stored as an episode of a run."""
    from gymarena.cavtest import run_cav_tests

    with reported_errors(), open_store(db) as store:
        run_id, summary = run_cav_tests(store, agent, mode, tests, until_rhw, seed, batch_size, epsilon, ndd,
                                        say=lambda line: err.print(line, highlight=False))
    out.print(f"run {run_id}: {summary.line()}", highlight=False)


@cav_app.command("compare")
def cav_compare_command(
    run_a: int = typer.Argument(..., help="A testing run (e.g. NDE)."),
    run_b: int = typer.Argument(..., help="Another (e.g. NADE)."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Write the RHW curves to this image (needs matplotlib)."),
    reps: int = typer.Option(300, "--reps", help="Bootstrap resamples for the CIs."),
    db: Optional[str] = DbOption,
) -> None:
    """Estimates side by side, whether they agree (unbiasedness), and the efficiency of B over A."""
    from gymarena.cavtest import compare, plot_paths

    with reported_errors(), open_store(db) as store:
        result, paths = compare(store, run_a, run_b, reps)
    for run_id, summary, needed in zip((run_a, run_b), result.summaries, result.needed):
        out.print(f"run {run_id}: {summary.line()}; tests needed {needed[0]:,.0f} (95% CI {needed[1]:,.0f} to {needed[2]:,.0f})",
                  highlight=False)
    agree = "agree" if result.agree else "DISAGREE"
    out.print(f"the estimates differ by {result.z:+.2f} standard errors: they {agree}", highlight=False)
    out.print(f"efficiency of run {run_b} over run {run_a}: {result.efficiency[0]:.1f}x "
              f"(95% CI {result.efficiency[1]:.1f} to {result.efficiency[2]:.1f})", highlight=False)
    if plot:
        out.print(f"RHW curves: {plot_paths(paths, [f'run {run_a}', f'run {run_b}'], plot)}", highlight=False)


@cav_app.command("replay")
def cav_replay_command(
    run: int = typer.Argument(..., help="A testing run."),
    test: Optional[int] = typer.Option(None, "--test", help="The test to draw (default: the run's first crash)."),
    output: str = typer.Option("crash.gif", "--out", help="A .gif (animation) or .png (strip of frames)."),
    db: Optional[str] = DbOption,
) -> None:
    """Play a stored test again and draw what the AV did."""
    from gymarena.cavtest import replay

    with reported_errors(), open_store(db) as store:
        test, path = replay(store, run, test, output)
    out.print(f"test {test} of run {run}: {path}", highlight=False)


admin_app = typer.Typer(help="Leaderboard server administration: API tokens.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


@admin_app.command("create-token")
def create_token_command(
    name: str = typer.Option(..., "--name", help="Who the token is for (unique)."),
    quota: int = typer.Option(20, "--quota", help="Submissions the token may make in any 24 hours."),
    db: Optional[str] = DbOption,
) -> None:
    """Create an API token and print it once: only its hash is stored."""
    with reported_errors(), open_store(db) as store:
        token = store.submissions.create_token(name, quota)
    out.print(token, highlight=False, soft_wrap=True)
    err.print(f"token for {name!r}: shown this once, stored hashed; {quota} submissions per 24 hours", highlight=False)


@admin_app.command("revoke-token")
def revoke_token_command(
    name: str = typer.Option(..., "--name", help="Whose token to revoke."),
    db: Optional[str] = DbOption,
) -> None:
    """Revoke an API token: requests carrying it are refused from now on."""
    with reported_errors(), open_store(db) as store:
        store.submissions.revoke_token(name)
    err.print(f"revoked the token of {name!r}", highlight=False)


submit_app = typer.Typer(help="Submit to a leaderboard server.", no_args_is_help=True)
app.add_typer(submit_app, name="submit")

ServerOption = typer.Option(..., "--server", help="Leaderboard server URL, e.g. http://127.0.0.1:8000.")
TokenOption = typer.Option(..., "--token", envvar="GYMARENA_TOKEN", help="Your API token (or $GYMARENA_TOKEN).")


@submit_app.command("results")
def submit_results_command(
    run: int = typer.Argument(..., help="Id of a complete local run of a suite (see `gymarena results`)."),
    server: str = ServerOption,
    token: str = TokenOption,
    db: Optional[str] = DbOption,
) -> None:
    """Upload a local run's episodes and provenance; the server checks and ranks them as self-reported."""
    from gymarena.leaderboard.client import submit_results
    from gymarena.leaderboard.uploads import results_payload

    with reported_errors():
        with open_store(db) as store:
            payload = results_payload(store, run)
        answer = submit_results(server, token, payload)
    out.print(f"submission {answer['submission']}: {answer['status']}, stored as run {answer['run']} ({answer['kind']}); "
              f"{server.rstrip('/')}/submissions/{answer['submission']}", highlight=False, soft_wrap=True)


@submit_app.command("agent")
def submit_agent_command(
    package: Path = typer.Argument(..., help="The agent's directory (with gymarena-agent.toml) or a .tar.gz of it."),
    suite: str = typer.Option(..., "--suite", help="Suite to be evaluated on, as name@version."),
    server: str = ServerOption,
    token: str = TokenOption,
) -> None:
    """Upload an agent; the server evaluates it sandboxed on the suite's hidden seeds and ranks it as verified."""
    from gymarena.leaderboard.client import submit_agent
    from gymarena.leaderboard.packages import inspect_archive, pack_directory

    with reported_errors():
        archive = pack_directory(package) if package.is_dir() else package.read_bytes()
        manifest = inspect_archive(archive)
        answer = submit_agent(server, token, suite, archive)
    out.print(f"submission {answer['submission']}: {answer['status']} ({manifest.name} {manifest.version}); "
              f"{server.rstrip('/')}/submissions/{answer['submission']}", highlight=False, soft_wrap=True)


@app.command("worker")
def worker_command(
    db: Optional[str] = DbOption,
    once: bool = typer.Option(False, "--once", help="Stop when the queue is empty instead of waiting for more."),
    poll: float = typer.Option(2.0, "--poll", help="Seconds between looks at an empty queue."),
    step_seconds: float = typer.Option(10.0, "--step-seconds", help="Longest the agent may take to answer one call."),
    episode_seconds: float = typer.Option(900.0, "--episode-seconds", help="Longest wall-clock time per episode."),
    memory_gb: float = typer.Option(4.0, "--memory-gb", help="Address-space limit of the agent process."),
    unsafe_no_sandbox: bool = typer.Option(False, "--unsafe-no-sandbox", help="Run agents without bubblewrap: only for code you trust."),
) -> None:
    """Evaluate queued agent submissions, each sandboxed, on the suites' hidden seeds."""
    import logging

    from gymarena.leaderboard.sandbox import Limits
    from gymarena.leaderboard.worker import WorkerConfig, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    limits = Limits(memory_bytes=int(memory_gb * 1024**3), step_seconds=step_seconds, episode_seconds=episode_seconds)
    with reported_errors():
        done = run_worker(resolve_db_url(db), once=once, unsafe_no_sandbox=unsafe_no_sandbox,
                          config=WorkerConfig(limits=limits, poll_seconds=poll))
    err.print(f"evaluated {done} submission(s)", highlight=False)


@admin_app.command("rotate-seeds")
def rotate_seeds_command(
    suite: str = typer.Option(..., "--suite", help="Suite whose hidden seeds to reveal and replace."),
    db: Optional[str] = DbOption,
) -> None:
    """Reveal a suite's hidden seeds (with their salt) and draw new ones; prints the new commitment."""
    from gymarena.suites import load_suite

    with reported_errors(), open_store(db) as store:
        loaded = load_suite(suite)
        commitment = store.submissions.rotate_seeds(loaded.label, len(loaded.seeds))
    out.print(f"{loaded.label}: new hidden seeds committed as {commitment.commitment}", highlight=False)


dataset_app = typer.Typer(help="Offline datasets: exploitation (TQ) and exploration (SACo) statistics.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("record")
def dataset_record_command(
    task: str = typer.Option(..., "--task", help="The task to play, e.g. classic/CartPole-v1."),
    agent: str = typer.Option("random", "--agent", help="'random', 'scripted', 'package.module:attr' or 'path/to/file.py:attr'."),
    episodes: int = typer.Option(10, "--episodes", help="Episodes per seed."),
    seeds: str = typer.Option("0", "--seeds", help="Seeds such as 0-4 or 0,3,7."),
    dataset_id: str = typer.Option(..., "--id", help="The Minari dataset id, e.g. cartpole/random-v0."),
) -> None:
    """Record an agent's episodes into a Minari dataset (MINARI_DATASETS_PATH), as gymarena eval plays them."""
    from gymarena.recording import record_dataset

    with reported_errors():
        dataset = record_dataset(task, agent, dataset_id, parse_seeds(seeds), episodes,
                                 say=lambda line: err.print(line, highlight=False))
    out.print(f"dataset {dataset_id}: {dataset.total_episodes} episodes, {dataset.total_steps} steps", highlight=False)


@dataset_app.command("make-suite")
def dataset_make_suite_command(
    task: str = typer.Option(..., "--task", help="A task with a DQN recipe, e.g. classic/CartPole-v1 (gymarena baselines list)."),
    transitions: int = typer.Option(100_000, "--transitions", help="Transitions per dataset; the online DQN run trains for as many."),
    seed: int = typer.Option(0, "--seed", help="Seed of the online run and of the collection."),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="Minari namespace of the five datasets. Default: the task's name, e.g. cartpole-v1."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """The five datasets of Schweighofer et al. (random, mixed, replay, noisy, expert) from one online DQN run, with TQ and SACo."""
    from gymarena.dataset_suite import make_suite

    with reported_errors():
        result = make_suite(task, transitions, seed, prefix, say=lambda line: err.print(line, highlight=False))
    if as_json:
        print_json({"task": result.task, "transitions": result.transitions, "online_best_return": result.online_best_return,
                    "online_evaluations": result.online_history, "wall_seconds": round(result.wall_seconds, 1),
                    "datasets": {kind: {"id": result.dataset_ids[kind], **stats} for kind, stats in result.statistics.items()}})
        return
    rows = [{"dataset": result.dataset_ids[kind], "episodes": stats["episodes"], "return": stats["dataset_return"],
             "TQ": stats["tq"], "SACo": stats["saco"], "unique pairs": stats["unique_state_actions"]}
            for kind, stats in result.statistics.items()]
    print_table(out, rows, ["dataset", "episodes", "return", "TQ", "SACo", "unique pairs"],
                title=f"{result.task}: {result.transitions} transitions each, best online return {result.online_best_return:.4g}")


@dataset_app.command("stats")
def dataset_stats_command(
    dataset: str = typer.Argument(..., help="Minari dataset id (under MINARI_DATASETS_PATH) or .npz file."),
    reference: str = typer.Option(..., "--reference", help="Dataset that SACo is relative to (the replay dataset in the paper)."),
    random: str = typer.Option(..., "--random", help="Dataset of a random policy: the zero of TQ."),
    online_best: float = typer.Option(..., "--online-best", help="Best online evaluation return: the one of TQ."),
    bins: int = typer.Option(100, "--bins", help="Bins per state/action dimension when counting unique pairs."),
    limits: str = typer.Option("reference", "--limits", help="Binning range: 'reference' (shared) or 'dataset' (each its own)."),
    counting: str = typer.Option("exact", "--counting", help="'exact', or 'hyperloglog' (the paper's sketch, ~1% error)."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """TQ and SACo of a dataset (Schweighofer et al., CoLLAs 2022), unique pairs counted exactly."""
    from gymarena.datasets import load_transitions
    from gymarena.metrics.dataset import dataset_statistics

    with reported_errors():
        try:
            stats = dataset_statistics(
                load_transitions(dataset), load_transitions(reference), load_transitions(random), online_best, bins,
                limits_from=limits, counting=counting,
            )
        except (ValueError, ImportError) as exc:
            raise GymarenaError(str(exc)) from None
    payload = {"dataset": dataset, "reference": reference, "random": random, **stats.to_dict()}
    if as_json:
        print_json(payload)
    else:
        rows = [{"statistic": key.replace("_", " "), "value": value} for key, value in payload.items()]
        print_table(out, rows, ["statistic", "value"], title=f"dataset {dataset}")


baselines_app = typer.Typer(help="Trained baselines (Stable-Baselines3): recipes, training, reference results.", no_args_is_help=True)
app.add_typer(baselines_app, name="baselines")


@baselines_app.command("list")
def baselines_list_command(
    as_json: bool = typer.Option(False, "--json", help="Print the recipes as JSON."),
) -> None:
    """The recipes, their budgets and the seeds trained here (greedy return and wall time of each); --json adds each recipe's docstring."""
    from gymarena.baselines.catalog import recipe_rows

    with reported_errors():
        rows = recipe_rows()
    if as_json:
        print_json(rows)
    else:
        print_table(out, rows, ["recipe", "task", "algorithm", "steps", "checkpoints", "greedy return", "wall s"],
                    title="baseline recipes (greedy return: 10 episodes per trained seed, at training's end)")


@baselines_app.command("train")
def baselines_train_command(
    recipes: List[str] = typer.Argument(None, help="Recipe names (gymarena baselines list); none with --all."),
    all_recipes: bool = typer.Option(False, "--all", help="Train every recipe."),
    seeds: str = typer.Option("0", "--seeds", help="Training seeds such as 0-2 or 0,3."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Override the recipe's budget (env steps), e.g. for a smoke test."),
    root: Optional[Path] = typer.Option(None, "--root", help="Where checkpoints go. Default: $GYMARENA_BASELINES, else ~/.cache/gymarena/baselines."),
) -> None:
    """Train recipes and write their checkpoints (model.zip + training.json per seed)."""
    from gymarena.baselines.catalog import train_recipes

    with reported_errors():
        train_recipes(recipes or [], all_recipes, parse_seeds(seeds), steps, root,
                      say=lambda line: err.print(line, highlight=False))


@baselines_app.command("evaluate")
def baselines_evaluate_command(
    algorithms: str = typer.Option("ppo,dqn,sac", "--algorithms", help="Comma-separated algorithms whose checkpoints to evaluate."),
    seeds: str = typer.Option("0-2", "--seeds", help="Training seeds such as 0-2."),
    export: Optional[Path] = typer.Option(None, "--export", help="Also write each run as a gzipped document in this directory."),
    db: Optional[str] = DbOption,
) -> None:
    """Evaluate trained checkpoints: whole suites where an algorithm covers every task, else each recipe's task."""
    from gymarena.baselines.publish import evaluate_baselines

    with reported_errors(), open_store(db) as store:
        evaluate_baselines(store, [a.strip() for a in algorithms.split(",") if a.strip()], parse_seeds(seeds), export,
                           say=lambda line: err.print(line, highlight=False))


@baselines_app.command("publish")
def baselines_publish_command(
    db: Optional[str] = DbOption,
    source: Optional[Path] = typer.Option(None, "--from", help="A directory of run documents (default: the ones shipped with gymarena)."),
) -> None:
    """Store the published baseline runs in a results database (once), as leaderboard reference entries."""
    from gymarena.baselines.publish import PUBLISHED_DIR, publish

    with reported_errors(), open_store(db) as store:
        run_ids = publish(store, source or PUBLISHED_DIR, say=lambda line: err.print(line, highlight=False))
        out.print(f"{len(run_ids)} baseline runs in {store.display_url}", highlight=False)


def main() -> None:
    """Console entry point."""
    sys.exit(app())
