"""The step and episode deadlines of local evaluation: they live beside an alarm that the
host program set (a test runner's timeout), and refuse limits that are not positive."""

from __future__ import annotations

import signal
import time

import pytest

from gymarena.errors import RunConfigError
from gymarena.runner.deadlines import Deadlines, enforced


def test_an_alarm_set_before_goes_on_after_the_deadlines():
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with enforced(Deadlines(step_seconds=5.0)):
            time.sleep(0.3)
        assert 0.5 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.7
        time.sleep(1.0)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("step, episode, message", [(-1.0, None, "^step_seconds must be a positive"),
                                                    (None, 0.0, "^episode_seconds must be a positive")])
def test_limits_must_be_positive(step, episode, message):
    with pytest.raises(RunConfigError, match=message):
        Deadlines(step, episode)


def test_zero_on_the_command_line_means_no_limit():
    assert Deadlines.given(0, None) == Deadlines(None, None)
    assert Deadlines.given(None, None).step_seconds == 60.0
