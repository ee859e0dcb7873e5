"""The trainable crewmate's network: one trunk over the feature vector, a head per
decision (game action, utterance, vote), a belief head that answers the survey, and a
value head. Every decision head is a categorical masked by what the game (or the
vocabulary) allows now."""

from __future__ import annotations

import torch
from torch import nn

HEADS = ("action", "message", "vote")


class CrewPolicy(nn.Module):
    def __init__(self, features: int, actions: int, utterances: int, players: int, hidden: int = 128):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.sizes = {"action": actions, "message": utterances, "vote": players + 1}
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, size) for name, size in self.sizes.items()})
        self.belief = nn.Linear(hidden, players)
        self.value = nn.Linear(hidden, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """(trunk output, each head's logits, belief logits, value)."""
        hidden = self.trunk(features)
        return hidden, {name: head(hidden) for name, head in self.heads.items()}, self.belief(hidden), self.value(hidden)[:, 0]


def masked(logits: torch.Tensor, mask: torch.Tensor) -> torch.distributions.Categorical:
    """A categorical over the allowed choices only."""
    return torch.distributions.Categorical(logits=logits.masked_fill(~mask, -1e9))
