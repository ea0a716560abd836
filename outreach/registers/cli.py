"""``outreach import pupils|contacts|registers FILE --school URN``.

A progress bar on a terminal (tqdm, to stderr; off when stderr is not a tty, so logs and CI
output stay clean), the errors (first 50 and a count of the rest) and a non-zero exit on failure,
and one summary line on success: ``added N, changed N, unchanged N, not taken N``.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup

from outreach.core.cli_util import user_errors
from outreach.registers.report import ImportReport

import_cli = AppGroup("import", help="Import pupils, contacts and registers from MIS exports.")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=label, unit=" rows", file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(max(done - bar.n, 0))

    try:
        yield update
    finally:
        bar.close()


def _describe(error: dict) -> str:
    where = [f"{error['file']}"]
    if "line" in error:
        where.append(f"line {error['line']}")
    if "pupil" in error:
        where.append(f"pupil {error['pupil']}")
    if "element" in error:
        where.append(str(error["element"]))
    if "field" in error:
        where.append(f"field {error['field']}")
    value = f" value {error['value']!r}" if "value" in error else ""
    return f"{', '.join(where)}:{value} {error['message']}"


def _print(report: ImportReport, verbose: bool) -> None:
    if not report.ok:
        for error in report.errors:
            click.echo(f"  {_describe(error)}", err=True)
        if report.error_count > len(report.errors):
            click.echo(f"  ... and {report.error_count - len(report.errors)} more errors", err=True)
        if report.unknown_upns:
            shown = ", ".join(report.unknown_upns[:200])
            extra = f" and {len(report.unknown_upns) - 200} more" if len(report.unknown_upns) > 200 else ""
            click.echo(f"  unknown UPNs ({len(report.unknown_upns)}): {shown}{extra}", err=True)
        click.echo(f"error: {report.file_name}: {report.summary()}", err=True)
        sys.exit(1)
    if report.warning_count:
        click.echo(f"note: {report.warning_count} session{'s' if report.warning_count != 1 else ''} with no mark taken "
                   "yet ('-' or blank) were skipped", err=True)
        if verbose:
            for warning in report.warnings:
                click.echo(f"  {_describe(warning)}", err=True)
    if report.changes and (report.dry_run or verbose):
        click.echo("changes" + (" that would be made" if report.dry_run else "") + f" (first {len(report.changes)}):")
        for change in report.changes:
            if "session" in change:
                click.echo(f"  {change['upn']} {change['date']} {change['session']}: {change['old']} -> {change['new']}")
            else:
                click.echo(f"  {change['upn']} {change['field']}: {change['old']} -> {change['new']}")
    if report.date_from:
        click.echo(f"{report.file_name}: {report.format}, {report.rows} sessions for {report.pupils_in_file} pupils, "
                   f"{report.date_from.isoformat()} to {report.date_to.isoformat() if report.date_to else ''}"
                   + (f", {report.pupils_created} pupils created" if report.pupils_created else ""))
    suffix = f" (import {report.batch_id})" if report.batch_id else ""
    click.echo(report.summary() + suffix)


_dry_run = click.option("--dry-run", is_flag=True, help="Check the file and say what would change; write nothing.")
_school = click.option("--school", "urn", required=True, help="The school's URN.")
_verbose = click.option("--verbose", "-v", is_flag=True, help="List every change and skipped session shown in the report.")
_mapping = click.option("--mapping", default=None, help="A built-in mapping name (sims, arbor, bromcom) or a JSON mapping file.")


@import_cli.command("registers")
@click.argument("file", type=_FILE)
@_school
@click.option("--format", "fmt", type=click.Choice(["auto", "long", "wide", "ctf"]), default="auto", show_default=True)
@_mapping
@_dry_run
@_verbose
def registers_command(file: Path, urn: str, fmt: str, mapping: str | None, dry_run: bool, verbose: bool) -> None:
    """Import attendance marks (long CSV, wide CSV or CTF XML)."""
    from outreach.registers.services import import_registers

    with user_errors(), _progress_bar("registers") as progress:
        report = import_registers(urn, file, format=fmt, mapping=mapping, dry_run=dry_run, created_by="cli",
                                  progress=progress)
    _print(report, verbose)


def _roster(kind: str, file: Path, urn: str, mapping: str | None, dry_run: bool, verbose: bool) -> None:
    from outreach.schools import roster

    service = roster.import_pupils if kind == "pupils" else roster.import_contacts
    with user_errors(), _progress_bar(kind) as progress:
        report = service(urn, file, mapping=mapping, dry_run=dry_run, progress=progress)
    _print(report, verbose)


@import_cli.command("pupils")
@click.argument("file", type=_FILE)
@_school
@_mapping
@_dry_run
@_verbose
def pupils_command(file: Path, urn: str, mapping: str | None, dry_run: bool, verbose: bool) -> None:
    """Create or update pupils from a CSV (matched by UPN)."""
    _roster("pupils", file, urn, mapping, dry_run, verbose)


@import_cli.command("contacts")
@click.argument("file", type=_FILE)
@_school
@_mapping
@_dry_run
@_verbose
def contacts_command(file: Path, urn: str, mapping: str | None, dry_run: bool, verbose: bool) -> None:
    """Link parents and carers to pupils from a CSV (siblings share a contact)."""
    _roster("contacts", file, urn, mapping, dry_run, verbose)
