"""``--device``: which torch device torch-based agents put their networks on.

``cpu``, ``cuda`` (or ``cuda:N``) or ``auto`` (CUDA when torch sees a GPU, else the CPU).
The device changes no protocol (a run on a GPU is the same run), but it can change an
agent's floating-point results, so it is recorded in the run's provenance.
"""

from __future__ import annotations

import re

from gymarena.errors import RunConfigError, param

DEVICE_CHOICES = ("cpu", "cuda", "cuda:N", "auto")
_DEVICE = re.compile(r"^(cpu|auto|cuda(:\d{1,3})?)$")


def check_device(name: str) -> str:
    """``name`` if it is a device name gymarena takes, else a one-line error."""
    if not _DEVICE.match(name):
        raise RunConfigError(f"{param('device')} {name[:40]!r} is not one of {', '.join(DEVICE_CHOICES)}")
    return name


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(name: str) -> str:
    """The torch device to use for ``name``: ``auto`` resolved; a CUDA device checked to exist."""
    check_device(name)
    if name == "cpu":
        return "cpu"
    if name == "auto":
        return "cuda" if cuda_available() else "cpu"
    if not cuda_available():
        raise RunConfigError(f"{param('device')} {name}: torch sees no CUDA device here (torch.cuda.is_available() is "
                             f"False, or torch is a CPU build); use {param('device')} cpu or {param('device')} auto")
    import torch

    index = int(name.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise RunConfigError(f"{param('device')} {name}: there are {torch.cuda.device_count()} CUDA devices here "
                             f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")
    return name
