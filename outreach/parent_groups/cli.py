"""``outreach parent-groups ...``: groups, meetings and invitations from a terminal. Thin."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from outreach.core.cli_util import date_option, user_errors
from outreach.core.errors import NotFound
from outreach.core.timeutil import london_today
from outreach.extensions import db
from outreach.parent_groups import queries, services
from outreach.schools.models import Contact
from outreach.schools.services import get_school
from outreach.walking_bus.cli import _time
from outreach.walking_bus.times import DAY_LABELS

parent_groups_cli = AppGroup("parent-groups", help="Parent groups: groups, meetings, members, invitations.")
school_option = click.option("--school", "urn", required=True, help="School URN.")


@parent_groups_cli.command("list")
@school_option
def list_command(urn: str) -> None:
    with user_errors():
        school = get_school(urn)
        for group in queries.groups(school.id):
            click.echo(f"{group.id}\t{group.name}\t{DAY_LABELS[group.weekday]}s {group.start_time:%H:%M}\t{group.place}\t"
                       f"{len(queries.members(group))} members")
            for meeting, came in queries.meetings(group, limit=5):
                click.echo(f"\tmeeting {meeting.id} {meeting.date:%a %d %b %Y}" + (f": {came} came" if meeting.attendance_recorded_at else ""))


@parent_groups_cli.command("create")
@school_option
@click.option("--name", required=True)
@click.option("--day", required=True, help="monday ... sunday")
@click.option("--time", "start", required=True, help="e.g. 09:00")
@click.option("--place", required=True)
@click.option("--purpose", default=None)
def create_command(urn: str, name: str, day: str, start: str, place: str, purpose: str | None) -> None:
    with user_errors():
        school = get_school(urn)
        group = services.create_group(school, name=name, weekday=day, start_time=_time(start, "time"), place=place,
                                      purpose=purpose, created_by="cli")
        made = services.ensure_meetings(school, group, london_today())
        click.echo(f"group {group.id} created with {made} meetings planned")


@parent_groups_cli.command("invite")
@school_option
@click.option("--meeting", "meeting_id", required=True, type=int)
@click.option("--phone", "phones", multiple=True, required=True, help="A contact's phone; repeat.")
def invite_command(urn: str, meeting_id: int, phones: tuple[str, ...]) -> None:
    with user_errors():
        school = get_school(urn)
        ids = []
        for phone in phones:
            contact_id = db.session.scalar(select(Contact.id).where(Contact.school_id == school.id,
                                                                    Contact.phone == phone.strip()).order_by(Contact.id))
            if contact_id is None:
                raise NotFound(f"no contact with phone {phone} at this school")
            ids.append(contact_id)
        result = services.invite(school, meeting_id, ids, by="cli")
        click.echo(f"{len(result.invited)} invited, {len(result.already)} already invited, {len(result.not_sent)} not texted")
        for cid, reason in result.not_sent.items():
            click.echo(f"  contact {cid}: {reason}")


@parent_groups_cli.command("attendance")
@school_option
@click.option("--meeting", "meeting_id", required=True, type=int)
@click.option("--contact", "contact_ids", multiple=True, type=int, help="Contact id of someone who came; repeat.")
@click.option("--on", "today", default=None, help="Today's date, for recording late (default today).")
def attendance_command(urn: str, meeting_id: int, contact_ids: tuple[int, ...], today: str | None) -> None:
    with user_errors():
        meeting = services.record_attendance(get_school(urn), meeting_id, contact_ids,
                                             today=date_option(today, "--on") or london_today())
        click.echo(f"{len(meeting.attendees)} came to meeting {meeting.id}")
