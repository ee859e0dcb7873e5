"""One family's recipes never need another's: the Stable-Baselines3 recipes list and train
in an environment without the social game (pettingzoo), and without torch every baselines
command says in one line what to install."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _gymarena_without(modules: tuple[str, ...], *args: str, tmp_path) -> subprocess.CompletedProcess:
    """Run the CLI in a process where ``modules`` cannot be imported (nor found)."""
    code = (
        "import importlib.util, sys;"
        f"hidden = {modules!r};"
        "sys.modules.update(dict.fromkeys(hidden));"
        "find = importlib.util.find_spec;"
        "importlib.util.find_spec = lambda name, *a: None if name.split('.')[0] in hidden else find(name, *a);"
        "from gymarena.cli import app; app(sys.argv[1:])"
    )
    env = {**os.environ, "GYMARENA_BASELINES": str(tmp_path / "baselines"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, env=env)


def test_sb3_recipes_list_and_train_without_the_social_game(tmp_path):
    listed = _gymarena_without(("pettingzoo",), "baselines", "list", "--csv", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "ppo-cartpole" in listed.stdout and "social-win" not in listed.stdout
    assert "the crew recipes cannot be loaded here" in listed.stderr and "pip install 'gymarena[social,baselines]'" in listed.stderr
    trained = _gymarena_without(("pettingzoo",), "baselines", "train", "ppo-cartpole", "--steps", "256", tmp_path=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "baselines" / "ppo-cartpole" / "seed0" / "model.zip").is_file()
    crew = _gymarena_without(("pettingzoo",), "baselines", "train", "social-win", tmp_path=tmp_path)
    assert crew.returncode == 1 and "Traceback" not in crew.stderr
    assert crew.stderr.strip().splitlines()[-1].startswith("error: no baseline recipe 'social-win'")
    assert "pip install 'gymarena[social,baselines]'" in crew.stderr


@pytest.mark.parametrize("args, hint", [
    (("baselines", "list"), "pip install 'gymarena[social,baselines]'"),
    (("baselines", "train", "ppo-cartpole", "--steps", "64"), "pip install 'gymarena[baselines]'"),
])
def test_without_torch_the_baselines_say_what_to_install_in_one_line(tmp_path, args, hint):
    result = _gymarena_without(("torch", "stable_baselines3"), *args, tmp_path=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and hint in lines[0], result.stderr
