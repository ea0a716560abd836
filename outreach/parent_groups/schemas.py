"""API shapes for parent groups."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class GroupOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    purpose = fields.String(allow_none=True)
    weekday = fields.Integer(required=True, metadata={"description": "Monday = 0."})
    start_time = fields.Time(required=True, format="%H:%M")
    place = fields.String(required=True)
    active = fields.Boolean(required=True)


class GroupListOut(Schema):
    data = fields.List(fields.Nested(GroupOut), required=True)


class MemberPupilOut(Schema):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    year_group = fields.String(allow_none=True)


class MemberOut(Schema):
    contact_id = fields.Integer(required=True)
    name = fields.String(required=True)
    joined_on = fields.Date(required=True)
    left_on = fields.Date(allow_none=True)
    reminders = fields.Boolean(required=True)
    meetings_attended = fields.Integer(required=True)
    pupils = fields.List(fields.Nested(MemberPupilOut), required=True)


class MeetingOut(Schema):
    id = fields.Integer(required=True)
    date = fields.Date(required=True)
    start_time = fields.Time(required=True, format="%H:%M")
    place = fields.String(required=True)
    cancelled = fields.Boolean(required=True)
    came = fields.List(fields.Integer(), required=True, metadata={"description": "Contact ids who came."})


class GroupDetailOut(GroupOut):
    members = fields.List(fields.Nested(MemberOut), required=True)
    meetings = fields.List(fields.Nested(MeetingOut), required=True)


class ContactIdsIn(Schema):
    contact_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1)), required=True,
                              validate=validate.Length(max=500))


class InviteOut(Schema):
    invited = fields.List(fields.Integer(), required=True)
    already = fields.List(fields.Integer(), required=True)
    not_sent = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                           metadata={"description": "Contact id -> why they could not be texted."})
