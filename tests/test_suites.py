"""Suite files: the built-in suites, user suite files and the errors for malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from gymarena.errors import SuiteFormatError, UnknownSuiteError
from gymarena.suites import list_suites, load_suite


def test_builtin_suites():
    suites = {s.name: s for s in list_suites()}
    assert {"quickstart", "minigrid-core", "mujoco-core"} <= set(suites)
    assert len(suites["minigrid-core"].tasks) >= 6
    mujoco = [t.id for t in suites["mujoco-core"].tasks]
    assert mujoco[0] == "mujoco/Ant-v5" and mujoco[-1] == "mujoco/Walker2d-v5" and len(mujoco) == 11
    quick = suites["quickstart"]
    assert [t.family for t in quick.tasks] == ["classic", "minigrid"]


def test_every_family_has_a_board_and_each_board_its_suite():
    suites = list_suites()
    families = {family for suite in suites for family in suite.families}
    assert {"classic", "minigrid", "mujoco", "metaworld", "nethack", "mario", "highway", "traffic", "cav", "social",
            "sc2"} <= families
    boards = {suite.label: suite.board for suite in suites}
    assert boards["cav-highway@1"] == "cav" and boards["social-core@1"] == "social"
    sc2 = load_suite("sc2-minigames@1")
    assert [t.id.removeprefix("sc2/") for t in sc2.tasks] == [
        "MoveToBeacon-v0", "CollectMineralShards-v0", "FindAndDefeatZerglings-v0", "DefeatRoaches-v0",
        "DefeatZerglingsAndBanelings-v0", "CollectMineralsAndGas-v0", "BuildMarines-v0"]
    assert all(t.scores is not None and "DeepMind human" in t.scores.reference_source for t in sc2.tasks)


def test_name_at_version():
    assert load_suite("quickstart@1").label == "quickstart@1"
    with pytest.raises(UnknownSuiteError, match="no version '9'"):
        load_suite("quickstart@9")


def test_unknown_suite_suggests():
    with pytest.raises(UnknownSuiteError, match="did you mean 'quickstart'"):
        load_suite("quickstar")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


def test_user_suite_file_with_an_inline_task(tmp_path):
    path = _write(tmp_path, '''
name = "mine"
version = 3
seeds = [4, 5]
[[tasks]]
id = "classic/CartPole-v1"
episodes = 2
[[tasks]]
id = "classic/MountainCar-v0"
env_id = "MountainCar-v0"
max_episode_steps = 50
success = "terminated"
scores = { random = -50.0, reference = -10.0, random_source = "horizon", reference_source = "guess" }
''')
    suite = load_suite(str(path))
    assert suite.label == "mine@3" and suite.seeds == (4, 5)
    assert [t.episodes for t in suite.tasks] == [2, 10]
    assert suite.tasks[1].max_episode_steps == 50


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\nversion = 1\nseeds = [0]\n', "key 'tasks': expected one or more [[tasks]] tables"),
        ('name = "x"\nversion = "one"\nseeds = [0]\n[[tasks]]\nid = "classic/CartPole-v1"\n', "key 'version': expected an integer, got 'one'"),
        ('name = "x"\nversion = 1\nseeds = [0, -1]\n[[tasks]]\nid = "classic/CartPole-v1"\n', "key 'seeds': expected a non-empty list of non-negative integers"),
        ('name = "x"\nversion = 1\nseeds = [0]\n[[tasks]]\nid = "classic/CartPol-v1"\n', "key 'tasks[0].id': unknown task 'classic/CartPol-v1'; did you mean"),
        ('name = "x"\nversion = 1\nseeds = [0]\n[[tasks]]\nid = "classic/CartPole-v1"\nepisodes = 0\n', "key 'tasks[0].episodes': expected an integer >= 1"),
        ('name = "x"\nversion = 1\nseeds = [0]\nepisode = 3\n[[tasks]]\nid = "classic/CartPole-v1"\n', "key 'episode': expected one of the known keys"),
        ('name = "x"\nversion = 1\nseeds = [0]\n[[tasks]]\nid = "classic/M-v0"\nenv_id = "M-v0"\nsuccess = "maybe"\n', "key 'tasks[0].success': expected a success rule"),
        ('name = "x"\nversion = 1\nseeds = [0\n', "not valid TOML"),
        ('name = "x"\nversion = 1\nseeds = [0]\nboard = "chess"\n[[tasks]]\nid = "classic/CartPole-v1"\n', "key 'board': expected one of scores, cav, social"),
        ('name = "x"\nversion = 1\nseeds = [0]\n[cav]\nuntil_rhw = 0.3\n[[tasks]]\nid = "classic/CartPole-v1"\n', "the suite's board is 'scores'"),
        ('name = "x"\nversion = 1\nseeds = [0]\nboard = "social"\n[social]\nroles = ["crew"]\nopponents = [{ name = "a", reference = "random" }]\n[[tasks]]\nid = "social/Impostor-5p1i-v0"\n', "[social].roles is a list of crewmate, impostor"),
        ('name = "x"\nversion = 1\nseeds = [0]\nboard = "social"\n[social]\nopponents = [{ name = "a", reference = "random" }]\n[[tasks]]\nid = "classic/CartPole-v1"\n', "a social board plays multi-agent tasks"),
    ],
)
def test_malformed_suite_names_file_key_and_expectation(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(SuiteFormatError) as info:
        load_suite(str(path))
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_missing_suite_file(tmp_path):
    with pytest.raises(UnknownSuiteError, match="does not exist"):
        load_suite(str(tmp_path / "nope.toml"))


def test_a_pool_player_that_cannot_be_loaded_is_named_where_the_protocol_is_made(tmp_path):
    from gymarena.errors import GymarenaError
    from gymarena.installed import suite_protocol

    path = _write(tmp_path, 'name = "x"\nversion = 1\nseeds = [0]\nboard = "social"\n[social]\n'
                            'opponents = [{ name = "a", reference = "nope:x" }]\n[[tasks]]\nid = "social/Impostor-5p1i-v0"\n')
    assert load_suite(str(path)).tasks[0].pool.opponents[0].reference == "nope:x"  # listed without loading it
    with pytest.raises(GymarenaError, match="the pool's player 'a' \\(nope:x\\) cannot be loaded"):
        suite_protocol(str(path))


def test_listing_suites_imports_no_agent_nor_simulator():
    """A server without the social extra still lists every suite: a social board's pool is
    read as references, and their code is pinned only where a protocol is made."""
    import subprocess
    import sys

    code = ("import sys; from gymarena.suites import list_suites; list_suites(); "
            "print(sorted(m for m in sys.modules if m.startswith(('pettingzoo', 'gymarena.baselines.scripted.', "
            "'gymarena.envs.', 'stable_baselines3', 'torch'))))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
