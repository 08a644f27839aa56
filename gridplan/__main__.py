"""``python -m gridplan``: the ``gridplan`` command (used by generated batch job scripts)."""

from gridplan.cli import main

if __name__ == "__main__":
    main()
