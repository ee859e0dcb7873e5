"""``python -m gymarena`` is the ``gymarena`` command."""

from gymarena.cli import main

if __name__ == "__main__":
    main()
