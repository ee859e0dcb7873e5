"""Social deduction: how fast games run, whether discussion helps the scripted crew, and
the paper's ablation with trained crewmates.

    python bench/social.py [--games 1000] [--train-games 20000] [--train-seeds 3]
                           [--eval-games 500] [--jobs 1] [--save ROOT] [--held-out-start 1000000]
    python bench/social.py --from-checkpoints [ROOT] [--eval-games 500] [--held-out-start S]

1. Games per second with every player scripted, against the named baseline: the same
   games with masked random players (both on the default rules, one process).
2. The crew's win rate with the scripted players (crewmates listening to the discussion)
   with discussion (two messages per player per meeting, the paper's setting) and without
   it (meetings go straight to the vote), over the same seeds, with 95% Wilson intervals
   and per-role metrics. The paper reports that good discussion about doubles win rates;
   this shows what discussion does for our template-speaking crew.
3. The ablation of Sarkar et al.: crewmates trained with PPO (gymarena/baselines/social_rl)
   with (a) the win reward only, (b) + the listening loss, (c) + listening + the speaking
   reward, ``--train-seeds`` training seeds each, ``--train-games`` games per run against
   the scripted and hunting impostors; each run evaluated (its sampled policy) on the same
   ``--eval-games`` held-out seeds against each impostor. Per condition: the crew's win
   rate with a 95% bootstrap interval over training seeds and games, vote accuracy and
   identification precision. ``--train-games 0`` skips it. Each run trains the crew
   recipe of its condition (gymarena/baselines/crew.py) with its budget replaced;
   ``--save ROOT`` keeps each as that recipe's checkpoint (what ``gymarena baselines
   train`` writes), ``--jobs 2`` trains two at once. ``--from-checkpoints`` evaluates the
   nine checkpoints the table rests on, as they ship with gymarena
   (``gymarena/baselines/published/checkpoints/``), on any held-out seeds, without training;
   the table then also gives the ratio of (c) to (a) per training seed.

The last line is the ratio of the crew win rates of (c) to (a) (with ``--train-games 0``:
the scripted crew's with discussion to without).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gymarena.agents import PerAgent, RandomAgent
from gymarena.baselines.scripted.social import ScriptedPlayer
from gymarena.envs.social_deduction import parallel_env

METRICS = ("crew_win", "impostor_win", "vote_accuracy", "identification_precision", "crew_survival", "tasks_completed",
           "ended_tasks_done", "ended_no_impostors", "ended_parity", "ended_timeout", "meetings", "ticks")


def play(games: int, players: str, **rules) -> tuple[float, list[dict]]:
    """(games per second, each game's metrics) for ``games`` games on seeds 0..games-1."""
    env = parallel_env(**rules)
    names = list(env.possible_agents)
    results = []
    start = time.perf_counter()
    for seed in range(games):
        if players == "scripted":
            table = PerAgent(names, lambda name: ScriptedPlayer(names, env.rules.max_width))
        else:
            table = PerAgent(names, lambda name: RandomAgent(None, env.observation_space(name), env.action_space(name)))
        table.reset(seed)
        observations, _ = env.reset(seed=seed)
        while env.agents:
            observations, _, _, _, infos = env.step(table.act(observations))
        results.append(next(iter(infos.values()))["gymarena_metrics"])
    return games / (time.perf_counter() - start), results


def wilson(wins: int, games: int) -> tuple[float, float]:
    interval = binomtest(wins, games).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.low, interval.high


def summary(results: list[dict]) -> dict[str, float]:
    return {m: float(np.mean([r[m] for r in results if r[m] is not None] or [np.nan])) for m in METRICS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--train-games", type=int, default=20000)
    parser.add_argument("--train-seeds", type=int, default=3)
    parser.add_argument("--eval-games", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=1, help="training runs at once (one torch thread each)")
    parser.add_argument("--save", type=Path, default=None,
                        help="write each run as its crew recipe's checkpoint under this root")
    parser.add_argument("--from-checkpoints", nargs="?", type=Path, const=True, default=False,
                        help="evaluate the ablation's checkpoints instead of training them (those under ROOT, else "
                             "the ones trained here or shipped with gymarena); skips parts 1 and 2")
    parser.add_argument("--held-out-start", type=int, default=HELD_OUT_START, help="the first held-out seed")
    parser.add_argument("--publish", action="store_true",
                        help="with --from-checkpoints: write each evaluation beside its checkpoint (held-out.json)")
    args = parser.parse_args()
    games = args.games
    if args.from_checkpoints is not False:
        win_rates = ablation(0, args.train_seeds, args.eval_games, args.jobs, None, args.from_checkpoints,
                             args.held_out_start, args.publish)
        print(f"ratio {win_rates['speaking'] / win_rates['win']:.2f}")
        return

    speed_games = min(games, 300)
    random_speed, _ = play(speed_games, "random")
    scripted_speed, _ = play(speed_games, "scripted")
    print(f"games per second ({speed_games} games, default rules): scripted {scripted_speed:.1f}, "
          f"random (baseline) {random_speed:.1f}, ratio {scripted_speed / random_speed:.2f}")

    _, talking = play(games, "scripted")
    _, silent = play(games, "scripted", messages_per_player=0)
    rows = {"with discussion": summary(talking), "without discussion": summary(silent)}
    print(f"\n{'metric':26}" + "".join(f"{label:>22}" for label in rows))
    for metric in METRICS:
        print(f"{metric:26}" + "".join(f"{row[metric]:22.3f}" for row in rows.values()))
    rates = {}
    for label, results in (("with discussion", talking), ("without discussion", silent)):
        wins = sum(r["crew_win"] for r in results)
        low, high = wilson(wins, len(results))
        rates[label] = wins / len(results)
        print(f"crew win rate {label}: {rates[label]:.3f} [{low:.3f}, {high:.3f}] over {len(results)} games")
    meetings = [(t, s) for t, s in zip(talking, silent) if t["meetings"] and s["meetings"]]
    if meetings:
        t_wins = sum(t["crew_win"] for t, _ in meetings)
        s_wins = sum(s["crew_win"] for _, s in meetings)
        print(f"in the {len(meetings)} seeds with a meeting in both: crew wins {t_wins} with discussion, {s_wins} without")
    scripted_ratio = rates["with discussion"] / rates["without discussion"]
    if args.train_games <= 0:
        print(f"ratio {scripted_ratio:.2f}")
        return
    win_rates = ablation(args.train_games, args.train_seeds, args.eval_games, args.jobs, args.save,
                         held_out_start=args.held_out_start)
    print(f"ratio {win_rates['speaking'] / win_rates['win']:.2f}")


HELD_OUT_START = 10**6  # never a training seed (those are drawn below 2**31 at random from the training seed)


def train_and_evaluate(condition: str, seed: int, train_games: int, held_out: list[int],
                       save: Path | None) -> tuple[float, list[dict]]:
    """One run of the table: the condition's recipe trained for one seed (saved as the
    recipe's checkpoint under ``save`` when given); (training seconds, each held-out game's metrics)."""
    import dataclasses

    from gymarena.baselines.algorithms import get_recipe
    from gymarena.baselines.crew import held_out_games, write_checkpoint
    from gymarena.baselines.social_rl.training import train
    from gymarena.baselines.training import set_torch_threads

    set_torch_threads()
    recipe = get_recipe(f"social-{condition}")
    args = dataclasses.replace(recipe.args, seed=seed, games=train_games)
    start = time.perf_counter()
    run = train(args)
    seconds = time.perf_counter() - start
    if save is not None:
        write_checkpoint(recipe, args, run.policy, seconds, save)
    return seconds, held_out_games(run.policy, held_out, args.rules)


def evaluate_checkpoint(condition: str, seed: int, held_out: list[int], root: Path | None,
                        publish: bool = False) -> tuple[float, list[dict]]:
    """One run of the table from its checkpoint (``root``, else the one found as
    ``gymarena.baselines.trained`` finds it: trained here, else shipped); (training seconds as
    its record says, each held-out game's metrics); ``publish`` writes them beside it."""
    import gzip
    import json

    from gymarena.baselines.algorithms import get_recipe
    from gymarena.baselines.crew import HELD_OUT_FILE, IMPOSTORS, held_out_games
    from gymarena.baselines.social_rl.player import load_policy
    from gymarena.baselines.training import find_checkpoint, set_torch_threads

    set_torch_threads()
    path = find_checkpoint(get_recipe(f"social-{condition}"), seed, root)
    if path is None:
        raise SystemExit(f"no checkpoint of social-{condition} seed {seed}"
                         + (f" under {root}" if root else "") + ": train it, or use the shipped ones")
    policy, args = load_policy(path)
    record = path.parent / "training.json"
    seconds = json.loads(record.read_text())["wall_seconds"] if record.is_file() else float("nan")
    games = held_out_games(policy, held_out, args.rules)
    if publish:  # the evaluation beside its checkpoint: anyone can replay any of its games
        text = json.dumps({"seeds": [held_out[0], held_out[-1]], "impostors": list(IMPOSTORS), "games": games},
                          sort_keys=True, separators=(",", ":"))
        (path.parent / HELD_OUT_FILE).write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    return seconds, games


def ablation(train_games: int, train_seeds: int, eval_games: int, jobs: int = 1, save: Path | None = None,
             from_checkpoints: Path | bool = False, held_out_start: int = HELD_OUT_START,
             publish: bool = False) -> dict[str, float]:
    """Train (or, ``from_checkpoints``, load) and evaluate the three conditions (``jobs`` runs
    at once); prints the table; each condition's mean crew win rate."""
    from concurrent.futures import ProcessPoolExecutor

    from gymarena.baselines.social_rl.training import CONDITIONS

    held_out = list(range(held_out_start, held_out_start + eval_games))
    runs = [(condition, seed) for condition in CONDITIONS for seed in range(train_seeds)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        if from_checkpoints is not False:
            root = from_checkpoints if isinstance(from_checkpoints, Path) else None
            futures = {run: pool.submit(evaluate_checkpoint, *run, held_out, root, publish) for run in runs}
        else:
            futures = {run: pool.submit(train_and_evaluate, *run, train_games, held_out, save) for run in runs}
        results = {run: future.result() for run, future in futures.items()}
    return print_table(results, CONDITIONS, train_seeds, held_out)


def print_table(results: dict, conditions: tuple[str, ...], train_seeds: int, held_out: list[int]) -> dict[str, float]:
    """The ablation's table: per condition the crew's win rate (95% bootstrap over training
    seeds, then games), per training seed, vote accuracy and identification precision; then
    the ratio of (c) to (a) over seeds and per seed. Each condition's mean win rate."""
    rng = np.random.default_rng(0)
    rates, per_seed = {}, {}
    print(f"\nheld-out seeds {held_out[0]}-{held_out[-1]} against each impostor")
    print(f"\n{'condition':12}{'train s':>9}{'crew win [95%]':>24}{'per seed':>22}{'vote acc':>10}{'id prec':>9}")
    for condition in conditions:
        mine = [results[(condition, seed)] for seed in range(train_seeds)]
        wins = np.stack([np.array([m["crew_win"] for m in metrics], dtype=float) for _, metrics in mine])
        votes = [m["vote_accuracy"] for _, metrics in mine for m in metrics if m["vote_accuracy"] is not None]
        precision = [m["identification_precision"] for _, metrics in mine for m in metrics
                     if m["identification_precision"] is not None]
        boot = [wins[rng.integers(len(wins), size=len(wins))][:, rng.integers(wins.shape[1], size=wins.shape[1])].mean()
                for _ in range(2000)]  # training seeds, then games
        low, high = np.percentile(boot, [2.5, 97.5])
        rates[condition] = float(wins.mean())
        per_seed[condition] = wins.mean(axis=1)
        seeds_text = " ".join(f"{w.mean():.3f}" for w in wins)
        print(f"{condition:12}{np.nanmean([s for s, _ in mine]):9.0f}{f'{wins.mean():.3f} [{low:.3f}, {high:.3f}]':>24}"
              f"{seeds_text:>22}{np.mean(votes) if votes else float('nan'):10.3f}"
              f"{np.mean(precision) if precision else float('nan'):9.3f}")
    first, last = conditions[0], conditions[-1]
    print(f"\n({last}) / ({first}): {rates[last] / rates[first]:.2f} over seeds (mean over mean); per training seed: "
          + ", ".join(f"seed {i} {c / a:.2f}" for i, (c, a) in enumerate(zip(per_seed[last], per_seed[first]))))
    return rates


if __name__ == "__main__":
    main()
