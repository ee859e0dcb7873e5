"""``gymarena dataset record``: an agent's episodes on a task, recorded into a Minari dataset.

The episodes are played exactly as ``gymarena eval`` plays them (the same per-episode
seeds, action checks and protocol), with Minari's ``DataCollector`` around the env, and the
dataset's metadata says where it came from: the task's protocol hash, the agent's
identity, the seeds and the provenance of the machine (keys ``gymarena_*``). Datasets go
where Minari puts them (``MINARI_DATASETS_PATH``, else ``~/.minari/datasets``). An
observation Minari cannot store (MiniGrid's dict with a text mission) is stored as the
view a trained policy gets of it (its image, flattened); the agent still sees all of it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from gymarena import provenance
from gymarena.agents import load_agent
from gymarena.baselines.observations import PolicyView, policy_view
from gymarena.errors import GymarenaError
from gymarena.installed import installed_protocol
from gymarena.records import EpisodeKey
from gymarena.runner.rollout import action_check, run_episode
from gymarena.tasks import get_task
from gymarena.wrappers import make_env


def _check_dataset_id(dataset_id: str) -> None:
    """Minari's own id check, before anything is played: a malformed id would otherwise
    fail only when the recording is written, losing it."""
    try:
        from minari.dataset.minari_dataset import parse_dataset_id
    except ImportError:  # another Minari layout: it checks the id itself at the end
        return
    try:
        parse_dataset_id(dataset_id)
    except (ValueError, TypeError):  # Minari raises TypeError for an id without a version
        raise GymarenaError(f"dataset id {dataset_id!r} is malformed: write it as [namespace/]name-vN, "
                            "e.g. cartpole/random-v0") from None


def record_dataset(task_id: str, agent_reference: str, dataset_id: str, seeds: tuple[int, ...], episodes: int,
                   say: Callable[[str], None] = print) -> Any:
    """Play ``episodes`` episodes per seed and write them as the Minari dataset ``dataset_id``."""
    try:
        import minari
    except ImportError:
        raise GymarenaError("recording datasets needs Minari with its creation extras: "
                            "pip install 'gymarena[datasets]'") from None
    if episodes < 1 or not seeds:
        raise GymarenaError("record at least one episode for at least one seed")
    task = get_task(task_id).with_episodes(episodes)
    if task.agents != "single" or task.decision_intervals != (1,) or task.trial is not None:
        raise GymarenaError(f"{task.id} is not a plain single-agent task; datasets record those only")
    _check_dataset_id(dataset_id)
    if dataset_id in minari.list_local_datasets():
        raise GymarenaError(f"a dataset {dataset_id!r} exists already (`minari delete {dataset_id}` removes it)")
    (planned,) = installed_protocol([task], seeds)
    source = load_agent(agent_reference)
    base = make_env(task)
    view = _recorded_view(base.observation_space)
    env = minari.DataCollector(base, record_infos=False, **(_view_options(view) if view else {}))
    try:
        agent = source.make(task, env.observation_space, env.action_space)
        check = action_check(env.action_space)
        total = 0.0
        for seed in seeds:
            for episode in range(episodes):
                record = run_episode(env, agent, task, EpisodeKey(task.id, seed, episode, 1), check, source.reference)
                total += record.episode_return
        say(f"recorded {len(seeds) * episodes} episodes, mean return {total / (len(seeds) * episodes):.4g}")
        with warnings.catch_warnings():  # "eval_env is None": the recording env is the one to evaluate on
            warnings.simplefilter("ignore", UserWarning)
            dataset = env.create_dataset(dataset_id=dataset_id, algorithm_name=source.reference,
                                         description=f"{len(seeds) * episodes} episodes of {task.id} by "
                                                     f"{source.reference}, recorded by gymarena")
    finally:
        env.close()
    dataset.storage.update_metadata({
        "gymarena_task": task.id,
        "gymarena_protocol_hash": planned.hash,
        "gymarena_seeds": json.dumps(list(seeds)),
        "gymarena_agent": json.dumps({"reference": source.reference, "name": source.name, "version": source.version,
                                      "content_hash": source.content_hash}),
        "gymarena_provenance": json.dumps(provenance.collect(sorted(planned.simulator_versions))),
        "gymarena_observation": view.description if view else "the observation as the agent saw it",
    })
    return dataset


def _recorded_view(space: Any) -> PolicyView | None:
    """None when Minari can store the observations as they are; else the policy view (the
    agent still sees the whole observation: MiniGrid's text mission has no Minari format)."""
    from minari.serialization import serialize_space

    try:
        serialize_space(space)
        return None
    except NotImplementedError:
        return policy_view(space)


def _view_options(view: PolicyView) -> dict[str, Any]:
    """DataCollector options that store ``view`` of each observation."""
    from minari import StepDataCallback

    class ViewedStep(StepDataCallback):
        def __call__(self, env: Any, obs: Any, info: Any, *args: Any, **kwargs: Any):
            return super().__call__(env, view.transform(obs), info, *args, **kwargs)

    return {"step_data_callback": ViewedStep, "observation_space": view.space}
