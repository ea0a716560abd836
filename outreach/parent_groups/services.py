"""What changes parent-group state: groups, members, meetings, who came, invitations and
reminders by SMS (through the outbox, keys ``pg-invite:{meeting}:{contact}`` and
``pg-remind:{meeting}:{contact}``). Validation first, then one commit."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import LONDON, to_london, utcnow
from outreach.extensions import db
from outreach.interventions.services import log_intervention
from outreach.messaging import placeholders
from outreach.messaging.compose import REASONS, OutgoingMessage, child_names, textable_phone
from outreach.messaging.models import MessageTemplate
from outreach.messaging.outbox import enqueue_many, is_opted_out
from outreach.messaging.quiet_hours import next_allowed_send
from outreach.messaging.quiet_hours_settings import policy_for_school
from outreach.messaging.templates import DEFAULT_BODIES, choose_variant, normalise_language, school_values
from outreach.parent_groups.models import (ParentGroup, ParentGroupAttendance, ParentGroupInvitation,
                                           ParentGroupMeeting, ParentGroupMember)
from outreach.schools import closures
from outreach.schools.models import Contact, Pupil, PupilContact, School
from outreach.walking_bus.times import DAY_LABELS, short_date

log = logging.getLogger(__name__)

REMINDER_TIME = time(16, 0)  # the day before, after the school run
DAY_NAMES = tuple(d.lower() for d in DAY_LABELS)


def parse_weekday(text: str | int) -> int:
    if isinstance(text, int):
        if 0 <= text <= 6:
            return text
        raise ValueError("the weekday must be 0 (Monday) to 6 (Sunday)")
    key = text.strip().lower()[:3]
    for i, name in enumerate(DAY_NAMES):
        if name.startswith(key) and len(key) == 3:
            return i
    raise ValueError(f"unknown day {text!r}: use monday ... sunday")


def _get(model, school_id: int, row_id: int, what: str):  # type: ignore[no-untyped-def]
    row = db.session.get(model, row_id) if 0 < row_id < 2**31 else None
    if row is None or row.school_id != school_id:
        raise NotFound(f"{what} not found")
    return row


def get_group(school_id: int, group_id: int) -> ParentGroup:
    return _get(ParentGroup, school_id, group_id, "Group")


def get_meeting(school_id: int, meeting_id: int) -> ParentGroupMeeting:
    return _get(ParentGroupMeeting, school_id, meeting_id, "Meeting")


def _contact(school_id: int, contact_id: int) -> Contact:
    return _get(Contact, school_id, contact_id, "Contact")


def create_group(school: School, *, name: str, weekday: str | int, start_time: time, place: str,
                 purpose: str | None = None, created_by: str | None = None) -> ParentGroup:
    problems = []
    name, place = (name or "").strip(), (place or "").strip()
    if not name or len(name) > 100:
        problems.append("give the group a name (up to 100 characters)")
    if not place or len(place) > 200:
        problems.append("say where the group meets (up to 200 characters)")
    if purpose and len(purpose) > 500:
        problems.append("the purpose is over 500 characters")
    try:
        day = parse_weekday(weekday)
    except ValueError as exc:
        problems.append(str(exc))
        day = 0
    if name and db.session.scalar(select(ParentGroup.id).where(ParentGroup.school_id == school.id, ParentGroup.name == name)):
        problems.append(f"this school already has a group called {name!r}")
    if problems:
        raise UserError("the group cannot be created", details=problems)
    group = ParentGroup(school_id=school.id, name=name, purpose=(purpose or "").strip() or None, weekday=day,
                        start_time=start_time, place=place, created_by=created_by)
    db.session.add(group)
    db.session.commit()
    return group


def add_member(school: School, group_id: int, contact_id: int, *, joined_on: date, reminders: bool = True,
               commit: bool = True) -> ParentGroupMember:
    group = get_group(school.id, group_id)
    contact = _contact(school.id, contact_id)
    member = db.session.scalar(select(ParentGroupMember).where(ParentGroupMember.group_id == group.id,
                                                               ParentGroupMember.contact_id == contact.id))
    if member is not None and member.left_on is None:
        raise UserError("this contact is already a member of the group")
    if member is None:
        member = ParentGroupMember(school_id=school.id, group_id=group.id, contact_id=contact.id, joined_on=joined_on)
        db.session.add(member)
    member.left_on, member.reminders = None, reminders
    db.session.flush()
    if commit:
        db.session.commit()
    return member


def remove_member(school: School, group_id: int, contact_id: int, *, left_on: date) -> ParentGroupMember:
    member = db.session.scalar(select(ParentGroupMember).where(ParentGroupMember.school_id == school.id,
                                                               ParentGroupMember.group_id == group_id,
                                                               ParentGroupMember.contact_id == contact_id))
    if member is None:
        raise NotFound("Member not found")
    if left_on < member.joined_on:
        raise UserError("a member cannot leave before joining")
    member.left_on = left_on
    db.session.commit()
    return member


def schedule_meeting(school: School, group_id: int, day: date, *, start_time: time | None = None,
                     place: str | None = None, notes: str | None = None) -> ParentGroupMeeting:
    group = get_group(school.id, group_id)
    if db.session.scalar(select(ParentGroupMeeting.id).where(ParentGroupMeeting.group_id == group.id,
                                                             ParentGroupMeeting.date == day)):
        raise UserError(f"the group already meets on {day:%d %b %Y}")
    if place and len(place) > 200:
        raise UserError("the place is over 200 characters")
    meeting = ParentGroupMeeting(school_id=school.id, group_id=group.id, date=day, start_time=start_time or group.start_time,
                                 place=(place or "").strip() or group.place, notes=(notes or "").strip() or None)
    db.session.add(meeting)
    db.session.commit()
    return meeting


def ensure_meetings(school: School, group: ParentGroup, from_day: date, weeks: int = 3) -> int:
    """Create the group's weekly meetings for the next ``weeks`` weeks (existing ones kept), but
    none on a day the school is closed: a coffee morning in half term has nobody to meet (an
    officer can still schedule one on such a day by hand)."""
    existing = set(db.session.scalars(select(ParentGroupMeeting.date).where(ParentGroupMeeting.group_id == group.id,
                                                                            ParentGroupMeeting.date >= from_day)))
    first = from_day + timedelta(days=(group.weekday - from_day.weekday()) % 7)
    closed = closures.closed_days(school.id, first, first + timedelta(weeks=weeks))
    made = 0
    for i in range(weeks):
        day = first + timedelta(weeks=i)
        if day not in existing and day not in closed:
            db.session.add(ParentGroupMeeting(school_id=school.id, group_id=group.id, date=day,
                                              start_time=group.start_time, place=group.place))
            made += 1
    db.session.commit()
    return made


def record_attendance(school: School, meeting_id: int, contact_ids: Iterable[int], *,
                      today: date | None = None) -> ParentGroupMeeting:
    """Who came (replaces the list). A contact who came but was not a member joins on that day."""
    meeting = get_meeting(school.id, meeting_id)
    today = today or to_london(utcnow()).date()
    if meeting.date > today:
        raise UserError("attendance can be recorded on or after the day of the meeting")
    ids = sorted(set(contact_ids))
    contacts = {c.id for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids), Contact.school_id == school.id))}
    if stray := [i for i in ids if i not in contacts]:
        raise UserError("some people are not contacts of this school", details=[f"contact id {i}" for i in stray])
    members = {m.contact_id: m for m in db.session.scalars(select(ParentGroupMember).where(
        ParentGroupMember.group_id == meeting.group_id))}
    for cid in ids:
        if cid not in members:
            add_member(school, meeting.group_id, cid, joined_on=meeting.date, commit=False)
        elif members[cid].left_on is not None and members[cid].left_on < meeting.date:
            members[cid].left_on = None
    meeting.attendees = [ParentGroupAttendance(meeting_id=meeting.id, contact_id=cid, school_id=school.id) for cid in ids]
    meeting.attendance_recorded_at = utcnow()
    db.session.commit()
    return meeting


def contact_pupils(contact_ids: Iterable[int]) -> dict[int, list[Pupil]]:
    out: dict[int, list[Pupil]] = {}
    ids = list(contact_ids)
    if not ids:
        return out
    for contact_id, pupil in db.session.execute(select(PupilContact.contact_id, Pupil).join(Pupil, Pupil.id == PupilContact.pupil_id)
                                                .where(PupilContact.contact_id.in_(ids)).order_by(Pupil.id)):
        out.setdefault(contact_id, []).append(pupil)
    return out


def _body(school: School, contact: Contact, meeting: ParentGroupMeeting, group: ParentGroup, kids: list[Pupil]) -> tuple[str, str]:
    template = db.session.scalar(select(MessageTemplate).where(MessageTemplate.school_id == school.id,
                                                               MessageTemplate.name == "parent_group_invite"))
    if template is not None:
        variant = choose_variant(template, normalise_language(contact.preferred_language))
        body, language = variant.body, variant.language
    else:
        body, language = DEFAULT_BODIES["parent_group_invite"], "en"
    values = {**school_values(school), "parent_name": contact.name.strip(), "group_name": group.name,
              "date": f"{DAY_LABELS[meeting.date.weekday()]} {meeting.date.day} {meeting.date:%B}",
              "time": f"{meeting.start_time:%H:%M}", "place": meeting.place,
              "child_names": child_names(kids, language) if kids else "your family"}
    if "school_phone" in placeholders.placeholders_in(body) and "school_phone" not in values:
        raise UserError("the invitation uses {school_phone} but the school has no phone number: add one")
    return placeholders.render(body, values), language


@dataclass
class InviteResult:
    invited: list[int] = field(default_factory=list)  # contact ids texted (or blocked by an opt-out)
    not_sent: dict[int, str] = field(default_factory=dict)  # contact id -> reason
    already: list[int] = field(default_factory=list)


def invite(school: School, meeting_id: int, contact_ids: Iterable[int], *, by: str,
           now: datetime | None = None) -> InviteResult:
    """Invite contacts to a meeting by text: one invitation per contact per meeting (asking
    again does nothing), sent through the outbox within the school's quiet hours, and logged as a
    ``parent_group_invitation`` intervention for the contact's children."""
    now = now or utcnow()
    meeting = get_meeting(school.id, meeting_id)
    group = get_group(school.id, meeting.group_id)
    if meeting.cancelled:
        raise UserError("the meeting is cancelled")
    if meeting.date < to_london(now).date():
        raise UserError("the meeting has already happened")
    ids = sorted(set(contact_ids))
    if not ids:
        raise UserError("choose at least one person to invite")
    contacts = {cid: _contact(school.id, cid) for cid in ids}
    done = set(db.session.scalars(select(ParentGroupInvitation.contact_id).where(
        ParentGroupInvitation.meeting_id == meeting.id, ParentGroupInvitation.contact_id.in_(ids))))
    kids = contact_pupils(ids)
    result = InviteResult(already=sorted(done & set(ids)))
    messages = []
    policy = policy_for_school(school.id)
    for cid in ids:
        if cid in done:
            continue
        contact = contacts[cid]
        phone, problem = textable_phone(contact, school.id, is_opted_out)
        row = ParentGroupInvitation(school_id=school.id, group_id=group.id, meeting_id=meeting.id, contact_id=cid,
                                    invited_by=by, invited_at=now)
        if phone is None:
            row.not_sent_reason = REASONS[problem[0]] if problem else "cannot be texted"
            result.not_sent[cid] = row.not_sent_reason
        else:
            body, language = _body(school, contact, meeting, group, kids.get(cid, []))
            row.outbox_key = f"pg-invite:{meeting.id}:{cid}"
            messages.append(OutgoingMessage(school_id=school.id, contact_id=cid, phone=phone, body=body, language=language,
                                            purpose="parent_group_invite", pupil_ids=tuple(p.id for p in kids.get(cid, [])),
                                            not_before_utc=next_allowed_send(now.astimezone(timezone.utc), policy),
                                            idempotency_key=row.outbox_key))
            result.invited.append(cid)
        if kids.get(cid):
            row.intervention_id = log_intervention(
                school, type="parent_group_invitation", pupil_ids=[p.id for p in kids[cid]], recorded_by=by, now=now,
                outcome=f"Invited to {group.name} on {meeting.date:%d %b %Y}"
                        + ("" if phone else f" (not texted: {row.not_sent_reason})"), commit=False).id
        db.session.add(row)
    enqueue_many(messages, created_by=by)
    db.session.commit()
    return result


def send_meeting_reminders(school: School, day: date, *, now: datetime | None = None) -> int:
    """The day-before reminder to members who want reminders, for meetings on ``day``."""
    now = now or utcnow()
    policy = policy_for_school(school.id)
    out = []
    for meeting in db.session.scalars(select(ParentGroupMeeting).where(
            ParentGroupMeeting.school_id == school.id, ParentGroupMeeting.date == day,
            ParentGroupMeeting.cancelled.is_(False))):
        group = get_group(school.id, meeting.group_id)
        members = db.session.scalars(select(ParentGroupMember).where(
            ParentGroupMember.group_id == group.id, ParentGroupMember.reminders.is_(True),
            ParentGroupMember.joined_on <= day,
            (ParentGroupMember.left_on.is_(None)) | (ParentGroupMember.left_on >= day)))
        for member in members:
            contact = db.session.get(Contact, member.contact_id)
            phone, _ = textable_phone(contact, school.id, is_opted_out)
            if phone is None:
                continue
            body = (f"Hello {contact.name.strip().split()[0]}, a reminder: {group.name} meets {short_date(day)} at "
                    f"{meeting.start_time:%H:%M}, {meeting.place}. All welcome. {school.name}. Reply STOP to opt out")
            out.append(OutgoingMessage(school_id=school.id, contact_id=contact.id, phone=phone, body=body, language="en",
                                       purpose="parent_group_reminder", pupil_ids=(),
                                       not_before_utc=next_allowed_send(now.astimezone(timezone.utc), policy),
                                       idempotency_key=f"pg-remind:{meeting.id}:{contact.id}"))
    enqueue_many(out, created_by="parent groups")
    db.session.commit()
    return len(out)


def reminder_due(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=1), REMINDER_TIME, LONDON).astimezone(timezone.utc)


def meeting_start(meeting: ParentGroupMeeting) -> datetime:
    return datetime.combine(meeting.date, meeting.start_time, LONDON).astimezone(timezone.utc)
