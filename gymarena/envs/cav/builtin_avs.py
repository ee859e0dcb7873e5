"""The AVs gymarena ships for ``gymarena cav test``, by name (each identified by its declared
version, gymarena/versions.py): the IDM/MOBIL drivers the surrogates are made of, and the ACC
none of them matches."""

from __future__ import annotations

from gymarena.envs.cav import acc, avs
from gymarena.envs.cav.sim import Policy

BUILTIN_AVS: dict[str, Policy] = {**avs.AVS, "acc": acc.ACC}
