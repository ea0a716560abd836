"""``outreach attendance ...`` and ``outreach report ...``"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from outreach.attendance import rollups
from outreach.core.cli_util import user_errors
from outreach.extensions import db
from outreach.schools.services import get_school

attendance_cli = AppGroup("attendance", help="Attendance figures kept from marks.")
report_cli = AppGroup("report", help="Attendance reports (CSV or JSON).")


@attendance_cli.command("rebuild")
@click.option("--school", "urn", default=None, help="URN; all schools when omitted.")
def rebuild_command(urn: str | None) -> None:
    """Recompute every pupil-week rollup from the marks."""
    with user_errors():
        school_id = get_school(urn).id if urn else None
        written = rollups.rebuild(db.session, school_id)
        db.session.commit()
    click.echo(f"rebuilt {written} pupil-week rows")
