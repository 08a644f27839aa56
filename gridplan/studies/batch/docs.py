"""``python -m gridplan.studies.batch.docs [--write docs/batch.md]``: the table of analyses and
their options in docs/batch.md, generated from the registry (a test holds the two equal)."""

from __future__ import annotations

import sys
from pathlib import Path

from gridplan.studies.batch.analyses import DOC_END, DOC_START, options_block, options_markdown


def write(doc: Path) -> None:
    """Replace the generated block of ``doc``."""
    head, rest = doc.read_text(encoding="utf-8").split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(head + options_block() + tail, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(Path(sys.argv[2]))
    else:
        print(options_markdown())
