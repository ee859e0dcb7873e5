"""Space descriptions: what the wire tells a sandboxed agent or a runtime about a task's
spaces is rebuilt as the same space, the social game's MaskedDict included (its
sampling under masks for some entries only is what its players rely on)."""

from __future__ import annotations

import numpy as np

from gymarena.tasks import get_task
from gymarena.wire.frames import decode, encode
from gymarena.wire.spaces import build, describe
from gymarena.wrappers import make_env


def _over_the_wire(space):
    return build(decode(encode(describe(space))[4:]))


def test_the_social_games_spaces_cross_the_wire_as_they_are():
    env = make_env(get_task("social/Impostor-5p1i-v0"))
    observations, _ = env.reset(seed=0)
    seat = env.possible_agents[0]
    action_space = _over_the_wire(env.action_space(seat))
    assert type(action_space).__name__ == "MaskedDict" and action_space == env.action_space(seat)
    mask = observations[seat]["action_mask"]
    action_space.seed(0)
    sampled = action_space.sample(mask={"action": mask["action"].astype(np.int8), "vote": mask["vote"].astype(np.int8)})
    assert mask["action"][sampled["action"]] and mask["vote"][sampled["vote"]]
    assert _over_the_wire(env.observation_space(seat)) == env.observation_space(seat)
    env.close()
