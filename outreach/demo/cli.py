"""``outreach demo``: a deterministic demonstration trust (thin: the work is in services)."""
from __future__ import annotations

from datetime import datetime

import click

from outreach.core.cli_util import user_errors
from outreach.core.errors import UserError
from outreach.core.timeutil import LONDON
from outreach.demo.generate import DEFAULT_SEED
from outreach.demo.services import load_demo, summary_lines


def _parse_as_of(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise UserError(f"--as-of must be a London date and time like 2026-12-01T11:00, got {raw!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


@click.command("demo")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="The same seed gives the same pupils, contacts and marks.")
@click.option("--if-empty", is_flag=True, help="Do nothing when any school exists (first start of scripts/run).")
@click.option("--scale", type=click.FloatRange(0.05, 1.0), default=1.0, show_default=True,
              help="Shrink every year group (1.0: about 300, 1,200 and 150 pupils).")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DDTHH:MM",
              help="Pretend it is this London time (marks run to the day before; today's morning after 10:00).")
def demo_command(seed: int, if_empty: bool, scale: float, as_of: str | None) -> None:
    """Build the demo trust: three schools, 2025/26 and this year's marks, contacts, sign-ins."""
    with user_errors():
        report = load_demo(seed, scale=scale, now=_parse_as_of(as_of), if_empty=if_empty, echo=click.echo)
    for line in summary_lines(report):
        click.echo(line)
