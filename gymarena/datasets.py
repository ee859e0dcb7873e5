"""Offline datasets: read a Minari dataset or an ``.npz`` file as flat transitions.

``.npz`` files hold one row per transition: ``observations``, ``actions``, ``rewards``
and either ``dones`` or ``terminations`` and ``truncations``. Anything else is taken as
a Minari dataset id, looked up where Minari keeps datasets (``MINARI_DATASETS_PATH``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gymarena.errors import DatasetError, MissingExtraError
from gymarena.metrics.dataset import Transitions


def _flat_numeric(observation: Any, steps: int) -> np.ndarray:
    """(steps, D) from an array or a (nested) dict of arrays; text leaves are left out."""
    if isinstance(observation, dict):
        parts = [_flat_numeric(observation[key], steps) for key in sorted(observation)]
        parts = [p for p in parts if p.shape[1] > 0]
        return np.concatenate(parts, axis=1) if parts else np.empty((steps, 0))
    array = np.asarray(observation)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return np.empty((steps, 0))
    return array[:steps].reshape(steps, -1)


def read_npz(path: Path) -> Transitions:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from None
    missing = [k for k in ("observations", "actions", "rewards") if k not in arrays]
    if "dones" not in arrays and not {"terminations", "truncations"} <= arrays.keys():
        missing.append("dones (or terminations and truncations)")
    if missing:
        raise DatasetError(f"{path}: missing array(s) {', '.join(missing)}; found {', '.join(sorted(arrays)) or 'none'}")
    dones = arrays["dones"] if "dones" in arrays else arrays["terminations"] | arrays["truncations"]
    try:
        return Transitions(arrays["observations"], arrays["actions"], arrays["rewards"], np.asarray(dones, dtype=bool))
    except ValueError as exc:
        raise DatasetError(f"{path}: {exc}") from None


def read_minari(dataset_id: str) -> Transitions:
    """All episodes of a local Minari dataset, episodes that did not end placed last.

    An episode that neither terminated nor was truncated (recording stopped in it) is a
    partial episode: it keeps its transitions for coverage, and by going last it is the
    trailing partial episode that g(D) drops.
    """
    try:
        import minari
    except ImportError as exc:
        raise MissingExtraError("Minari", "datasets", exc, what="dataset library") from None
    try:
        dataset = minari.load_dataset(dataset_id)
    except FileNotFoundError:  # Minari's own text suggests downloading, which gymarena never does
        from minari.storage import get_dataset_path

        raise DatasetError(
            f"no Minari dataset {dataset_id!r} at {get_dataset_path(dataset_id)}; give a dataset id under "
            "MINARI_DATASETS_PATH (see `minari list local`) or a path to an .npz file"
        ) from None
    except Exception as exc:  # minari raises ValueError variants for malformed ids and files
        raise DatasetError(
            f"no Minari dataset {dataset_id!r} ({type(exc).__name__}: {exc}); give a dataset id under "
            "MINARI_DATASETS_PATH (see `minari list local`) or a path to an .npz file"
        ) from None
    complete: list[tuple[np.ndarray, ...]] = []
    partial: list[tuple[np.ndarray, ...]] = []
    for episode in dataset.iterate_episodes():
        steps = len(episode.rewards)
        observations = _flat_numeric(episode.observations, steps)
        actions = np.asarray(episode.actions).reshape(steps, -1)
        ended = np.logical_or(episode.terminations, episode.truncations)
        (complete if steps and ended[-1] else partial).append((observations, actions, episode.rewards, ended))
    episodes = complete + partial
    if not episodes:
        raise DatasetError(f"Minari dataset {dataset_id!r} holds no episodes")
    return Transitions(*(np.concatenate([e[i] for e in episodes]) for i in range(4)))


def load_transitions(source: str) -> Transitions:
    """A dataset by ``.npz`` path or Minari dataset id."""
    path = Path(source).expanduser()
    if path.suffix == ".npz" or path.is_file():
        if not path.is_file():
            raise DatasetError(f"dataset file {str(path)!r} does not exist")
        return read_npz(path)
    return read_minari(source)


def dataset_stats(dataset: str, reference: str, random: str, online_best: float, bins: int = 100,
                  limits: str = "reference", counting: str = "exact") -> dict[str, Any]:
    """TQ and SACo of ``dataset`` (``gymarena dataset stats``): the datasets named, then
    the statistics (metrics/dataset.py). Bad parameters are a DatasetError."""
    from gymarena.metrics.dataset import dataset_statistics

    datasets = load_transitions(dataset), load_transitions(reference), load_transitions(random)
    try:
        stats = dataset_statistics(*datasets, online_best, bins, limits_from=limits, counting=counting)
    except (ValueError, ImportError) as exc:
        raise DatasetError(str(exc)) from None
    return {"dataset": dataset, "reference": reference, "random": random, **stats.to_dict()}

