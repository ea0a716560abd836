"""``/api/v1`` for parent groups: groups, members with their children (audited), meetings and
who came, invitations by text, impact."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from outreach.core import audit
from outreach.core.api import ApiBlueprint
from outreach.core.scoping import require_school
from outreach.interventions.schemas import ImpactQuery, ImpactResultOut
from outreach.parent_groups import queries, services
from outreach.walking_bus.api import CONFLICT, as_conflicts
from outreach.parent_groups.schemas import ContactIdsIn, GroupDetailOut, GroupListOut, InviteOut, MeetingOut

bp = ApiBlueprint("parent_groups_api", __name__, tag="Parent groups",
                  description="Parent groups, members, meetings, invitations and impact.")
BASE = "/schools/<urn>/parent-groups"


def _meeting_out(m: Any) -> dict[str, Any]:
    return {"id": m.id, "date": m.date, "start_time": m.start_time, "place": m.place, "cancelled": m.cancelled,
            "came": sorted(a.contact_id for a in m.attendees)}


@bp.endpoint(BASE, summary="Parent groups of a school", response=GroupListOut)
def list_groups(urn: str) -> dict[str, Any]:
    school = require_school(current_user, urn)
    return {"data": queries.groups(school.id)}


@bp.endpoint(BASE + "/<int:group_id>", summary="A group: members with their children, and meetings",
             response=GroupDetailOut, audited=True, errors=(404,))
def get_group(urn: str, group_id: int) -> dict[str, Any]:
    school = require_school(current_user, urn)
    group = services.get_group(school.id, group_id)
    members = queries.members(group)
    audit.record("pupils.list", school=school, pupil_ids=[p.id for m in members for p in m.pupils],
                 detail={"parent_group": group.id})
    return {**{k: getattr(group, k) for k in ("id", "name", "purpose", "weekday", "start_time", "place", "active")},
            "members": [{"contact_id": m.contact.id, "name": m.contact.name, "joined_on": m.member.joined_on,
                         "left_on": m.member.left_on, "reminders": m.member.reminders,
                         "meetings_attended": m.meetings_attended,
                         "pupils": [{"id": p.id, "display_name": p.display_name, "year_group": p.year_group} for p in m.pupils]}
                        for m in members],
            "meetings": [_meeting_out(m) for m, _ in queries.meetings(group)]}


@bp.endpoint(BASE + "/meetings/<int:meeting_id>/attendance", summary="Record who came", methods=["POST"],
             body=ContactIdsIn, response=MeetingOut, errors=(400, 403, 404, 409), description=CONFLICT)
def attendance(urn: str, meeting_id: int, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        return _meeting_out(services.record_attendance(school, meeting_id, body["contact_ids"]))


@bp.endpoint(BASE + "/meetings/<int:meeting_id>/invitations", summary="Invite contacts to a meeting by text",
             methods=["POST"], body=ContactIdsIn, response=InviteOut, errors=(400, 403, 404, 409), description=CONFLICT)
def invite(urn: str, meeting_id: int, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    with as_conflicts():
        result = services.invite(school, meeting_id, body["contact_ids"], by=current_user.email)
    return {"invited": result.invited, "already": result.already, "not_sent": {str(k): v for k, v in result.not_sent.items()}}


@bp.endpoint(BASE + "/<int:group_id>/impact", summary="Attendance of members' children before and since, against similar pupils",
             query=ImpactQuery, response=ImpactResultOut, errors=(404,))
def group_impact(urn: str, group_id: int, query: dict[str, Any]) -> Any:
    school = require_school(current_user, urn)
    services.get_group(school.id, group_id)
    return queries.group_impact(school.id, group_id, weeks=query["weeks"], min_pupils=query["min_pupils"])
