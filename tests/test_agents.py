"""Agent references: built-in, module:attr, file.py:attr, classes and factories, and errors."""

from __future__ import annotations

import pytest
from conftest import AGENTS_DIR, agent_ref

from gymarena.agents import RandomAgent, load_agent
from gymarena.errors import AgentLoadError
from gymarena.tasks import get_task
from gymarena.wrappers import make_env


def _make(reference: str, task_id: str = "classic/CartPole-v1"):
    task = get_task(task_id)
    env = make_env(task)
    return load_agent(reference).make(task, env.observation_space, env.action_space), env


def test_builtin_random_agent_is_seeded_per_episode():
    agent, _env = _make("random")
    assert isinstance(agent, RandomAgent)
    agent.reset(seed=3)
    first = [agent.act(None) for _ in range(20)]
    agent.reset(seed=3)
    assert [agent.act(None) for _ in range(20)] == first


def test_module_attr_reference():
    source = load_agent("gymarena.agents:RandomAgent")
    assert source.name == "RandomAgent" and len(source.content_hash) == 64


def test_file_factory_and_no_argument_class():
    factory_agent, env = _make(agent_ref("make_random"))
    factory_agent.reset(seed=1)
    assert env.action_space.contains(factory_agent.act(None))
    class_agent, _ = _make(agent_ref("FirstActionAgent"))
    assert class_agent.act(None) == 0


def test_identity_changes_with_the_code(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("def make_agent(task, o, a):\n    return None\n")
    before = load_agent(f"{path}:make_agent").content_hash
    path.write_text("def make_agent(task, o, a):\n    return 1\n")
    after = load_agent(f"{path}:make_agent")
    assert before != after.content_hash
    assert after.factory(None, None, None) == 1  # the edited code, not a cached module


@pytest.mark.parametrize(
    "reference, message",
    [
        ("nosuchpackage.agents:make_agent", "agent module 'nosuchpackage.agents' of reference 'nosuchpackage.agents:make_agent' cannot be imported"),
        ("gymarena.agents:nothing", "has no attribute 'nothing'"),
        ("gymarena.agents", "is not 'random', 'scripted', 'package.module:attr' or 'path/to/file.py:attr'"),
        ("missing/file.py:make_agent", "does not exist"),
        (f"{AGENTS_DIR / 'broken_import.py'}:make_agent", "failed to import: ImportError: No module named 'torchh'"),
        (agent_ref("not_callable"), "names a int, not a class or factory"),
        (agent_ref("NoActMethod"), "has no act(observation) method"),
    ],
)
def test_bad_references_give_clear_errors(reference, message):
    with pytest.raises(AgentLoadError) as info:
        load_agent(reference)
    assert message in str(info.value)


def test_an_agent_is_told_exactly_which_method_it_lacks(tmp_path):
    module = tmp_path / "half.py"
    module.write_text("class NoReset:\n    def act(self, observation):\n        return 0\n\n"
                      "def make_agent(task, observation_space, action_space):\n    return NoReset()\n")
    source = load_agent(f"{module}:make_agent")
    with pytest.raises(AgentLoadError) as info:
        source.make(get_task("classic/CartPole-v1"), None, None)
    assert "lacks reset(seed)" in str(info.value) and "act(" not in str(info.value)


def test_an_agents_error_names_the_file_and_line_it_was_raised_at(tmp_path, sqlite_url):
    from gymarena.errors import AgentError
    from gymarena.results import ResultsStore
    from gymarena.runner import EvalRequest, evaluate

    module = tmp_path / "boom.py"
    module.write_text("class Boom:\n    def reset(self, seed=None):\n        pass\n\n"
                      "    def act(self, observation):\n        raise RuntimeError('boom')\n")
    with ResultsStore(sqlite_url) as store, pytest.raises(AgentError) as info:
        evaluate(EvalRequest(tasks=("classic/CartPole-v1",), agent=f"{module}:Boom", seeds=(0,), episodes=1), store)
    assert f"boom (at {module}:6 in act)" in str(info.value)
