"""The leaderboard: suite rankings with their uncertainty (ranking.py)."""

from gymarena.leaderboard.ranking import (
    ApartGroup,
    Entry,
    SuiteRanking,
    leaderboard,
    rank_suite,
)

__all__ = ["ApartGroup", "Entry", "SuiteRanking", "leaderboard", "rank_suite"]
