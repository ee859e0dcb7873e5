"""The declared versions of the code gymarena ships: its own simulators (the social game, the
CAV simulator, AdaTE) and its built-in players (the random agent, each family's scripted
player, the pool players of the social boards, the built-in AVs).

Stored results name such code by its version, never by its bytes: a style edit changes
nothing, and a change of behaviour bumps the version (append a value to ``values``; the
behaviour fingerprints in ``gymarena/fingerprints/`` fail until one does, then re-pin them).
Each thing's first value is the digest its files had when versions were declared, stored
under the protocol fact key that digest had, so no result stored before moved. Data files
(the NDD, trained weights) stay identified by their content: each is pinned here and a file
that differs from its pin is named apart (:meth:`Declared.data_facts`). The digest of the
source files is kept as evidence in each run's provenance (:func:`source_evidence`).

This module is at the ground of the package: it imports nothing of gymarena.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Declared:
    """One shipped simulator or player: what it is, every version it has had (the last is
    current), the source files whose behaviour the version names and the data files pinned
    by content (package-relative path -> sha256)."""

    name: str
    values: tuple[str, ...]
    sources: tuple[str, ...] = ()
    data: Mapping[str, str] | None = None

    @property
    def current(self) -> str:
        return self.values[-1]

    def describe(self, value: str) -> str:
        """A stored value in words: "version 2" (the first value, a digest, is version 1); an
        unknown digest (a result from an edited copy) is shown as it is."""
        if value in self.values:
            return f"version {self.values.index(value) + 1}"
        return value if _DIGEST.fullmatch(value) else f"version {value}"

    def identity_hash(self) -> str:
        """The current version as a 64-digit content hash (what agent identities store): the
        first value is already one; later values are hashed with the name."""
        value = self.current
        return value if _DIGEST.fullmatch(value) else hashlib.sha256(f"{self.name} {value}".encode()).hexdigest()

    def identity_bytes(self) -> bytes:
        """The current version as the bytes that enter a digest (a trained crew's identity):
        the first value's digest bytes, as they entered it before versions were declared."""
        value = self.current
        return bytes.fromhex(value) if _DIGEST.fullmatch(value) else f"{self.name} {value}".encode()

    def changed_data(self) -> dict[str, str]:
        """Each pinned data file whose content differs from its pin: path -> its sha256 now."""
        return {path: found for path, pinned in (self.data or {}).items() if (found := file_digest(path)) != pinned}

    def data_facts(self) -> dict[str, str]:
        """Protocol facts for data files that differ from their pins (none when all match, so
        the protocol is the one the version was declared under)."""
        return {f"{path} sha256": digest for path, digest in self.changed_data().items()}


@cache
def file_digest(path: str) -> str:
    """sha256 of a package file, read once per process."""
    try:
        return hashlib.sha256((PACKAGE / path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


# -- simulators ---------------------------------------------------------------------------------

SOCIAL_GAME = Declared(
    "social deduction game",
    ("c5178c15ff77965c88cd50df86db8e9a9ca5d1ad9fee6a981a569fe7380e764b",),
    tuple(f"envs/social_deduction/{name}.py" for name in ("rules", "game", "text", "env", "metrics")),
)
CAV_SIMULATOR = Declared(
    "cav simulator",
    ("14c78076fa053bbbdddfa1655aaa9ef4a97cf8b1094180fa8d8c958fdd2106d9",),
    tuple(f"envs/cav/{name}.py" for name in ("sim", "ndd", "nade", "adaptive", "avs", "testing", "env")),
    {"envs/cav/data/ndd-default.json": "fb6490a883d36de68cf03ef6b362c73d92fdc4e6d1fc13352345a7782b13a749"},
)
CAV_ADATE = Declared(
    "cav AdaTE",
    ("02a8a51235540b233fd4995903e96d80977a6b3daf02b311fbb7f85f2b9d64c9",),
    ("envs/cav/adate.py", "envs/cav/adate_env.py"),
)
# The protocol fact each simulator's version is stored under (the digest's key before versions).
SIMULATOR_FACTS = {
    "social deduction game sha256": SOCIAL_GAME,
    "cav simulator and default NDD sha256": CAV_SIMULATOR,
    "cav AdaTE sha256": CAV_ADATE,
}

# -- players ------------------------------------------------------------------------------------

RANDOM_AGENT = Declared("random agent", ("566942adeff8bdb17183408ce0b14cf3d651a671356ae874eabb5de9f08eb60c",), ("agents.py",))

_SCRIPTED_FIRST = "0fa525d91cb12e2a9cae2567fa3650a23930bf5511648d0c2723707eff806f27"
_SCRIPTED_FILES = {"highway": ("highway", "highway_paths"), "mario": ("mario",), "metaworld": ("metaworld",),
                   "sc2": ("sc2",), "social": ("social",), "nethack": ("nethack",), "traffic": ("traffic",)}
# Each family's scripted player, versioned apart: a change of Mario's driver moves no other family.
SCRIPTED = {
    family: Declared(f"scripted {family} player", (_SCRIPTED_FIRST,),
                     tuple(f"baselines/scripted/{name}.py" for name in ("__init__", *names)))
    for family, names in _SCRIPTED_FILES.items()
}

_CREW_CODE = tuple(f"baselines/social_rl/{name}.py"
                   for name in ("features", "hunter", "player", "policy", "training", "vocabulary"))
# The code that plays a crew checkpoint (a trained crew's identity is its weights and this version).
CREW_PLAYER = Declared("crew player", ("cb169ebcbd1e99bc4bcf1ff0a531210949fdfe373b1ba0b581e0ac98b3fd5883",), _CREW_CODE)

# Players named by an agent reference into gymarena (the social boards' pools): reference -> version.
SHIPPED_PLAYERS = {
    "gymarena.baselines.scripted.social:make_deaf_agent": Declared(
        "scripted deaf social player", ("39eecbde04bda09a7d8ba93b44415a4d575a94d4f17512560373c3b23432b575",),
        ("baselines/scripted/social.py",)),
    "gymarena.baselines.social_rl.hunter:make_agent": Declared(
        "hunting impostor", ("65a6f60d5e928fcb7f9b8edb7496c41b7e339d54cc32311ec34e258b5d5d1961",),
        ("baselines/social_rl/hunter.py",)),
    "gymarena.baselines.social_rl.shipped:crew_win": Declared(
        "shipped crew social-win", ("235f065e23b9148b67db354aec6de3ed7260a94de5e1aae1c482082997a7647b",), _CREW_CODE,
        {"baselines/social_rl/shipped/social-win-seed0.pt": "a562386804fefe4add5a32a1871591715e9d73326085b7a8b8c24f2e3bc2735c"}),
    "gymarena.baselines.social_rl.shipped:crew_speaking": Declared(
        "shipped crew social-speaking", ("e0da2ee046518a3472671e1214e45d4fd45fb0cea67b875605c80b622d409cd9",), _CREW_CODE,
        {"baselines/social_rl/shipped/social-speaking-seed0.pt":
         "a4b922f127174653bb1ace7baa4f00980c91c6230246c4e36702b44a1211f40b"}),
}

# The code that loads trained checkpoints as agents (``gymarena.baselines.trained:NAME``): a
# trained agent's identity is its checkpoints' bytes and this version, not the loader's bytes.
TRAINED_LOADER = Declared("trained checkpoint loader",
                          ("c937d4805fbe775e708edcc79d9ad044d0b5c5efe24c974650adbd7b877b4b52",), ("baselines/trained.py",))
# Modules of gymarena whose agents are identified by a declared version instead of the module's bytes.
MODULE_VERSIONS = {"gymarena.baselines.trained": TRAINED_LOADER}

_SURROGATES = "9a6f7063e1fc70754939ee86042ee5a0ba3579ce18f578926f7fa4ab74b784e6"
# The AVs `gymarena cav test` drives with: the IDM/MOBIL surrogates and the ACC.
BUILTIN_AVS = {
    "idm": Declared("cav AV idm", (_SURROGATES,), ("envs/cav/avs.py",)),
    "cautious": Declared("cav AV cautious", (_SURROGATES,), ("envs/cav/avs.py",)),
    "aggressive": Declared("cav AV aggressive", (_SURROGATES,), ("envs/cav/avs.py",)),
    "acc": Declared("cav AV acc", ("49a55cd79599f19455f790f8e087e0a84fdf65e4fa49af77b69183c7bf9c68e1",), ("envs/cav/acc.py",)),
}


def scripted_identity_hash() -> str:
    """The ``scripted`` agent's content hash: the first value while every family's player is
    at its first version (so stored runs keep their agent), else a digest of every family's."""
    if all(d.current == _SCRIPTED_FIRST for d in SCRIPTED.values()):
        return _SCRIPTED_FIRST
    lines = "".join(f"{family} {declared.current}\n" for family, declared in sorted(SCRIPTED.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def player_identity_hash(declared: Declared) -> str:
    """A shipped player's content hash: its version, and its pinned weights' content when they
    differ from the pin (a retrained file is another player even under the same version)."""
    changed = declared.changed_data()
    if not changed:
        return declared.identity_hash()
    return hashlib.sha256((declared.identity_hash() + "".join(sorted(changed.values()))).encode()).hexdigest()


def everything() -> dict[str, Declared]:
    """Every declared thing by its name (fingerprints, evidence and the style-edit test walk it)."""
    found = [SOCIAL_GAME, CAV_SIMULATOR, CAV_ADATE, RANDOM_AGENT, CREW_PLAYER, TRAINED_LOADER,
             *SCRIPTED.values(), *SHIPPED_PLAYERS.values(), *BUILTIN_AVS.values()]
    return {declared.name: declared for declared in found}


def describe_fact(fact: str, value: str) -> tuple[str, str]:
    """A protocol fact in words: a declared simulator's fact as (its name, "version N")."""
    declared = SIMULATOR_FACTS.get(fact)
    return (declared.name, declared.describe(value)) if declared else (fact, value)


def source_evidence() -> dict[str, str]:
    """sha256 of each declared thing's source files now: provenance evidence (which code a
    result was made by), never identity."""
    evidence = {}
    for name, declared in sorted(everything().items()):
        digest = hashlib.sha256()
        for path in declared.sources:
            digest.update(path.encode() + b"\0" + file_digest(path).encode())
        evidence[name] = digest.hexdigest()
    return evidence
