"""The frames between the worker and a sandboxed agent: whatever the other side sends,
decoding yields a message or a FrameError, never another exception; what one side
encodes, the other decodes unchanged."""

from __future__ import annotations

import contextlib
import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gymarena.wire.frames import ALLOWED_DTYPES, MAX_FRAME, FrameError, decode, encode

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

arrays = hnp.arrays(
    dtype=st.sampled_from(sorted(ALLOWED_DTYPES)).map(np.dtype),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
scalars = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False) | st.text(max_size=20)
messages = st.recursive(
    scalars | arrays,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("$nd", "$tuple")), inner, max_size=4),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@SETTINGS
@given(messages)
def test_what_is_encoded_decodes_unchanged(message):
    frame = encode(message)
    (length,) = struct.unpack(">I", frame[:4])
    assert length == len(frame) - 4
    assert _same(decode(frame[4:]), message)


def _decode_or_frame_error(payload: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode(payload)


@SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes_decode_or_raise_frame_error(payload):
    _decode_or_frame_error(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["$nd", "$tuple", "dtype", "shape", "a"]) | st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


@SETTINGS
@given(json_values, st.binary(max_size=64))
def test_hostile_headers_decode_or_raise_frame_error(header, data):
    """Headers that look like ours: array references with wrong indices, dtypes, shapes."""
    text = json.dumps(header).encode()
    _decode_or_frame_error(struct.pack(">I", len(text)) + text + data)


def _frame(header: object, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack(">I", len(text)) + text + data


@pytest.mark.parametrize("header, data", [
    ({"$nd": 0, "dtype": "float64", "shape": [2**62, 4]}, b""),  # a count that overflows int64
    ({"$nd": 0, "dtype": "uint8", "shape": [2**70]}, b""),       # a dimension beyond int64
    ({"$nd": 0, "dtype": ["float64"], "shape": [1]}, b"\0" * 8),  # an unhashable dtype
    ({"$nd": 0, "dtype": "float64", "shape": [1.5]}, b"\0" * 8),
    ({"$nd": 0, "dtype": "object", "shape": [1]}, b"\0" * 8),     # a dtype that would unpickle
    ({"$tuple": 5}, b""),
    ({"$tuple": "abc"}, b""),
    ({"$nd": True, "dtype": "uint8", "shape": [1]}, b"\0"),
    ({"$nd": 1, "dtype": "uint8", "shape": [1]}, b"\0"),
    ({"$nd": 0, "dtype": "uint8", "shape": [2]}, b"\0"),          # shorter than its shape
    ({"$nd": 0, "dtype": "uint8", "shape": [1]}, b"\0\0"),        # bytes no array claims
])
def test_each_known_malformation_is_a_frame_error(header, data):
    with pytest.raises(FrameError):
        decode(_frame(header, data))


def test_deep_nesting_is_a_frame_error_not_a_recursion_error():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(FrameError):
        decode(struct.pack(">I", len(deep)) + deep)
    nested = {"a": None}
    for _ in range(900):  # within json's own limit, beyond what decoding may recurse
        nested = {"a": nested}
    with pytest.raises(FrameError):
        decode(_frame(nested))


def test_frames_over_the_limit_are_refused_before_they_are_read():
    with pytest.raises(FrameError, match="over the limit"):
        encode(np.zeros(MAX_FRAME // 8 + 1))
