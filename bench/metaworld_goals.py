"""Does gymarena's metaworld-mt10@2 measure what Meta-World's own evaluator measures?

Meta-World's scripted expert policies are evaluated twice on MT10's goal set: by
Meta-World's reference evaluator (``metaworld.evaluation.evaluation`` on
``gym.make_vec("Meta-World/MT10", seed=0)``, N episodes per task) and by gymarena
(``metaworld/MT10-<task>-v3``, N episodes per task: 5 seeds x N/5). Both draw each
episode's goal uniformly from the same 50 goals, so per-task success rates should agree
within sampling error; ``--also-mt1`` adds gymarena's MT1-goal tasks (suite version 1),
which draw from other goals.

    python bench/metaworld_goals.py --episodes 250

Prints per-task success rates and, last, the ratio of gymarena's success to the
evaluator's on the task named by --task (peg-insert-side, the one furthest from 1).
"""

from __future__ import annotations

import argparse

import numpy as np


def reference_success(episodes: int) -> dict[str, float]:
    """Meta-World's evaluation() of the expert policies on MT10 (benchmark seed 0)."""
    import gymnasium as gym
    import metaworld
    from metaworld.evaluation import evaluation
    from metaworld.policies import ENV_POLICY_MAP

    envs = gym.make_vec("Meta-World/MT10", vector_strategy="sync", seed=0)
    policies = [ENV_POLICY_MAP[name]() for name in metaworld.MT10(seed=0).train_classes]

    class Expert:
        def eval_action(self, observations: np.ndarray) -> np.ndarray:
            return np.stack([np.clip(p.get_action(o), -1, 1) for p, o in zip(policies, observations)])

        def reset(self, mask: np.ndarray) -> None:
            pass

    _, _, per_task, _ = evaluation(Expert(), envs, num_episodes=episodes)
    return dict(per_task)


def gymarena_success(prefix: str, episodes: int) -> dict[str, float]:
    """gymarena's evaluation of the same policies (``--agent scripted``) on the tasks ``metaworld/<prefix>*``."""
    import tempfile

    import gymarena
    from gymarena.results import open_store
    from gymarena.runner import EvalRequest, evaluate

    names = list(__import__("metaworld").MT10(seed=0).train_classes)
    tasks = tuple(f"metaworld/{prefix}{n}" for n in names)
    assert all(gymarena.get_task(t) for t in tasks)
    with tempfile.TemporaryDirectory() as directory, open_store(f"sqlite:///{directory}/bench.sqlite") as store:
        run = evaluate(EvalRequest(tasks=tasks, agent="scripted", seeds=(0, 1, 2, 3, 4), episodes=episodes // 5,
                                   workers=2), store).run
        outcomes: dict[str, list[bool]] = {}
        for record in store.episodes(run.id):
            outcomes.setdefault(record.task_id.removeprefix(f"metaworld/{prefix}"), []).append(bool(record.success))
    return {name: float(np.mean(values)) for name, values in outcomes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=250, help="episodes per task (a multiple of 5)")
    parser.add_argument("--task", default="peg-insert-side-v3", help="the task whose ratio is printed last")
    parser.add_argument("--also-mt1", action="store_true", help="also evaluate the MT1-goal tasks (suite version 1)")
    args = parser.parse_args()
    reference = reference_success(args.episodes)
    ours = gymarena_success("MT10-", args.episodes)
    mt1 = gymarena_success("", args.episodes) if args.also_mt1 else {}
    print(f"{'task':28} {'evaluation()':>12} {'MT10 tasks':>10}" + (f" {'MT1 tasks':>10}" if mt1 else ""))
    for name, rate in reference.items():
        print(f"{name:28} {rate:12.3f} {ours[name]:10.3f}" + (f" {mt1[name]:10.3f}" if mt1 else ""))
    standard_error = np.sqrt(reference[args.task] * (1 - reference[args.task]) / args.episodes)
    print(f"{args.task}: {ours[args.task]:.3f} vs {reference[args.task]:.3f} (one standard error {standard_error:.3f})")
    print(f"ratio {ours[args.task] / reference[args.task]:.3f}")


if __name__ == "__main__":
    main()
