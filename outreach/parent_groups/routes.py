"""Parent-group pages: groups, members (with their children, for the officer), meetings with who
came, invitations by text, and impact. Thin views over ``services`` and ``queries``."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from outreach.core import audit
from outreach.core.scoping import can_write, require_school, visible_schools
from outreach.core.timeutil import london_today
from outreach.extensions import db
from outreach.parent_groups import queries, services
from outreach.parent_groups.models import ParentGroup
from outreach.schools.models import Contact
from outreach.walking_bus import forms
from outreach.walking_bus.routes import MAX_CHOICES
from outreach.walking_bus.times import DAY_LABELS

bp = Blueprint("parent_groups", __name__, url_prefix="/parent-groups")


@bp.get("")
@login_required
def index():  # type: ignore[no-untyped-def]
    schools = visible_schools(current_user)[:200]
    ids = [s.id for s in schools]
    counts = dict(db.session.execute(select(ParentGroup.school_id, func.count()).where(ParentGroup.school_id.in_(ids))
                                     .group_by(ParentGroup.school_id)).all()) if ids else {}
    return render_template("parent_groups/index.html", schools=schools, counts=counts)


@bp.get("/<urn>")
@login_required
def school(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    return render_template("parent_groups/school.html", school=school, groups=queries.groups(school.id),
                           can_write=can_write(current_user, school), day_labels=DAY_LABELS)


@bp.post("/<urn>/groups")
@login_required
def create_group(urn: str):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        group = services.create_group(school, name=forms.text("name", required=True, max_len=100) or "",
                                      purpose=forms.text("purpose", max_len=500),
                                      weekday=forms.integer("weekday", lo=0, hi=6), start_time=forms.clock("start_time"),
                                      place=forms.text("place", required=True, max_len=200) or "", created_by=current_user.email)
        services.ensure_meetings(school, group, london_today())
        return f"{group.name} created, with its next three weekly meetings."
    return forms.change(urn, act, url_for("parent_groups.school", urn=urn))


@bp.get("/<urn>/groups/<int:group_id>")
@login_required
def group(urn: str, group_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    group = services.get_group(school.id, group_id)
    members = queries.members(group)
    weeks = forms.weeks_arg()
    member_ids = {m.contact.id for m in members}
    contacts = [c for c in db.session.scalars(select(Contact).where(Contact.school_id == school.id)
                                              .order_by(Contact.name).limit(MAX_CHOICES)) if c.id not in member_ids]
    audit.record("pupils.list", school=school, pupil_ids=[p.id for m in members for p in m.pupils],
                 detail={"parent_group": group.id})
    return render_template("parent_groups/group.html", school=school, group=group, members=members,
                           meetings=queries.meetings(group), impact=queries.group_impact(school.id, group.id, weeks=weeks),
                           weeks=weeks, contacts=contacts, can_write=can_write(current_user, school),
                           today=london_today(), day_labels=DAY_LABELS)


@bp.post("/<urn>/groups/<int:group_id>/members")
@login_required
def add_member(urn: str, group_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        services.add_member(school, group_id, forms.integer("contact_id", lo=1),
                            joined_on=forms.day("joined_on", required=False, default=london_today()) or london_today(),
                            reminders=forms.checked("reminders"))
        return "Member added."
    return forms.change(urn, act, url_for("parent_groups.group", urn=urn, group_id=group_id))


@bp.post("/<urn>/groups/<int:group_id>/meetings")
@login_required
def add_meeting(urn: str, group_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        meeting = services.schedule_meeting(school, group_id, forms.day("date"), start_time=forms.clock("start_time", required=False),
                                            place=forms.text("place", max_len=200), notes=forms.text("notes", max_len=2000))
        return f"Meeting on {meeting.date:%d %b %Y} added."
    return forms.change(urn, act, url_for("parent_groups.group", urn=urn, group_id=group_id))


@bp.get("/<urn>/meetings/<int:meeting_id>")
@login_required
def meeting(urn: str, meeting_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    meeting = services.get_meeting(school.id, meeting_id)
    group = services.get_group(school.id, meeting.group_id)
    came = {a.contact_id for a in meeting.attendees}
    from outreach.parent_groups.models import ParentGroupInvitation

    invited = {i.contact_id: i for i in db.session.scalars(select(ParentGroupInvitation).where(
        ParentGroupInvitation.meeting_id == meeting.id))}
    members = queries.members(group)
    others = [c for c in db.session.scalars(select(Contact).where(Contact.school_id == school.id).order_by(Contact.name)
                                            .limit(MAX_CHOICES)) if c.id not in {m.contact.id for m in members}]
    names = dict(db.session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(list(invited)))).all()) if invited else {}
    return render_template("parent_groups/meeting.html", school=school, group=group, meeting=meeting, came=came,
                           invited=invited, names=names, members=members, others=others, today=london_today(),
                           can_write=can_write(current_user, school), day_labels=DAY_LABELS)


@bp.post("/<urn>/meetings/<int:meeting_id>/attendance")
@login_required
def attendance(urn: str, meeting_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        meeting = services.record_attendance(school, meeting_id, forms.ids("came"))
        return f"Attendance saved: {len(meeting.attendees)} came."
    return forms.change(urn, act, url_for("parent_groups.meeting", urn=urn, meeting_id=meeting_id))


@bp.post("/<urn>/meetings/<int:meeting_id>/invite")
@login_required
def invite(urn: str, meeting_id: int):  # type: ignore[no-untyped-def]
    def act(school):  # type: ignore[no-untyped-def]
        result = services.invite(school, meeting_id, forms.ids("contact_ids"), by=current_user.email)
        parts = [f"{len(result.invited)} invited by text"]
        if result.already:
            parts.append(f"{len(result.already)} already invited")
        if result.not_sent:
            parts.append(f"{len(result.not_sent)} could not be texted (see the list)")
        return "; ".join(parts) + "."
    return forms.change(urn, act, url_for("parent_groups.meeting", urn=urn, meeting_id=meeting_id))
