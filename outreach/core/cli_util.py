"""Helpers the feature CLIs share: turning service errors into messages and exit codes."""
from __future__ import annotations

import sys
from datetime import date
from contextlib import contextmanager
from typing import Iterator

import click

from outreach.core.errors import UserError


def date_option(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD option value (None when not given), or a UserError naming the option."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a UserError (with its details) to stderr and exit 1, instead of a traceback."""
    try:
        yield
    except UserError as exc:
        click.echo(f"error: {exc.message}", err=True)
        details = exc.details
        if isinstance(details, list):
            for line in details:
                click.echo(f"  {line}", err=True)
        elif details:
            click.echo(f"  {details}", err=True)
        sys.exit(1)
