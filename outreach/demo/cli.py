"""``outreach demo``: a deterministic demonstration trust."""
from __future__ import annotations

import click


@click.command("demo")
def demo_command() -> None:
    """Build the demo trust (three schools, a full year of marks)."""
    raise click.ClickException("not built yet")
