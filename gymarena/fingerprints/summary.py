"""Compact, comparable summaries of what a simulator returns at a step.

A value is flattened to leaves (dict keys sorted, sequence items by index). A numeric leaf is
kept as its shape and (sum, sum of absolute values, min, max): a change of any element moves
them, and floats are compared with a stated tolerance (bit-exactness across CPUs is not
promised). Integers, booleans and text are compared exactly (text by its digest).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# Floats agree when |a - b| <= ATOL + RTOL * |b| (a relative change of one part in 10^6).
RTOL = 1e-6
ATOL = 1e-9
MAX_DEPTH = 8


def summarise(value: Any) -> dict[str, list[Any]]:
    """The leaves of ``value`` by path ("obs/image"), each as a short list (see the module)."""
    leaves: dict[str, list[Any]] = {}
    _walk(value, "", leaves, 0)
    return leaves


def _walk(value: Any, path: str, leaves: dict[str, list[Any]], depth: int) -> None:
    if isinstance(value, Mapping) and depth < MAX_DEPTH:
        for key in sorted(value, key=str):
            _walk(value[key], f"{path}/{key}", leaves, depth + 1)
    elif isinstance(value, (list, tuple)) and depth < MAX_DEPTH and not _numeric_sequence(value):
        for index, item in enumerate(value):
            _walk(item, f"{path}/{index}", leaves, depth + 1)
    else:
        leaves[path or "/"] = leaf(value)


def _numeric_sequence(value: list | tuple) -> bool:
    return bool(value) and all(isinstance(v, (int, float, np.number, bool, np.bool_)) for v in value)


def leaf(value: Any) -> list[Any]:
    """One leaf: ["none"], ["text", digest, length], ["bool", b], a number as ["i", n] or
    ["f", x], an array as ["int", shape, sum, min, max] or ["float", shape, sum, sum |x|,
    min, max] (NaN and infinities as strings)."""
    if value is None:
        return ["none"]
    if isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        return ["text", hashlib.sha256(data).hexdigest()[:16], len(data)]
    try:
        array = np.asarray(value)
    except Exception:  # an object the simulator uses internally: its type is what can be compared
        return ["object", type(value).__name__]
    if array.shape == () and array.dtype != bool and np.issubdtype(array.dtype, np.number):
        return ["i", int(array)] if np.issubdtype(array.dtype, np.integer) else ["f", _number(float(array))]
    if array.dtype == bool:
        return ["bool", list(array.shape), int(array.sum())] if array.shape else ["bool", bool(array)]
    if np.issubdtype(array.dtype, np.integer):
        if array.size == 0:
            return ["int", list(array.shape)]
        return ["int", list(array.shape), int(array.sum(dtype=np.int64)), int(array.min()), int(array.max())]
    if np.issubdtype(array.dtype, np.floating):
        if array.size == 0:
            return ["float", list(array.shape)]
        floats = array.astype(np.float64)
        values = (floats.sum(), np.abs(floats).sum(), floats.min(), floats.max())
        return ["float", list(array.shape), *(_number(v) for v in values)]
    if array.dtype.kind in "US":
        return ["text", hashlib.sha256(array.tobytes()).hexdigest()[:16], int(array.size)]
    return ["object", type(value).__name__]


def _number(value: float) -> float | str:
    """A float to 12 significant digits (far below the tolerance; the references stay small),
    NaN and infinities as text."""
    value = float(value)
    return float(f"{value:.12g}") if math.isfinite(value) else str(value)


def leaf_difference(reference: list[Any], found: list[Any]) -> str | None:
    """None when two leaves agree (floats within the tolerance), else how they differ."""
    if reference == found:
        return None
    if reference[0] == found[0] == "f":
        return _float_difference("value", reference[1], found[1])
    if reference[:2] != found[:2] or len(reference) != len(found) or reference[0] != "float":
        return f"{_show(found)} instead of {_show(reference)}"
    for name, a, b in zip(("sum", "sum |x|", "min", "max"), reference[2:], found[2:]):
        difference = _float_difference(name, a, b)
        if difference is not None:
            return difference
    return None


def _float_difference(name: str, a: float | str, b: float | str) -> str | None:
    """How two floats differ beyond the tolerance (None when they agree)."""
    if isinstance(a, str) or isinstance(b, str):
        return None if a == b else f"{name} {b} instead of {a}"
    if abs(b - a) > ATOL + RTOL * abs(a):
        return f"{name} {b!r} instead of {a!r} (by {abs(b - a):.3g}, tolerance {ATOL + RTOL * abs(a):.3g})"
    return None


def _show(summary: list[Any]) -> str:
    return " ".join(str(part) for part in summary)
