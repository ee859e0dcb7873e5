"""The runner: episodes of (task x seed) on a backend, streamed into the results store."""

from gymarena.runner.evaluation import RunOrigin, RunResult, evaluate
from gymarena.runner.plan import DEFAULT_SEEDS, EvalRequest, parse_algorithm, parse_seeds

__all__ = ["DEFAULT_SEEDS", "EvalRequest", "RunOrigin", "RunResult", "evaluate", "parse_algorithm", "parse_seeds"]
