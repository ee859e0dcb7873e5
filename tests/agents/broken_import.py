"""An agent file whose import fails, as a user's typo would."""

import numpy as np

raise ImportError("No module named 'torchh'")
