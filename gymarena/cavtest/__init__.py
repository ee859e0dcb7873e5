"""CAV crash-rate testing runs: ``gymarena cav test|compare|replay``.

An application beside the runner, on the simulator of ``gymarena/envs/cav/`` (its NDD,
AVs, NADE, adaptive and AdaTE samplers, vectorised test batches): it plays testing runs of
NDE, NADE, adaptive testing or AdaTE, records every test as an episode of a run through the run
recorder, estimates crash rates with their efficiency, compares runs and replays tests.
"""

from gymarena.cavtest.compare import Comparison, compare, plot_paths
from gymarena.cavtest.replay import replay
from gymarena.cavtest.runs import MODES, run_cav_tests, stored_outcomes
from gymarena.cavtest.summary import Summary, summarise

__all__ = ["MODES", "Comparison", "Summary", "compare", "plot_paths", "replay", "run_cav_tests", "stored_outcomes",
           "summarise"]
