"""``gridplan validate``: check a case as input data and list every problem found."""

from __future__ import annotations

import click

from gridplan.errors import CaseError
from gridplan.model.cases import load_case
from gridplan.model.validate import remarks, validate


@click.command("validate")
@click.argument("spec")
def validate_case(spec: str) -> None:
    """Check case SPEC as input data: print every problem found, or "no problems".

    Exit code 2 when there are problems. Remarks (valid data that changes what the numbers
    mean, such as placeholder ratings) are printed too but do not fail the check.
    """
    net = load_case(spec, validate=False)
    problems = validate(net)
    for note in remarks(net):
        click.echo(f"remark: {note}")
    if not problems:
        click.echo(f"{spec}: no problems")
        return
    for problem in problems:
        click.echo(f"{spec}: {problem}")
    raise CaseError(
        f"{spec}: {len(problems)} problem{'s' if len(problems) > 1 else ''} found",
        hint="docs/input-validation.md says what is checked",
    )


COMMANDS = [validate_case]
