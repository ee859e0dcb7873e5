"""Versions, not bytes: what gymarena ships is identified by its declared version, so a style
edit of any shipped simulator or player moves no stored protocol and no agent identity, and
data files stay identified by their content."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gymarena import versions

PACKAGE = Path(versions.__file__).parent

# Every suite's protocol hash and every shipped player's identity, as this gymarena computes them.
IDENTITIES = """
import json, sys
import gymarena
from gymarena.agents import load_agent
from gymarena.cavtest.av import av_source
from gymarena.installed import suite_protocol
from gymarena.suites import list_suites
from gymarena.versions import BUILTIN_AVS, SHIPPED_PLAYERS

found = {"package": gymarena.__file__}
found.update({"suite " + s.label: suite_protocol(s.label).hash for s in list_suites()})
found.update({"agent " + r: load_agent(r).content_hash
              for r in ["random", "scripted", "gymarena.baselines.trained:ppo", *SHIPPED_PLAYERS]})
found.update({"av " + n: av_source(n)[0].content_hash for n in BUILTIN_AVS})
json.dump(found, sys.stdout)
"""


def _identities(package_parent: Path | None = None) -> dict[str, str]:
    env = {"PYTHONPATH": str(package_parent)} if package_parent else {}
    import os

    result = subprocess.run([sys.executable, "-c", IDENTITIES], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **env}, cwd=package_parent or Path.cwd())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "gymarena"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_style_edit_of_every_shipped_simulator_and_player_moves_nothing(tmp_path):
    copy = _copy(tmp_path)
    sources = sorted({path for declared in versions.everything().values() for path in declared.sources})
    assert len(sources) >= 25
    for path in sources:
        text = (copy / path).read_text()
        (copy / path).write_text(text.replace('"""', '"""  ', 1) + "\n# a comment, and a docstring re-spaced above\n")
    original, edited = _identities(), _identities(tmp_path)
    assert edited.pop("package").startswith(str(copy)) and original.pop("package").startswith(str(PACKAGE))
    assert edited == original
    # ... and the run's provenance does see the edit: its evidence of the shipped sources
    evidence = subprocess.run([sys.executable, "-c", "import json, gymarena.versions as v; print(json.dumps(v.source_evidence()))"],
                              capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, check=True)
    changed = json.loads(evidence.stdout)
    assert all(changed[name] != value for name, value in versions.source_evidence().items())


def test_a_shipped_data_file_is_identified_by_its_content(tmp_path):
    copy = _copy(tmp_path)
    ndd = copy / "envs/cav/data/ndd-default.json"
    ndd.write_text(ndd.read_text() + " ")
    weights = copy / "baselines/social_rl/shipped/social-win-seed0.pt"
    weights.write_bytes(weights.read_bytes() + b"\0")
    original, edited = _identities(), _identities(tmp_path)
    moved = sorted(key for key in original if key != "package" and original[key] != edited[key])
    assert moved == ["agent gymarena.baselines.social_rl.shipped:crew_win", "suite cav-highway@1", "suite social-core@2"], moved


def test_every_declared_file_exists_and_every_first_value_is_a_digest():
    for declared in versions.everything().values():
        assert declared.sources and all((PACKAGE / path).is_file() for path in declared.sources), declared.name
        assert len(declared.values[0]) == 64, declared.name
        assert not declared.changed_data(), f"{declared.name}: a pinned data file differs from its pin"


@pytest.mark.parametrize("value, words", [("2", "version 2"), ("7", "version 7"), ("ab" * 32, "ab" * 32)])
def test_a_version_reads_as_its_number(value, words):
    assert versions.SOCIAL_GAME.describe(versions.SOCIAL_GAME.values[0]) == "version 1"
    assert versions.SOCIAL_GAME.describe(value) == words
