"""Parent groups: members, meetings, who came, invitations and reminders through the outbox."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import to_london
from outreach.extensions import db
from outreach.interventions.models import Intervention
from outreach.messaging.models import OutboxMessage
from outreach.messaging.templates import ensure_default_templates
from outreach.parent_groups import jobs, queries, services
from outreach.parent_groups.models import ParentGroupInvitation
from tests.factories import make_contact, make_pupil, make_school

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 2, 26, 10, 0, tzinfo=timezone.utc)  # a Thursday


def _group(school):  # type: ignore[no-untyped-def]
    return services.create_group(school, name="Brew and Biscuits", weekday="mon", start_time=time(9, 0),
                                 place="the community room", purpose="A cuppa and a chat after drop-off")


def test_group_validation(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    _group(school)
    with pytest.raises(UserError) as err:
        services.create_group(school, name="Brew and Biscuits", weekday="someday", start_time=time(9), place="")
    assert len(err.value.details) == 3


def test_invitations_are_texted_once_logged_and_explain_who_was_not_reached(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    ensure_default_templates(school)
    group = _group(school)
    meeting = services.schedule_meeting(school, group.id, MONDAY)
    kid = make_pupil(school, forename="Amira")
    mum = make_contact(school, [kid], name="Ms Khan", phone="+447700900401")
    no_consent = make_contact(school, [make_pupil(school)], name="Mr Lee", phone="+447700900402", sms_consent=False)
    result = services.invite(school, meeting.id, [mum.id, no_consent.id], by="officer", now=NOW)
    assert result.invited == [mum.id] and result.not_sent == {no_consent.id: "has not consented to text messages"}
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"pg-invite:{meeting.id}:{mum.id}"))
    assert row.body.startswith("Hello Ms Khan, you are warmly invited to Brew and Biscuits on Monday 2 March at 09:00, "
                               "the community room.") and row.pupil_ids == [kid.id]
    assert db.session.scalar(select(func.count()).select_from(Intervention).where(
        Intervention.type == "parent_group_invitation")) == 2
    again = services.invite(school, meeting.id, [mum.id], by="officer", now=NOW)
    assert again.already == [mum.id] and not again.invited
    assert db.session.scalar(select(func.count()).select_from(ParentGroupInvitation)) == 2
    with pytest.raises(NotFound):
        services.invite(school, meeting.id, [make_contact(make_school(urn="100009"), name="X").id], by="officer", now=NOW)


def test_reminders_day_before_for_members_who_want_them(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    group = _group(school)
    services.ensure_meetings(school, group, MONDAY - timedelta(days=3), weeks=2)
    a = make_contact(school, [], name="Ann Able", phone="+447700900411")
    b = make_contact(school, [], name="Bo Busy", phone="+447700900412")
    services.add_member(school, group.id, a.id, joined_on=MONDAY - timedelta(days=30))
    services.add_member(school, group.id, b.id, joined_on=MONDAY - timedelta(days=30), reminders=False)
    # Sunday 16:00 London (GMT) is the reminder time for Monday; Sunday is a closed day for
    # parent texts, so the outbox row waits until Monday 08:00.
    assert jobs.send_group_reminders(datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc)) == 0
    assert jobs.send_group_reminders(datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)) == 1
    assert jobs.send_group_reminders(datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc)) == 1  # same key, no new row
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "parent_group_reminder")))
    assert len(rows) == 1 and rows[0].phone == "+447700900411"
    assert to_london(rows[0].not_before).strftime("%a %H:%M") == "Mon 08:00"
    assert "Brew and Biscuits meets Mon 2 Mar at 09:00" in rows[0].body


def test_attendance_and_members_pupils_visible(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    group = _group(school)
    meeting = services.schedule_meeting(school, group.id, MONDAY)
    kids = [make_pupil(school, forename="Amira"), make_pupil(school, forename="Yusuf")]
    mum = make_contact(school, kids, name="Ms Khan", phone="+447700900421")
    with pytest.raises(UserError, match="on or after the day"):
        services.record_attendance(school, meeting.id, [mum.id], today=MONDAY - timedelta(days=1))
    services.record_attendance(school, meeting.id, [mum.id], today=MONDAY)  # came without joining: now a member
    rows = queries.members(group)
    assert [(r.contact.name, [p.forename for p in r.pupils], r.meetings_attended) for r in rows] == [
        ("Ms Khan", ["Amira", "Yusuf"], 1)]
    assert queries.meetings(group) == [(meeting, 1)]


def test_cli_create_invite_attendance_list(runner, db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    mum = make_contact(school, [make_pupil(school)], name="Ms Khan", phone="+447700900441")
    db.session.commit()
    out = runner.invoke(args=["parent-groups", "create", "--school", "100001", "--name", "Brew and Biscuits", "--day", "monday",
                              "--time", "09:00", "--place", "Hall"])
    assert out.exit_code == 0 and "with 3 meetings planned" in out.output, out.output
    meeting = queries.meetings(queries.groups(school.id)[0])[-1][0]
    out = runner.invoke(args=["parent-groups", "invite", "--school", "100001", "--meeting", str(meeting.id), "--phone", "+447700900441"])
    assert "1 invited" in out.output
    out = runner.invoke(args=["parent-groups", "attendance", "--school", "100001", "--meeting", str(meeting.id),
                              "--contact", str(mum.id), "--on", meeting.date.isoformat()])
    assert "1 came" in out.output
    out = runner.invoke(args=["parent-groups", "list", "--school", "100001"])
    assert "Brew and Biscuits" in out.output and "1 came" in out.output
    out = runner.invoke(args=["parent-groups", "create", "--school", "100001", "--name", "X", "--day", "someday",
                              "--time", "09:00", "--place", "Hall"])
    assert out.exit_code == 1 and "unknown day" in out.output
