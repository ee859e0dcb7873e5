"""Behaviour fingerprints: every registered task this machine can run (and every built-in
player) behaves as its reference did, the tripwire that lets shipped code be edited; a
simulator that drifts is caught at the step where it does; runs record the check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import gymnasium
import pytest
from conftest import agent_ref

from gymarena.fingerprints import check as checks
from gymarena.fingerprints import rollout
from gymarena.fingerprints.players import RANDOM, fingerprinted
from gymarena.fingerprints.references import reference
from gymarena.tasks import get_task
from gymarena.wrappers import task_availability

PAIRS = [pytest.param(task, player, id=f"{task.id}:{player.rpartition(':')[2]}") for task, player in fingerprinted()]


@pytest.mark.parametrize("task, player", PAIRS)
def test_behaviour_matches_the_reference_fingerprint(task, player):
    available, reason = task_availability(task)
    if not available:
        if os.environ.get("CI") == "true" and task.family != "sc2":
            pytest.fail(f"{task.id} cannot run in CI: {reason}")
        pytest.skip(reason)
    stored = reference(task.family, task.id, player)
    assert stored is not None, f"{task.id} ({player}) has no reference fingerprint: `gymarena check --task {task.id} --pin`"
    found = rollout.record(task, player)
    if player == RANDOM:  # ... and the seed matters: the random rollouts from seeds 0 and 1 differ
        first, second = _by_seed(found.steps)[:2]
        assert first != second, f"{task.id}: seeds 0 and 1 play the same rollout"
    problem = _verdict(found, task.family)
    assert problem is None, problem


def _verdict(found: rollout.Fingerprint, family: str) -> str | None:
    """What is wrong with a fingerprint recorded here, against its reference (None: nothing)."""
    result = checks.compare(found, family)
    where = f"{found.task_id} ({found.player})"
    if result.versions:
        if result.status != "matches":
            return (f"{where}: the reference was recorded under other versions ({', '.join(result.versions)}) and the "
                    f"behaviour differs at {result.divergence}: re-pin with `gymarena check --task {found.task_id} --pin`")
        return (f"{where}: same behaviour under new versions ({', '.join(result.versions)}): re-pin with "
                f"`gymarena check --task {found.task_id} --pin`")
    if result.status != "matches":
        return (f"{where}: behaviour changed at {result.divergence}: bump the version (gymarena/versions.py), then "
                "re-pin (`gymarena check --pin`)")
    return None


def test_a_behaviour_edit_without_a_version_bump_fails_and_a_bump_asks_for_a_re_pin(monkeypatch):
    """The tripwire that lets shipped code be edited: the idm AV made to drive as the cautious
    one under its unchanged version, then with its version bumped."""
    import dataclasses

    from gymarena import versions
    from gymarena.envs.cav import builtin_avs

    task = get_task("cav/Highway2Lane-NDE-v0")
    monkeypatch.setitem(builtin_avs.BUILTIN_AVS, "idm", builtin_avs.BUILTIN_AVS["cautious"])
    edited = _verdict(rollout.record(task, "cav:idm"), "cav")
    assert edited is not None and edited.startswith("cav/Highway2Lane-NDE-v0 (cav:idm): behaviour changed at step 0, obs/")
    assert edited.endswith("bump the version (gymarena/versions.py), then re-pin (`gymarena check --pin`)")
    bumped = dataclasses.replace(versions.BUILTIN_AVS["idm"], values=(*versions.BUILTIN_AVS["idm"].values, "2"))
    monkeypatch.setitem(versions.BUILTIN_AVS, "idm", bumped)
    again = _verdict(rollout.record(task, "cav:idm"), "cav")
    assert again is not None and "recorded under other versions (player cav:idm)" in again and "re-pin" in again


def _by_seed(steps: list[dict]) -> list[list[dict]]:
    """A fingerprint's steps cut at each reset of a seed given by the rollout (0, then 1), its
    own seed entries left out so that only behaviour is compared."""
    runs: list[list[dict]] = []
    for step in steps:
        if step.get("seed") in rollout.SEEDS:
            runs.append([])
        runs[-1].append({k: v for k, v in step.items() if k != "seed"})
    return runs


class _NudgedReward(gymnasium.Wrapper):
    """A drifted simulator: from its sixth step on, every reward is larger by 1e-4."""

    def reset(self, **kwargs):
        self.steps = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return observation, reward + (1e-4 if self.steps >= 6 else 0.0), terminated, truncated, info


def test_a_drifted_simulator_is_caught_at_the_step_it_drifts(monkeypatch):
    from gymarena import wrappers

    make = wrappers.make_env
    monkeypatch.setattr(wrappers, "make_env", lambda task, **kw: _NudgedReward(make(task, **kw)))
    result = checks.check_task(get_task("mujoco/Hopper-v5"))
    assert result.status == "diverged" and result.divergence is not None
    assert (result.divergence.step, result.divergence.field) == (6, "reward"), result.divergence
    assert "by 0.0001" in str(result.divergence) and result.versions == ()


def test_a_change_below_the_tolerance_is_no_drift(monkeypatch):
    from gymarena import wrappers

    class Tiny(_NudgedReward):
        def step(self, action):
            observation, reward, terminated, truncated, info = self.env.step(action)
            return observation, reward * (1 + 1e-12), terminated, truncated, info

    make = wrappers.make_env
    monkeypatch.setattr(wrappers, "make_env", lambda task, **kw: Tiny(make(task, **kw)))
    assert checks.check_task(get_task("mujoco/Hopper-v5")).status == "matches"


def test_gymarena_check_reports_every_quickstart_task_as_matching():
    result = subprocess.run([sys.executable, "-m", "gymarena", "check", "--suite", "quickstart", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["checks"]
    assert found and all(c["status"] == "matches" for c in found), found


def test_gymarena_check_of_an_unknown_task_is_one_line():
    result = subprocess.run([sys.executable, "-m", "gymarena", "check", "--task", "classic/CartPole-v9"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:"), result.stderr


def test_runs_record_their_simulator_check_and_a_drifted_run_is_listed_apart(sqlite_url, monkeypatch, tmp_path):
    from gymarena import wrappers
    from gymarena.leaderboard import leaderboard
    from gymarena.leaderboard.pages import run_page
    from gymarena.results import ResultsStore
    from gymarena.runner import EvalRequest, evaluate

    monkeypatch.setenv("GYMARENA_CACHE", str(tmp_path / "cache"))
    request = EvalRequest(suite="quickstart")
    with ResultsStore(sqlite_url) as store:
        clean = evaluate(request, store).run.id
        assert store.get_run(clean).provenance["simulator_check"] == {
            "classic/CartPole-v1": "matches", "minigrid/DoorKey-5x5-v0": "matches"}
        monkeypatch.setenv("GYMARENA_CACHE", "")  # a patched build under the same versions: checked afresh
        make = wrappers.make_env
        monkeypatch.setattr(wrappers, "make_env", lambda task, **kw: _NudgedReward(make(task, **kw)))
        drifted = evaluate(EvalRequest(suite="quickstart", agent=agent_ref("make_random")), store).run.id
        checked = store.get_run(drifted).provenance["simulator_check"]
        assert checked["classic/CartPole-v1"].startswith("diverged at step 6, reward"), checked
        ranking = leaderboard(store, "quickstart", reps=200)
        assert [e.run_ids for e in ranking.entries] == [(clean,)]
        (apart,) = ranking.apart
        assert apart.run_ids == [drifted]
        assert any("classic/CartPole-v1: made on a simulator that departs from its reference fingerprint (diverged at "
                   "step 6" in line for line in apart.differences), apart.differences
        assert run_page(store, drifted)["simulator_check"]["classic/CartPole-v1"].startswith("diverged at step 6")
