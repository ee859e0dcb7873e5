"""The rules of the social deduction game as parameters, and the constants they index.

Defaults are the training settings of "Training Language Models for Social Deduction
with Multi-Agent Reinforcement Learning" (Sarkar et al., AAMAS 2025): 5 players, 1
impostor, a 3x2 grid of rooms, 3-5 tasks per crewmate taking 3 ticks each (walking to a
neighbouring room too), a kill cooldown of 6 ticks, meetings starting on ticks aligned
to 50, two messages per living player per meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLOURS = ("red", "green", "orange", "purple", "blue", "yellow", "pink", "cyan", "brown", "white")
LAYOUTS_RANDOMIZED = ((3, 1), (2, 2), (3, 2))  # the paper's randomized environments

# Game actions (the "action" entry of an agent's action): an index into this list, then
# one "kill <player>" per player.
WAIT, DO_TASK, NORTH, SOUTH, WEST, EAST, REPORT = range(7)
GAME_ACTIONS = ("wait", "do task", "go north", "go south", "go west", "go east", "report body")
MOVES = {NORTH: (0, -1), SOUTH: (0, 1), WEST: (-1, 0), EAST: (1, 0)}
FIRST_KILL = len(GAME_ACTIONS)

# Phases, as the "phase" observation numbers them.
GAMEPLAY, DISCUSSION, VOTING, OVER = range(4)
PHASES = ("gameplay", "discussion", "voting", "over")

# How a game ended.
NO_IMPOSTORS, TASKS_DONE, PARITY, TIMEOUT = "no impostors left", "all tasks done", "impostors reached parity", "timeout"


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the reward channels summed into each agent's reward (each channel is also
    reported on its own in ``info["reward_channels"]``). The default reward is the sparse
    win only, so a return is a win; the paper trains on all four."""

    win: float = 1.0
    task: float = 0.0
    listening: float = 0.0
    speaking: float = 0.0


@dataclass(frozen=True)
class Rules:
    players: int = 5
    impostors: int = 1
    layouts: tuple[tuple[int, int], ...] = ((3, 2),)  # (width, height); several: one drawn per game
    tasks: tuple[int, int] = (3, 5)  # tasks per crewmate, drawn uniformly from this inclusive range
    task_time: int = 3  # ticks to do a task, and to walk to a neighbouring room
    kill_cooldown: int = 6
    reporting_alignment: int = 50  # a meeting starts on the next tick that is a multiple of this
    messages_per_player: int = 2  # per meeting; 0 skips the discussion (straight to the vote)
    message_chars: int = 200
    max_ticks: int = 1000  # the game ends as a timeout when the world clock reaches this
    weights: RewardWeights = field(default_factory=RewardWeights)

    def __post_init__(self) -> None:
        if not 1 <= self.impostors < self.players - self.impostors:
            raise ValueError(f"need 1 <= impostors < crewmates, got {self.impostors} impostors among {self.players} players")
        if self.players > len(COLOURS):
            raise ValueError(f"at most {len(COLOURS)} players (one colour each), got {self.players}")
        if not self.layouts or any(w < 1 or h < 1 or w * h < 1 for w, h in self.layouts):
            raise ValueError(f"layouts must be (width, height) pairs of positive sizes, got {self.layouts}")
        low, high = self.tasks
        if not 1 <= low <= high:
            raise ValueError(f"tasks must be a range 1 <= low <= high, got {self.tasks}")
        for name in ("task_time", "kill_cooldown", "reporting_alignment", "message_chars", "max_ticks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.messages_per_player < 0:
            raise ValueError(f"messages_per_player must be >= 0, got {self.messages_per_player}")

    @property
    def names(self) -> tuple[str, ...]:
        return COLOURS[: self.players]

    @property
    def max_width(self) -> int:
        return max(w for w, _ in self.layouts)

    @property
    def max_height(self) -> int:
        return max(h for _, h in self.layouts)

    @property
    def game_actions(self) -> int:
        return FIRST_KILL + self.players

    @classmethod
    def from_kwargs(cls, **kwargs) -> Rules:
        """Rules from task kwargs (TOML values: lists for tuples, a table for the weights;
        ``layouts = "randomized"`` for the paper's randomized maps)."""
        kwargs = dict(kwargs)
        if kwargs.get("layouts") == "randomized":
            kwargs["layouts"] = LAYOUTS_RANDOMIZED
        elif "layouts" in kwargs:
            kwargs["layouts"] = tuple(tuple(layout) for layout in kwargs["layouts"])
        if "tasks" in kwargs:
            kwargs["tasks"] = tuple(kwargs["tasks"])
        if isinstance(kwargs.get("weights"), dict):
            kwargs["weights"] = RewardWeights(**kwargs["weights"])
        return cls(**kwargs)
