"""Length-prefixed frames between two processes: JSON plus raw numpy buffers, never
pickle (unpickling what an untrusted process sent would run its code, and a simulator's
runtime may not even have the same Python).

A frame is ``u32 length`` then the payload: ``u32 header length``, a UTF-8 JSON header,
then the bytes of every array the header references. In the header an array is
``{"$nd": i, "dtype": "float32", "shape": [...]}`` (the i-th buffer, in order), a tuple
is ``{"$tuple": [...]}``; numbers, strings, booleans, None, lists and dicts with string
keys are plain JSON. Only numeric and boolean dtypes cross.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import Any

import numpy as np

MAX_FRAME = 64 * 1024 * 1024
ALLOWED_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]
)
_LENGTH = struct.Struct(">I")


class FrameError(Exception):
    """The other side sent something that is not a valid frame, or closed the pipe."""


class FrameTimeout(FrameError):
    """No whole frame arrived in time."""


def _pack(value: Any, buffers: list[bytes]) -> Any:
    if isinstance(value, np.ndarray):  # tobytes() is C order whatever the layout; 0-d arrays stay 0-d
        if value.dtype.name not in ALLOWED_DTYPES:
            raise FrameError(f"arrays of dtype {value.dtype} cannot be sent")
        buffers.append(value.tobytes())
        return {"$nd": len(buffers) - 1, "dtype": value.dtype.name, "shape": list(value.shape)}
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return {"$tuple": [_pack(v, buffers) for v in value]}
    if isinstance(value, list):
        return [_pack(v, buffers) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise FrameError("only dicts with string keys can be sent")
        return {k: _pack(v, buffers) for k, v in value.items()}
    raise FrameError(f"a {type(value).__name__} cannot be sent")


def encode(message: Any) -> bytes:
    buffers: list[bytes] = []
    header = json.dumps(_pack(message, buffers), allow_nan=True, separators=(",", ":")).encode()
    payload = b"".join([_LENGTH.pack(len(header)), header, *buffers])
    if len(payload) > MAX_FRAME:
        raise FrameError(f"a frame of {len(payload):,} bytes is over the limit of {MAX_FRAME:,}")
    return _LENGTH.pack(len(payload)) + payload


def _unpack(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, dict):
        if "$nd" in value:
            index = value["$nd"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise FrameError("an array refers to a buffer that is not there")
            return arrays[index]
        if "$tuple" in value:
            items = value["$tuple"]
            if not isinstance(items, list):
                raise FrameError("a tuple in a frame is not a list of items")
            return tuple(_unpack(v, arrays) for v in items)
        return {k: _unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    return value


def _arrays(header: Any, data: memoryview) -> list[np.ndarray]:
    """The arrays the header describes, cut from the data in the order of their indices."""
    specs: list[dict] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if "$nd" in value:
                specs.append(value)
            else:
                for v in value.values():
                    collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(header)
    specs.sort(key=lambda s: s.get("$nd", -1) if isinstance(s.get("$nd"), int) else -1)
    arrays, offset = [], 0
    for position, spec in enumerate(specs):
        dtype, shape, index = spec.get("dtype"), spec.get("shape"), spec.get("$nd")
        if type(index) is not int or index != position or not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES \
                or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise FrameError("an array header is malformed")
        size = math.prod(shape) * np.dtype(dtype).itemsize  # Python ints: no overflow
        if offset + size > len(data):
            raise FrameError("an array is longer than the frame")
        arrays.append(np.frombuffer(data[offset:offset + size], dtype=dtype).reshape(shape).copy())
        offset += size
    if offset != len(data):
        raise FrameError("the frame has bytes that no array claims")
    return arrays


def decode(payload: bytes) -> Any:
    if len(payload) < _LENGTH.size:
        raise FrameError("a frame is too short")
    (header_length,) = _LENGTH.unpack_from(payload)
    end = _LENGTH.size + header_length
    if end > len(payload):
        raise FrameError("a frame header is longer than the frame")
    try:
        header = json.loads(payload[_LENGTH.size:end])
    except (ValueError, UnicodeDecodeError):
        raise FrameError("a frame header is not JSON") from None
    except RecursionError:
        raise FrameError("a frame header is nested too deeply") from None
    try:
        return _unpack(header, _arrays(header, memoryview(payload)[end:]))
    except RecursionError:
        raise FrameError("a frame header is nested too deeply") from None


def write_frame(fd: int, message: Any) -> None:
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes:
    chunks, remaining = [], count
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise FrameTimeout("no answer in time")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise FrameError("the other side closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, timeout: float | None = None) -> Any:
    """The next message; FrameTimeout if it is not whole within ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (length,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, deadline))
    if length > MAX_FRAME:
        raise FrameError(f"a frame announces {length:,} bytes, over the limit of {MAX_FRAME:,}")
    return decode(_read_exactly(fd, length, deadline))
