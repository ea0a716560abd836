"""``outreach schools ...``"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from outreach.core.cli_util import user_errors
from outreach.schools.models import PHASES
from outreach.schools.services import add_school

schools_cli = AppGroup("schools", help="Schools and trusts.")


@schools_cli.command("add")
@click.option("--urn", required=True, help="Unique reference number (6 to 8 digits).")
@click.option("--name", required=True)
@click.option("--phase", type=click.Choice(PHASES), default="primary", show_default=True)
@click.option("--la-code", default=None, help="Local authority code (3 digits).")
@click.option("--estab", default=None, help="Establishment number (4 digits).")
@click.option("--trust", "trust_name", default=None, help="Trust name (created if new).")
def add_command(urn: str, name: str, phase: str, la_code: str | None, estab: str | None, trust_name: str | None) -> None:
    """Add a school."""
    with user_errors():
        school = add_school(urn, name, phase, la_code, estab, trust_name)
    click.echo(f"added school {school.urn} {school.name} ({school.phase})")
