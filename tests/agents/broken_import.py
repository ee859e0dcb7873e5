"""An agent file whose import fails, as a user's typo would."""

raise ImportError("No module named 'torchh'")
