"""Warnings of third-party libraries that say nothing a gymarena user can act on, and are
printed on every run: silenced by the command line, in its process and in every process it
starts (workers, runtimes), through ``PYTHONWARNINGS``."""

from __future__ import annotations

import os
import re
import warnings

# message prefix -> why it is noise
KNOWN_NOISE = {
    # Meta-World's scripted policies warn at every action they clip; the env clips it as documented
    "Constant(s) may be too high": "metaworld.policies.policy.move",
}


def silence_known_warnings() -> None:
    """Ignore :data:`KNOWN_NOISE` here and in the processes started from here."""
    for message in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=re.escape(message))
    given = [part for part in os.environ.get("PYTHONWARNINGS", "").split(",") if part]
    wanted = [f"ignore:{message}" for message in KNOWN_NOISE]
    os.environ["PYTHONWARNINGS"] = ",".join(dict.fromkeys(given + wanted))
