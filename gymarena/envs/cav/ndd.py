"""Naturalistic driving distributions (NDD): what a background vehicle (BV) does at each
decision, as probability tables conditioned on its local state.

A BV decision picks one maneuver: a lane change to the left, to the right, or one of the
longitudinal acceleration bins (held until the next decision). The joint probability is

    p(left) = LC(g_left), p(right) = LC(g_right),
    p(acceleration k) = (1 - p(left) - p(right)) * P_long(k | state)

where ``g_side`` is the smaller of the gaps to the target lane's leader and follower
(a missing lane has probability 0), and ``P_long`` is the ``car_following`` table
indexed by (speed, range, range rate) to the leader in the BV's lane, or the
``free_flow`` table indexed by speed when no leader is within ``free_flow_range``.

File format (JSON, ``"format": "gymarena-ndd/1"``): ``acceleration_bins`` (m/s^2),
``speed_edges``, ``range_edges``, ``range_rate_edges`` (bin edges; values outside are
clamped to the first or last bin), ``free_flow`` (speed bins x accelerations),
``car_following`` (speed x range x range-rate bins x accelerations), ``free_flow_range``
(m), and ``lane_change`` with ``gap_edges`` and ``probability`` (per gap bin, per side
and decision). Rows of the acceleration tables sum to 1. Users load their own tables in
this format with :func:`load_ndd`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gymarena.errors import GymarenaError

FORMAT = "gymarena-ndd/1"
DEFAULT_NDD = Path(__file__).parent / "data" / "ndd-default.json"
LEFT, RIGHT = 0, 1  # maneuver indices; accelerations follow from FIRST_ACCELERATION
FIRST_ACCELERATION = 2


class NDDError(GymarenaError, ValueError):
    """An NDD file that cannot be used; the message says which field is wrong and how."""


@dataclass(frozen=True)
class NDD:
    acceleration_bins: np.ndarray
    speed_edges: np.ndarray
    range_edges: np.ndarray
    range_rate_edges: np.ndarray
    free_flow: np.ndarray  # (speed bins, accelerations)
    car_following: np.ndarray  # (speed, range, range rate bins, accelerations)
    free_flow_range: float
    gap_edges: np.ndarray
    lane_change: np.ndarray  # (gap bins,)
    description: str = ""

    @property
    def maneuvers(self) -> int:
        return FIRST_ACCELERATION + len(self.acceleration_bins)

    def maneuver_names(self) -> list[str]:
        return ["left", "right"] + [f"a={a:g}" for a in self.acceleration_bins]

    def probabilities(self, speed: np.ndarray, gap: np.ndarray, range_rate: np.ndarray,
                      gap_left: np.ndarray, gap_right: np.ndarray) -> np.ndarray:
        """Maneuver probabilities, shape ``speed.shape + (maneuvers,)``. ``gap`` is the range
        to the leader (inf: none); ``gap_left``/``gap_right`` the target lanes' smaller gaps
        (nan: no lane on that side)."""
        speed_bin = _bin(self.speed_edges, speed)
        following = gap <= self.free_flow_range
        longitudinal = np.where(
            following[..., None],
            self.car_following[speed_bin, _bin(self.range_edges, np.where(following, gap, 0.0)),
                               _bin(self.range_rate_edges, range_rate)],
            self.free_flow[speed_bin],
        )
        left = np.where(np.isnan(gap_left), 0.0, self.lane_change[_bin(self.gap_edges, np.nan_to_num(gap_left))])
        right = np.where(np.isnan(gap_right), 0.0, self.lane_change[_bin(self.gap_edges, np.nan_to_num(gap_right))])
        out = np.empty((*speed.shape, self.maneuvers))
        out[..., LEFT] = left
        out[..., RIGHT] = right
        out[..., FIRST_ACCELERATION:] = (1.0 - left - right)[..., None] * longitudinal
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "description": self.description,
            "acceleration_bins": self.acceleration_bins.tolist(), "speed_edges": self.speed_edges.tolist(),
            "range_edges": self.range_edges.tolist(), "range_rate_edges": self.range_rate_edges.tolist(),
            "free_flow_range": self.free_flow_range,
            "free_flow": np.round(self.free_flow, 12).tolist(), "car_following": np.round(self.car_following, 12).tolist(),
            "lane_change": {"gap_edges": self.gap_edges.tolist(), "probability": self.lane_change.tolist()},
        }


def _bin(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Bin index of each value; values outside the edges go to the first or last bin."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def load_ndd(path: str | Path = DEFAULT_NDD) -> NDD:
    """Read and check an NDD file; errors name the field and what it must be."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise NDDError(f"cannot read the NDD file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise NDDError(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    return ndd_from_json(data, str(path))


def ndd_from_json(data: Any, where: str = "the NDD") -> NDD:
    if not isinstance(data, dict):
        raise NDDError(f"{where}: expected a JSON object with the fields of format {FORMAT}")
    if data.get("format") != FORMAT:
        raise NDDError(f"{where}: 'format' must be {FORMAT!r}, got {data.get('format')!r}")

    def array(name: str, source: dict = data) -> np.ndarray:
        if name not in source:
            raise NDDError(f"{where}: the field {name!r} is missing")
        try:
            value = np.asarray(source[name], dtype=float)
        except (TypeError, ValueError):
            raise NDDError(f"{where}: {name!r} must be numbers (nested lists of equal lengths)") from None
        if not np.all(np.isfinite(value)):
            raise NDDError(f"{where}: {name!r} holds a value that is not a finite number")
        return value

    def edges(name: str, source: dict = data) -> np.ndarray:
        value = array(name, source)
        if value.ndim != 1 or value.size < 2 or np.any(np.diff(value) <= 0):
            raise NDDError(f"{where}: {name!r} must be a list of at least 2 strictly increasing bin edges")
        return value

    accelerations = array("acceleration_bins")
    if accelerations.ndim != 1 or accelerations.size < 1 or np.any(np.diff(accelerations) <= 0):
        raise NDDError(f"{where}: 'acceleration_bins' must be a non-empty increasing list of accelerations (m/s^2)")
    speed, rng, rate = edges("speed_edges"), edges("range_edges"), edges("range_rate_edges")
    shapes = {"free_flow": (speed.size - 1, accelerations.size),
              "car_following": (speed.size - 1, rng.size - 1, rate.size - 1, accelerations.size)}
    tables = {}
    for name, shape in shapes.items():
        table = array(name)
        if table.shape != shape:
            raise NDDError(f"{where}: {name!r} must have shape {shape} (from the bin edges and accelerations), got {table.shape}")
        if np.any(table < 0):
            raise NDDError(f"{where}: {name!r} holds a negative probability")
        sums = table.sum(axis=-1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            bad = np.argwhere(~np.isclose(sums, 1.0, atol=1e-6))[0].tolist()
            raise NDDError(f"{where}: every row of {name!r} must sum to 1; the row at index {bad} sums to "
                           f"{float(sums[tuple(bad)]):.6g}")
        tables[name] = table
    lane_change = data.get("lane_change")
    if not isinstance(lane_change, dict):
        raise NDDError(f"{where}: 'lane_change' must be an object with 'gap_edges' and 'probability'")
    gaps = edges("gap_edges", lane_change)
    probability = array("probability", lane_change)
    if probability.shape != (gaps.size - 1,):
        raise NDDError(f"{where}: lane_change 'probability' must have one value per gap bin ({gaps.size - 1}), "
                       f"got shape {probability.shape}")
    if np.any(probability < 0) or np.any(probability > 0.5):
        raise NDDError(f"{where}: lane-change probabilities must lie in [0, 0.5] (one side of two)")
    free_range = data.get("free_flow_range")
    if not isinstance(free_range, (int, float)) or free_range <= 0:
        raise NDDError(f"{where}: 'free_flow_range' must be a positive distance in metres")
    return NDD(accelerations, speed, rng, rate, tables["free_flow"], tables["car_following"], float(free_range),
               gaps, probability, str(data.get("description", "")))
