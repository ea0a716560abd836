"""``outreach digest send|preview|list``."""
from __future__ import annotations

import base64
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from outreach.core.cli_util import user_errors
from outreach.core.errors import NotFound
from outreach.core.timeutil import to_london, utcnow
from outreach.digests import services
from outreach.digests.models import Digest
from outreach.extensions import db
from outreach.schools.models import School


@click.group("digest", help="The weekly digest for heads (docs/digest.md).")
def digest_cli() -> None:
    pass


def _school(urn: str) -> School:
    school = db.session.scalar(select(School).where(School.urn == urn.strip()))
    if school is None:
        raise NotFound(f"no school with URN {urn}")
    return school


_week = click.option("--week", help="ISO week, e.g. 2026-W48 (default: the last complete week)")
_urn = click.option("--school", "urn", required=True, help="the school's URN")


@digest_cli.command("send")
@_urn
@_week
@click.option("--force", is_flag=True, help="send again even if already sent (or interrupted), or a week without sessions")
@with_appcontext
def send_command(urn: str, week: str | None, force: bool) -> None:
    """Build, archive and send one school's digest (once per school-week unless --force)."""
    with user_errors():
        school = _school(urn)
        now = utcnow()
        outcome = services.send_digest(school, services.week_or_default(week, now), now=now, force=force)
    d = outcome.digest
    messages = {
        "sent": f"sent digest {d.week} for {school.urn} to {len(d.recipients)} recipient(s)",
        "already_sent": f"digest {d.week} for {school.urn} was already sent on "
                        f"{to_london(d.sent_at).strftime('%d %b %Y %H:%M') if d.sent_at else '?'} (use --force to send again)",
        "in_progress": f"digest {d.week} for {school.urn} is being sent or was interrupted while sending "
                       "(check the recipients' inboxes; --force sends it again)",
        "skipped": f"digest {d.week} for {school.urn} archived, not sent: {d.skip_reason}",
        "failed": f"digest {d.week} for {school.urn} could not be sent: {d.last_error}",
    }
    click.echo(messages[outcome.reason], err=outcome.reason == "failed")
    if outcome.reason == "failed":
        raise SystemExit(1)


@digest_cli.command("preview")
@_urn
@_week
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True),
              help="also write the HTML email here (chart embedded) to open in a browser")
@with_appcontext
def preview_command(urn: str, week: str | None, html_path: str | None) -> None:
    """Print the plain-text digest as it would be sent; nothing is archived or sent."""
    with user_errors():
        school = _school(urn)
        now = utcnow()
        rendered = services.preview(school, services.week_or_default(week, now), now)
    click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.text)
    if html_path:
        html = rendered.html
        for cid, png in rendered.images.values():
            html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
        Path(html_path).write_text(html, encoding="utf-8")
        click.echo(f"HTML written to {html_path}", err=True)


@digest_cli.command("list")
@_urn
@with_appcontext
def list_command(urn: str) -> None:
    """The school's archived digests, newest first."""
    with user_errors():
        school = _school(urn)
    rows = db.session.scalars(select(Digest).where(Digest.school_id == school.id).order_by(Digest.week_start.desc()))
    for d in rows:
        when = to_london(d.sent_at).strftime("%d %b %Y %H:%M") if d.sent_at else ""
        click.echo(f"{d.week}  {d.status:8} {when:18} {len(d.recipients)} recipient(s)"
                   + (f"  {d.skip_reason}" if d.skip_reason else "") + (f"  {d.last_error}" if d.last_error else ""))
