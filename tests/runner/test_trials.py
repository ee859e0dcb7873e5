"""Meta-RL trials: the agent protocol's trial boundary, phases on the records, scoring
of evaluation episodes only, whole-trial resume, and Meta-World's ML10 test tasks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gymarena.records import EpisodeKey
from gymarena.results import ResultsStore
from gymarena.runner import EvalRequest, evaluate
from gymarena.runner.plan import plan_request
from gymarena.views import run_scores

TRIAL_SUITE = '''
name = "trials"
version = 1
seeds = [0, 1]
episodes = 2
[[tasks]]
id = "classic/CartPoleTrials-v1"
env_id = "CartPole-v1"
max_episode_steps = 60
trial = { adaptation = 2, evaluation = 1 }
'''

# An agent that takes part in trials and logs every call the runner makes to it.
RECORDING_AGENT = '''
import json

LOG = {log!r}


class Learner:
    def __init__(self, task, observation_space, action_space):
        self.steps = 0

    def _log(self, *event):
        with open(LOG, "a") as out:
            out.write(json.dumps(event) + "\\n")

    def reset(self, seed=None):
        self._log("reset")

    def begin_trial(self, seed=None):
        self.steps = 0  # memory is kept across the episodes of a trial
        self._log("begin_trial", seed)

    def begin_episode(self, adaptation):
        self._log("begin_episode", adaptation, self.steps)

    def observe(self, reward, terminated, truncated):
        self._log("observe", float(reward), bool(terminated or truncated))

    def act(self, observation):
        self.steps += 1
        return int(observation[2] > 0)  # lean with the pole
'''


@pytest.fixture
def store(sqlite_url):
    with ResultsStore(sqlite_url) as opened:
        yield opened


@pytest.fixture
def suite(tmp_path) -> str:
    path = tmp_path / "trials.toml"
    path.write_text(TRIAL_SUITE)
    return str(path)


def _learner(tmp_path) -> tuple[str, object]:
    log = tmp_path / "calls.jsonl"
    agent = tmp_path / "learner.py"
    agent.write_text(RECORDING_AGENT.format(log=str(log)))
    return f"{agent}:Learner", log


def test_a_trial_agent_is_never_reset_and_sees_rewards_only_while_adapting(store, suite, tmp_path):
    reference, log = _learner(tmp_path)
    result = evaluate(EvalRequest(suite=suite, agent=reference, backend="local"), store)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert not any(e[0] == "reset" for e in events)
    records = store.episodes(result.run.id)
    assert [(r.seed, r.episode, r.trial, r.phase) for r in records[:6]] == [
        (0, 0, 0, "adaptation"), (0, 1, 0, "adaptation"), (0, 2, 0, "evaluation"),
        (0, 3, 1, "adaptation"), (0, 4, 1, "adaptation"), (0, 5, 1, "evaluation"),
    ]
    starts = [e for e in events if e[0] in ("begin_trial", "begin_episode")]
    assert [e[0] for e in starts[:4]] == ["begin_trial", "begin_episode", "begin_episode", "begin_episode"]
    assert [e[1] for e in starts[1:4]] == [True, True, False]
    assert starts[2][2] == records[0].length  # memory carried over from the first episode
    assert starts[0][1] == records[0].episode_seed  # the trial's seed, shared by its episodes
    assert {r.episode_seed for r in records[:3]} == {records[0].episode_seed} != {records[3].episode_seed}
    observed = [e for e in events if e[0] == "observe"]
    assert len(observed) == sum(r.length for r in records if r.phase == "adaptation")
    assert sum(e[1] for e in observed) == pytest.approx(sum(r.episode_return for r in records if r.phase == "adaptation"))


def test_only_evaluation_episodes_are_scored(store, suite):
    result = evaluate(EvalRequest(suite=suite), store)
    records = store.episodes(result.run.id)
    (score,) = run_scores(store, result.run)
    evaluation = [r.episode_return for r in records if r.phase == "evaluation"]
    assert score.episodes == score.expected_episodes == 12 and score.scored == len(evaluation) == 4
    per_seed = [np.mean([r.episode_return for r in records if r.phase == "evaluation" and r.seed == s])
                for s in sorted({r.seed for r in records})]
    assert score.mean_return.point == pytest.approx(np.mean(per_seed))


def test_ordinary_agents_are_reset_before_every_episode_of_a_trial(store, suite):
    first = store.episodes(evaluate(EvalRequest(suite=suite), store).run.id)
    again = store.episodes(evaluate(EvalRequest(suite=suite, workers=2, fresh=True), store).run.id)
    assert [r.outcome_fields() for r in first] == [r.outcome_fields() for r in again]
    assert len({r.episode_return for r in first}) > 3  # the env's random stream goes on between episodes


def test_a_partly_stored_trial_is_played_again_whole(suite):
    plan = plan_request(EvalRequest(suite=suite))
    task = "classic/CartPoleTrials-v1"
    stored = {EpisodeKey(task, 0, e) for e in (0, 1, 2, 3, 4)}  # trial 1 of seed 0 lacks its evaluation episode
    todo, done, total = plan.protocol.missing(stored)
    assert total == 12 and done == 3
    assert todo == [EpisodeKey(task, 0, 3), EpisodeKey(task, 1, 0), EpisodeKey(task, 1, 3)]


def test_trial_tasks_reject_what_they_cannot_do():
    from gymarena.tasks import TaskSpec, TrialSpec

    with pytest.raises(ValueError, match="single-agent, at decision interval 1"):
        TaskSpec(id="classic/X-v1", family="classic", env_id="X", extra="classic", decision_intervals=(1, 2),
                 trial=TrialSpec(1, 1))
    with pytest.raises(ValueError, match="evaluation >= 1"):
        TrialSpec(3, 0)


def test_ml10_test_task_keeps_its_hidden_goal_through_a_trial(store):
    result = evaluate(EvalRequest(tasks=("metaworld/ml10-drawer-open-v3",), seeds=(0,), episodes=2, agent="scripted"), store)
    records = store.episodes(result.run.id)
    assert len(records) == 26 and [r.phase for r in records[:13]] == ["adaptation"] * 10 + ["evaluation"] * 3
    for trial in (0, 1):
        variations = {r.extra["goal_variation"] for r in records if r.trial == trial}
        assert len(variations) == 1
    (score,) = run_scores(store, result.run)
    assert score.success.point == score.normalised.point  # success-rate scale, evaluation episodes only
    assert score.scored == 6
