"""``outreach attendance ...`` and ``outreach report ...``"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from outreach.attendance import queries, reports, rollups
from outreach.attendance.periods import parse_date, resolve_range
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


def _range_options(command):
    command = click.option("--to", "date_to", default=None, metavar="YYYY-MM-DD",
                           help="Last day (inclusive); default today.")(command)
    command = click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD",
                           help="First day; default 1 September of the academic year of --to.")(command)
    return click.option("--school", "urn", required=True, help="The school's URN.")(command)


def _resolve(date_from: str | None, date_to: str | None):
    start = parse_date(date_from, "--from") if date_from is not None else None
    end = parse_date(date_to, "--to") if date_to is not None else None
    return resolve_range(start, end)


@report_cli.command("attendance")
@_range_options
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), default="csv", show_default=True)
def attendance_report(urn: str, date_from: str | None, date_to: str | None, fmt: str) -> None:
    """One row per pupil with possible sessions in the range, sorted by UPN."""
    with user_errors():
        rng = _resolve(date_from, date_to)
        school = get_school(urn)
        rows = reports.attendance_rows(queries.pupil_measures(school.id, rng.start, rng.end))
    text = reports.to_csv(reports.ATTENDANCE_COLUMNS, rows) if fmt == "csv" else reports.to_json(rows)
    click.echo(text, nl=False)


@report_cli.command("school")
@_range_options
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), default="json", show_default=True)
def school_report(urn: str, date_from: str | None, date_to: str | None, fmt: str) -> None:
    """The school's totals, attendance, absence, persistent and severe absence."""
    with user_errors():
        rng = _resolve(date_from, date_to)
        school = get_school(urn)
        row = reports.school_row(queries.school_measures(school.id, rng.start, rng.end))
    text = reports.to_csv(reports.SCHOOL_COLUMNS, [row]) if fmt == "csv" else reports.to_json(row)
    click.echo(text, nl=False)
