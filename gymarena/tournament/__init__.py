"""Social boards' games: an agent under test against a fixed pool of reference players,
in each role (pool.py: the pool; games.py: one game; play.py: a suite's run)."""
