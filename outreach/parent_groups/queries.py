"""Read helpers for parent-group pages and API: members with their children, meetings with who
came, and impact (one impact module: ``outreach.impact``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.impact.data import measure_programme
from outreach.impact.stats import MIN_PUPILS, ImpactResult
from outreach.parent_groups.models import ParentGroup, ParentGroupAttendance, ParentGroupMeeting, ParentGroupMember
from outreach.parent_groups.services import contact_pupils
from outreach.schools.models import Contact, Pupil


def groups(school_id: int) -> list[ParentGroup]:
    return list(db.session.scalars(select(ParentGroup).where(ParentGroup.school_id == school_id).order_by(ParentGroup.name)))


@dataclass
class MemberRow:
    member: ParentGroupMember
    contact: Contact
    pupils: list[Pupil]
    meetings_attended: int


def members(group: ParentGroup) -> list[MemberRow]:
    rows = list(db.session.execute(select(ParentGroupMember, Contact).join(Contact, Contact.id == ParentGroupMember.contact_id)
                                   .where(ParentGroupMember.group_id == group.id).order_by(Contact.name)))
    came = dict(db.session.execute(select(ParentGroupAttendance.contact_id, func.count()).join(
        ParentGroupMeeting, ParentGroupMeeting.id == ParentGroupAttendance.meeting_id)
        .where(ParentGroupMeeting.group_id == group.id).group_by(ParentGroupAttendance.contact_id)).all())
    kids = contact_pupils([c.id for _, c in rows])
    return [MemberRow(m, c, kids.get(c.id, []), int(came.get(c.id, 0))) for m, c in rows]


def meetings(group: ParentGroup, limit: int = 30) -> list[tuple[ParentGroupMeeting, int]]:
    rows = db.session.scalars(select(ParentGroupMeeting).where(ParentGroupMeeting.group_id == group.id)
                              .order_by(ParentGroupMeeting.date.desc()).limit(limit))
    return [(m, len(m.attendees)) for m in rows]


def participants(group_id: int) -> dict[int, date]:
    """Children of everyone who came to at least one meeting, from the first meeting a parent
    of theirs attended (joining on paper is not taking part)."""
    first: dict[int, date] = {}
    for contact_id, day in db.session.execute(
            select(ParentGroupAttendance.contact_id, func.min(ParentGroupMeeting.date))
            .join(ParentGroupMeeting, ParentGroupMeeting.id == ParentGroupAttendance.meeting_id)
            .where(ParentGroupMeeting.group_id == group_id).group_by(ParentGroupAttendance.contact_id)):
        first[contact_id] = day
    out: dict[int, date] = {}
    for contact_id, pupils in contact_pupils(first).items():
        for pupil in pupils:
            out[pupil.id] = min(first[contact_id], out.get(pupil.id, first[contact_id]))
    return out


def group_impact(school_id: int, group_id: int, weeks: int = 6, min_pupils: int = MIN_PUPILS) -> ImpactResult:
    """Children of parents who came, before and since, against similar pupils of the school whose
    parents are in no group."""
    in_any = set()
    for pupils in contact_pupils(db.session.scalars(select(ParentGroupMember.contact_id)
                                                    .where(ParentGroupMember.school_id == school_id))).values():
        in_any.update(p.id for p in pupils)
    return measure_programme(school_id, participants(group_id), label="children of parents who came", weeks=weeks,
                             min_pupils=min_pupils, exclude=in_any)
