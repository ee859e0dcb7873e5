"""Baseline agents: ``scripted`` (one hand-written policy per simulator family) and, later,
trained recipes. ``random`` lives in agents.py."""
