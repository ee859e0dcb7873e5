"""StarCraft II through pysc2 in its own runtime, tested on pysc2's SC2TestEnv (the game
binary is not installable here), and what users see without the game."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import installed_runtime

from gymarena.runtimes.remote_env import runtime_environment
from gymarena.tasks import get_task
from gymarena.wrappers import FAMILIES, make_env

# The mock's available functions (pysc2's dummy observation): no_op, move_camera,
# select_point, select_rect, select_control_group, select_idle_worker, select_army and
# two others; Move_screen (331) is not among them.
MOCK_AVAILABLE = [0, 1, 2, 3, 4, 6, 7, 451, 452]


@pytest.fixture(scope="module")
def sc2_runtime():
    return installed_runtime("sc2")


@pytest.fixture
def mock_game(sc2_runtime):
    env = make_env(get_task("sc2/MoveToBeacon-v0"), simulator="mock", screen=32, minimap=24)
    yield env
    env.close()


def _action(env, function: int, **arguments):
    action = {name: np.zeros(space.shape, dtype=space.dtype) if space.shape else 0
              for name, space in env.action_space.spaces.items()}
    return {**action, "function": function, **arguments}


def test_feature_layers_and_the_action_mask_are_a_gymnasium_dict(mock_game):
    spaces = mock_game.observation_space.spaces
    assert spaces["screen"].shape == (27, 32, 32) and spaces["screen"].dtype == np.int32
    assert spaces["minimap"].shape == (11, 24, 24)
    assert spaces["player"].shape == (11,)
    functions = spaces["available_actions"].n
    assert functions > 500  # pysc2's function table
    action = mock_game.action_space.spaces
    assert action["function"].n == functions
    assert list(action["screen"].nvec) == [32, 32] and list(action["minimap"].nvec) == [24, 24]
    assert action["queued"].n == 2 and action["select_point_act"].n == 4
    observation, _ = mock_game.reset(seed=0)
    assert mock_game.observation_space.contains(observation)
    assert list(np.flatnonzero(observation["available_actions"])) == MOCK_AVAILABLE


def test_an_episode_runs_to_the_maps_end_with_its_metrics(mock_game):
    mock_game.reset(seed=0)
    steps, terminated = 0, False
    while not terminated:
        _, _reward, terminated, truncated, info = mock_game.step(_action(mock_game, 2, screen=np.array([5, 7])))
        steps += 1
        assert not truncated and steps <= 10
    assert steps == 10  # SC2TestEnv's episode length
    assert info["gymarena_metrics"] == {"score": 0.0, "unavailable_actions": 0, "game_loop": 0}


def test_unavailable_functions_are_played_as_no_op_and_counted(mock_game):
    mock_game.reset(seed=0)
    mock_game.step(_action(mock_game, 331, screen=np.array([3, 3])))  # Move_screen: not available
    mock_game.step(_action(mock_game, 7))  # select_army: available
    for _ in range(8):
        _, _, terminated, _, info = mock_game.step(_action(mock_game, 331))
    assert terminated and info["gymarena_metrics"]["unavailable_actions"] == 9


TRANSLATION = """
import json
from gymarena.wrappers.sc2 import SC2Game
game = SC2Game("MoveToBeacon", screen=32, minimap=24, simulator="mock")
game.reset(seed=0)
blank = {name: 0 for name in game.action_space.spaces}
calls = {}
for label, action in {
    "select_point": {**blank, "function": 2, "select_point_act": 1, "screen": [5, 7]},
    "move_camera": {**blank, "function": 1, "minimap": [20, 3]},
    "select_army": {**blank, "function": 7, "select_add": 1},
    "move_screen": {**blank, "function": 331, "queued": 1, "screen": [9, 9]},
}.items():
    call = game.function_call(action)
    proto = game.features.transform_action(None, call, skip_available=True)
    calls[label] = {"function": int(call.function), "arguments": [[int(v) for v in a] for a in call.arguments],
                    "proto": str(proto)}
print(json.dumps(calls))
"""


def test_actions_translate_to_pysc2_function_calls_the_game_accepts(sc2_runtime):
    """Inside the runtime: each action becomes the FunctionCall its function needs, and pysc2's
    own transform turns that into the SC2 API request the game would receive."""
    result = subprocess.run([sc2_runtime.python, "-c", TRANSLATION], capture_output=True, text=True,
                            env=runtime_environment(), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    calls = json.loads(result.stdout.strip().splitlines()[-1])
    assert calls["select_point"]["arguments"] == [[1], [5, 7]]
    assert "selection_screen_coord" in calls["select_point"]["proto"] and "x: 5" in calls["select_point"]["proto"]
    assert calls["move_camera"]["arguments"] == [[20, 3]] and "camera_move" in calls["move_camera"]["proto"]
    assert calls["select_army"]["arguments"] == [[1]] and "selection_add: true" in calls["select_army"]["proto"]
    assert calls["move_screen"] == {"function": 0, "arguments": [], "proto": ""}  # unavailable: no_op


def test_without_the_game_tasks_are_unavailable_and_eval_says_how_to_get_it(sc2_runtime, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gymarena.cli import app
    from gymarena.wrappers import task_availability

    monkeypatch.setenv("SC2PATH", str(tmp_path / "nowhere"))
    available, reason = task_availability(get_task("sc2/MoveToBeacon-v0"))
    assert not available and "SC2PATH" in reason and str(tmp_path / "nowhere") in reason
    result = CliRunner().invoke(app, ["eval", "--task", "sc2/MoveToBeacon-v0", "--db", str(tmp_path / "r.sqlite")])
    assert result.exit_code != 0
    assert "needs the StarCraft II game" in result.output and "SC2PATH" in result.output
    assert "github.com/Blizzard/s2client-proto" in result.output and "mini_games" in result.output


def test_the_game_build_enters_the_protocol(sc2_runtime, tmp_path, monkeypatch):
    game = tmp_path / "StarCraftII"
    for build in ("Base75689", "Base81009"):
        (game / "Versions" / build).mkdir(parents=True)
    (game / "Maps" / "mini_games").mkdir(parents=True)
    monkeypatch.setenv("SC2PATH", str(game))
    family = FAMILIES["sc2"]
    assert family.availability() == (True, "")
    versions = family.simulator_versions()  # asked of the runtime, which sees SC2PATH too
    assert versions["StarCraft II build"] == "Base81009"  # the newest, as pysc2 runs it
    assert versions["pysc2"] == "4.0.0" and versions["protobuf"] == sc2_runtime.installed["protobuf"]


def test_scripted_baselines_select_the_army_then_move_to_the_nearest_target(mock_game):
    from gymarena.baselines.scripted import make_agent

    observation, _ = mock_game.reset(seed=0)
    beacon = make_agent(get_task("sc2/MoveToBeacon-v0"), mock_game.observation_space, mock_game.action_space)
    beacon.reset(0)
    first = beacon.act(observation)
    assert first["function"] == 7 and mock_game.action_space.contains(first)  # nothing selected: select_army
    relative = observation["screen"][5]
    relative[10:13, 20:23] = 3  # a beacon centred at x=21, y=11
    relative[2, 2] = 1  # a marine
    observation["available_actions"][331] = 1
    move = beacon.act(observation)
    assert move["function"] == 331 and list(move["screen"]) == [21, 11] and mock_game.action_space.contains(move)

    shards = make_agent(get_task("sc2/CollectMineralShards-v0"), mock_game.observation_space, mock_game.action_space)
    relative[:] = 0
    relative[4, 4] = relative[4, 6] = 1  # the marines, centred at (y=4, x=5)
    relative[30, 30] = relative[8, 9] = relative[0, 31] = 3  # shards
    assert list(shards.act(observation)["screen"]) == [9, 8]
    with pytest.raises(Exception, match="no scripted baseline for sc2/DefeatRoaches-v0"):
        make_agent(get_task("sc2/DefeatRoaches-v0"), mock_game.observation_space, mock_game.action_space)
