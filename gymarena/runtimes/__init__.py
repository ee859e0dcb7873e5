"""Isolated simulator runtimes: a family's simulator in a virtual environment of its own
(``gymarena install FAMILY``), run by an env server process that the runner talks to over
pipes (``RemoteEnv``), so families whose dependencies collide still run side by side."""
