"""``python -m gridplan``: the ``gridplan`` command."""

from gridplan.cli import main

if __name__ == "__main__":
    main()
