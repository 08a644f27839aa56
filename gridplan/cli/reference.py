"""The README's command table, generated from the CLI's own help texts.

``python -m gridplan.cli.reference`` prints it; ``--write README.md`` replaces the block between
the ``cli-reference`` markers. A test fails when the README and the CLI disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

START = "<!-- cli-reference:start (python -m gridplan.cli.reference --write README.md) -->"
END = "<!-- cli-reference:end -->"


def _rows(cmd: click.Command, ctx: click.Context, path: str) -> list[tuple[str, str]]:
    if isinstance(cmd, click.Group):
        rows: list[tuple[str, str]] = []
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                rows += _rows(sub, click.Context(sub, parent=ctx, info_name=name), f"{path} {name}")
        return rows
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    return [(f"{path} {usage}".strip(), cmd.get_short_help_str(limit=300))]


def markdown() -> str:
    """The command table as markdown, one row per command."""
    from gridplan.cli import cli

    ctx = click.Context(cli, info_name="gridplan")
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `{usage}` | {text} |" for usage, text in _rows(cli, ctx, "gridplan")]
    return "\n".join(lines)


def block() -> str:
    """The full generated block including its markers."""
    return f"{START}\n{markdown()}\n{END}"


def write(readme: Path) -> None:
    """Replace the generated block in ``readme``."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + block() + tail, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(Path(sys.argv[2]))
    else:
        print(markdown())
