"""Parsed TOML is cached by content: the same text parses to the same tables, an edited
file is parsed again, and a cache that cannot be written changes nothing."""

from __future__ import annotations

import sys

import pytest
import tomllib

from gymarena import parsed_files
from gymarena.catalog import CATALOG_DIR


def test_cached_tables_are_the_parsed_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("GYMARENA_CACHE", str(tmp_path))
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        assert parsed_files.parse_toml(text) == tomllib.loads(text)  # parsed, then stored
        assert parsed_files.parse_toml(text) == tomllib.loads(text)  # read back from the cache
    assert len(list((tmp_path / "parsed").glob("*.json"))) == len(list(CATALOG_DIR.glob("*.toml")))


def test_an_edited_file_is_parsed_again_and_floats_stay_floats(tmp_path, monkeypatch):
    monkeypatch.setenv("GYMARENA_CACHE", str(tmp_path))
    assert parsed_files.parse_toml("a = 1.0\nb = 2") == {"a": 1.0, "b": 2}
    edited = parsed_files.parse_toml("a = 1.5\nb = 2")
    assert edited == {"a": 1.5, "b": 2} and isinstance(parsed_files.parse_toml("a = 1.0\nb = 2")["a"], float)
    with pytest.raises(parsed_files.InvalidToml):
        parsed_files.parse_toml("a = ")


def test_a_cache_that_cannot_be_written_or_is_off_still_parses(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("GYMARENA_CACHE", str(blocked))  # mkdir below a file fails
    assert parsed_files.parse_toml("x = [1, 2]") == {"x": [1, 2]}
    monkeypatch.setenv("GYMARENA_CACHE", "")
    assert parsed_files.cache_dir() is None and parsed_files.parse_toml("x = 3") == {"x": 3}


def test_a_corrupt_entry_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GYMARENA_CACHE", str(tmp_path))
    parsed_files.parse_toml("y = 'z'")
    (entry,) = (tmp_path / "parsed").glob("*.json")
    entry.write_text('{"y": ')  # a half-written file
    assert parsed_files.parse_toml("y = 'z'") == {"y": "z"}


def test_importing_gymarena_loads_no_sql_cli_or_simulator():
    import subprocess

    heavy = ("sqlalchemy", "alembic", "typer", "rich", "mujoco", "nle", "metaworld", "minigrid", "torch", "pettingzoo")
    code = ("import sys, gymarena; env = gymarena.make('classic/CartPole-v1'); "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
