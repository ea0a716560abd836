"""API shapes for walking buses (marshmallow; the OpenAPI document is generated from these)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from outreach.core.api.schemas import Text
from outreach.walking_bus.models import CONSENT_METHODS
from outreach.walking_bus.times import WEEKDAYS

Day = fields.String(validate=validate.OneOf(WEEKDAYS))
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def Clock(**kwargs):  # type: ignore[no-untyped-def]  # noqa: N802 - reads like a field class
    """A 24-hour London time as 'HH:MM' (a pattern the OpenAPI document states)."""
    return fields.String(validate=validate.Regexp(HHMM, error="Give a time like 08:40."),
                         metadata={"description": "24-hour time, e.g. 08:40", "example": "08:40"}, **kwargs)


class StopOut(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    minutes_to_next = fields.Integer(required=True, metadata={"description": "Walk to the next stop (from the last: to school)."})
    pickup = fields.Time(required=True, format="%H:%M", metadata={"description": "Pickup time, London."})


class RouteOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    days = fields.List(fields.String(), required=True, metadata={"description": "mon ... fri"})
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    arrival_time = fields.Time(required=True, format="%H:%M")
    max_children = fields.Integer(required=True)
    children_per_adult = fields.Integer(required=True)
    min_adults = fields.Integer(required=True)
    children = fields.Integer(required=True, metadata={"description": "Children with a place today."})
    adults_needed = fields.Integer(required=True, metadata={"description": "Adults a walk needs today."})
    stops = fields.List(fields.Nested(StopOut), required=True)


class RouteListOut(Schema):
    data = fields.List(fields.Nested(RouteOut), required=True)


class PlaceOut(Schema):
    id = fields.Integer(required=True)
    pupil_id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    stop_id = fields.Integer(required=True)
    stop_name = fields.String(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    consent_by = fields.String(required=True)
    consent_method = fields.String(required=True)
    consent_at = fields.AwareDateTime(required=True)
    notify_arrival = fields.Boolean(required=True)


class RouteDetailOut(RouteOut):
    places = fields.List(fields.Nested(PlaceOut), required=True)


class RouteIn(Schema):
    name = Text(validate.Length(min=1, max=100), required=True)
    days = fields.List(Day, required=True, validate=validate.Length(min=1, max=5))
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    arrival_time = Clock(required=True)
    max_children = fields.Integer(load_default=18, validate=validate.Range(1, 60))
    children_per_adult = fields.Integer(load_default=6, validate=validate.Range(1, 15))
    min_adults = fields.Integer(load_default=2, validate=validate.Range(1, 10))


class StopIn(Schema):
    name = Text(validate.Length(min=1, max=100), required=True)
    description = Text(validate.Length(max=300), load_default=None, allow_none=True)
    minutes_to_next = fields.Integer(required=True, validate=validate.Range(0, 120))
    position = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 100))


class PlaceIn(Schema):
    pupil_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    stop_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    consent_by = Text(validate.Length(min=1, max=200), required=True)
    consent_method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))
    consent_at = fields.AwareDateTime(load_default=None, allow_none=True)
    consent_contact_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2**31 - 1))
    notify_arrival = fields.Boolean(load_default=False)


class WeekQuery(Schema):
    week = fields.Date(load_default=None, metadata={"description": "Any date in the week (default: this week)."})


class RotaPersonOut(Schema):
    assignment_id = fields.Integer(required=True)
    ambassador_id = fields.Integer(required=True)
    name = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["generated", "officer", "substitute"]))


class RotaCellOut(Schema):
    route_id = fields.Integer(required=True)
    date = fields.Date(required=True, attribute="day")
    runs = fields.Boolean(required=True)
    children = fields.Integer(required=True)
    needed = fields.Integer(required=True)
    short = fields.Integer(required=True, metadata={"description": "Adults still needed (a gap when above 0)."})
    people = fields.List(fields.Nested(RotaPersonOut), required=True)


class RotaOut(Schema):
    week_start = fields.Date(required=True)
    version = fields.Integer(allow_none=True, metadata={"description": "None until the week is generated."})
    schedules_sent = fields.Boolean(required=True)
    cells = fields.List(fields.Nested(RotaCellOut), required=True)
    gaps = fields.Integer(required=True)


class RotaIn(Schema):
    week = fields.Date(required=True, metadata={"description": "The Monday (or any day) of the week."})
    replace = fields.Boolean(load_default=False, metadata={"description": "Start again, keeping hand-made assignments."})


class CheckInQuery(Schema):
    date = fields.Date(load_default=None, metadata={"description": "Default: today (London)."})


class CheckInRowOut(Schema):
    pupil_id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    stop_name = fields.String(required=True)
    walked = fields.Boolean(required=True)
    am_code = fields.String(allow_none=True)
    arrived = fields.Boolean(required=True, metadata={"description": "Present in the AM register."})
    flagged = fields.Boolean(required=True, metadata={"description": "Neither walked nor present."})


class CheckInOut(Schema):
    route_id = fields.Integer(required=True)
    date = fields.Date(required=True)
    arrived_at = fields.AwareDateTime(allow_none=True)
    reported_count = fields.Integer(allow_none=True)
    children = fields.List(fields.Nested(CheckInRowOut), required=True)


class CheckInIn(Schema):
    date = fields.Date(required=True)
    pupil_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1)), required=True,
                            validate=validate.Length(max=60))
