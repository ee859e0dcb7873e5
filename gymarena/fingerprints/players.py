"""Which fingerprints exist: every registered task played by the random agent, and each
built-in player on a task of its family (the scripted player of each family, the social
pools' players)."""

from __future__ import annotations

from gymarena.tasks import TaskSpec, all_tasks, get_task

RANDOM = "random"
# Each built-in player and the task its fingerprint is played on.
PLAYER_TASKS = {
    ("scripted", "highway/HighwayFast-v0"),
    ("scripted", "mario/SuperMarioBros-1-1-v0"),
    ("scripted", "metaworld/MT10-door-open-v3"),
    ("scripted", "sc2/MoveToBeacon-v0"),
    ("scripted", "social/Impostor-5p1i-v0"),
    ("scripted", "nethack/Score-v1"),
    ("scripted", "traffic/SingleIntersection-v0"),
    ("gymarena.baselines.scripted.social:make_deaf_agent", "social/Impostor-5p1i-v0"),
    ("gymarena.baselines.social_rl.hunter:make_agent", "social/Impostor-5p1i-v0"),
    ("gymarena.baselines.social_rl.shipped:crew_win", "social/Impostor-5p1i-v0"),
    ("gymarena.baselines.social_rl.shipped:crew_speaking", "social/Impostor-5p1i-v0"),
    *(("cav:" + name, "cav/Highway2Lane-NDE-v0") for name in ("idm", "cautious", "aggressive", "acc")),
}


def unpinnable(task: TaskSpec) -> str | None:
    """Why a task can have no fingerprint (None: it can): its games read the wall clock."""
    from gymarena.wrappers.nethack import reads_wall_clock

    if task.family == "nethack" and reads_wall_clock(task):
        return "its games read the wall clock, so they differ from day to day (the -v1 tasks pin the clock)"
    return None


def fingerprinted(family: str | None = None) -> list[tuple[TaskSpec, str]]:
    """Every (task, player) with a fingerprint, of one family or all (tasks whose behaviour
    follows the day they are played on have none)."""
    pairs = [(task, RANDOM) for task in all_tasks() if unpinnable(task) is None]
    pairs += [(get_task(task_id), player) for player, task_id in sorted(PLAYER_TASKS)]
    return [(task, player) for task, player in pairs if family is None or task.family == family]
