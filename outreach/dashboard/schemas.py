"""API shapes for attendance figures (marshmallow; the OpenAPI document is generated from these).

Percentages are unrounded floats, null when there are no possible sessions; counts are sessions.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from outreach.core.timeutil import EARLIEST_DATE, LATEST_DATE
from outreach.core.api.schemas import PageQuerySchema, Text
from outreach.dashboard import logic

EARLIEST, LATEST = EARLIEST_DATE, LATEST_DATE  # the dates anyone may type (core.timeutil)


def _pct(description: str) -> fields.Float:
    return fields.Float(required=True, allow_none=True, metadata={"description": description + " Null without possible sessions."})


DATE_PATTERN = r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"  # the years EARLIEST to LATEST, said in the document


class RangeQuerySchema(Schema):
    """A date range. One that ends before it starts is empty (no sessions, figures null), not an
    error: the document cannot say "date_from <= date_to", so every range it allows is answered."""

    date_from = fields.Date(metadata={"description": "First day (YYYY-MM-DD, 2000 to 2100). Default: 1 September of "
                                                     "date_to's academic year.", "pattern": DATE_PATTERN})
    date_to = fields.Date(metadata={"description": "Last day (YYYY-MM-DD, 2000 to 2100). Default: today (UK time).",
                                    "pattern": DATE_PATTERN})

    @validates_schema
    def _bounds(self, data: dict[str, Any], **_: Any) -> None:
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                raise ValidationError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}", name)


class SessionFiguresSchema(Schema):
    possible = fields.Integer(required=True, metadata={"description": "Possible sessions."})
    present = fields.Integer(required=True, metadata={"description": "Present, including late before registers closed (L)."})
    aea = fields.Integer(required=True, metadata={"description": "Approved educational activity (counts as attending)."})
    authorised = fields.Integer(required=True)
    unauthorised = fields.Integer(required=True)
    absent = fields.Integer(required=True, metadata={"description": "Authorised + unauthorised."})
    late = fields.Integer(required=True, metadata={"description": "Late sessions: L + U."})
    attendance_pct = _pct("Present + AEA over possible, as a percentage.")
    absence_pct = _pct("Absent over possible.")
    authorised_absence_pct = _pct("Authorised over possible.")
    unauthorised_absence_pct = _pct("Unauthorised over possible.")


class GroupMeasuresSchema(SessionFiguresSchema):
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    enrolments = fields.Integer(required=True, metadata={"description": "Enrolments with at least one possible session."})
    persistent_absence_enrolments = fields.Integer(required=True, metadata={"description": "Missing 10% or more."})
    severe_absence_enrolments = fields.Integer(required=True, metadata={"description": "Missing 50% or more."})
    persistent_absence_pct = _pct("Persistently absent enrolments over enrolments.")
    severe_absence_pct = _pct("Severely absent enrolments over enrolments.")


class ReferenceFiguresSchema(Schema):
    level = fields.String(required=True, metadata={"description": "national, regional or local authority."})
    name = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    phase = fields.String(required=True)
    attendance_pct = fields.Float(allow_none=True)
    absence_pct = fields.Float(allow_none=True)
    authorised_absence_pct = fields.Float(allow_none=True)
    unauthorised_absence_pct = fields.Float(allow_none=True)
    persistent_absence_pct = fields.Float(allow_none=True)
    schools = fields.Float(allow_none=True)
    enrolments = fields.Float(allow_none=True)
    possible_sessions = fields.Integer(allow_none=True)


class ReferenceSchema(Schema):
    phase = fields.String(required=True)
    period = fields.String(required=True)
    source = fields.String(required=True)
    national = fields.Nested(ReferenceFiguresSchema, allow_none=True)
    region = fields.Nested(ReferenceFiguresSchema, allow_none=True)
    la = fields.Nested(ReferenceFiguresSchema, allow_none=True)


class SchoolMeasuresSchema(GroupMeasuresSchema):
    urn = fields.String(required=True)
    reference = fields.Nested(ReferenceSchema, required=True, allow_none=True,
                              metadata={"description": "Published DfE figures for the school's phase (national, region, LA)."})


class WeekPointSchema(SessionFiguresSchema):
    week_start = fields.Date(required=True, metadata={"description": "Monday of the week."})
    date_from = fields.Date(required=True, attribute="start", metadata={"description": "First day counted (a week cut by the range counts only its days)."})
    date_to = fields.Date(required=True, attribute="end")
    partial = fields.Boolean(required=True)
    pupils = fields.Integer(required=True, metadata={"description": "Enrolments with a possible session that week."})
    cumulative_pa_pct = fields.Float(required=True, allow_none=True, metadata={"description": "Persistent absence % from date_from of the range to this week's end."})
    cumulative_sa_pct = fields.Float(required=True, allow_none=True)


class TrendSchema(Schema):
    urn = fields.String(required=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    weeks = fields.List(fields.Nested(WeekPointSchema), required=True)


class CohortGapSchema(Schema):
    dimension = fields.String(required=True, metadata={"description": "year_group, fsm, sen, eal or sex."})
    dimension_label = fields.String(required=True)
    group = fields.String(required=True, metadata={"description": "The stored value (\"7\", \"True\", \"K\", \"F\"; empty: not recorded)."})
    label = fields.String(required=True)
    enrolments = fields.Integer(required=True)
    possible = fields.Integer(required=True)
    absent = fields.Integer(required=True)
    persistent_absence_enrolments = fields.Integer(required=True)
    absence_pct = fields.Float(required=True, allow_none=True)
    persistent_absence_pct = fields.Float(required=True, allow_none=True)
    rest_enrolments = fields.Integer(required=True)
    rest_absence_pct = fields.Float(required=True, allow_none=True)
    rest_persistent_absence_pct = fields.Float(required=True, allow_none=True)
    absence_gap_pp = fields.Float(required=True, allow_none=True, metadata={"description": "Group minus rest, percentage points."})
    persistent_absence_gap_pp = fields.Float(required=True, allow_none=True)


class CohortsSchema(Schema):
    urn = fields.String(required=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    groups = fields.List(fields.Nested(CohortGapSchema), required=True)


class TrustSchoolSchema(GroupMeasuresSchema):
    urn = fields.String(required=True)
    name = fields.String(required=True)
    phase = fields.String(required=True)
    la_code = fields.String(allow_none=True)


class TrustComparisonSchema(Schema):
    trust_id = fields.Integer(required=True)
    name = fields.String(required=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    schools = fields.List(fields.Nested(TrustSchoolSchema), required=True)


class PupilAttendanceQuerySchema(PageQuerySchema):
    year = fields.String(validate=validate.OneOf(logic.YEAR_GROUP_ORDER), metadata={"description": "Year group."})
    reg = Text(validate.Length(max=20), metadata={"description": "Registration group (case-insensitive)."})
    flag = fields.String(validate=validate.OneOf([k for k in logic.FLAGS if k]),
                         metadata={"description": "pa: persistent absence, sa: severe, not_pa."})
    cohort = fields.String(validate=validate.OneOf([k for k in logic.COHORTS if k]),
                           metadata={"description": "fsm, not_fsm, sen (support or plan), sen_support, ehcp, eal, not_eal."})
    q = Text(validate.Length(max=logic.MAX_QUERY), metadata={"description": "Name fragment or UPN."})
    sort = fields.String(load_default="attendance", validate=validate.OneOf(list(logic.SORTS)))
    order = fields.String(validate=validate.OneOf(["asc", "desc"]), metadata={"description": "Default: the column's natural order (attendance lowest first)."})
    period = fields.String(load_default="year", validate=validate.OneOf(list(logic.PERIODS)),
                           metadata={"description": "year: this academic year so far; term: this term so far."})
    include_left = fields.Boolean(load_default=False, metadata={"description": "Include every earlier enrolment."})


class PupilAttendanceSchema(SessionFiguresSchema):
    id = fields.Integer(required=True, attribute="pupil_id")
    upn = fields.String(required=True)
    forename = fields.String(required=True)
    surname = fields.String(required=True)
    preferred_forename = fields.String(allow_none=True)
    display_name = fields.String(required=True)
    year_group = fields.String(allow_none=True)
    reg_group = fields.String(allow_none=True)
    fsm = fields.Boolean(required=True)
    sen_status = fields.String(required=True)
    eal = fields.Boolean(required=True)
    on_roll = fields.Boolean(required=True, metadata={"description": "On roll today."})
    persistent_absence = fields.Boolean(required=True)
    severe_absence = fields.Boolean(required=True)


class ProjectionSchema(Schema):
    remaining_sessions = fields.Integer(required=True, metadata={"description": "Estimated sessions left in the 380-session year."})
    sessions_until_pa = fields.Integer(required=True, metadata={"description": "More sessions that can be missed before the year's figure is persistent absence; negative when it will be regardless."})
    days_until_pa = fields.Integer(required=True, allow_none=True)
    can_avoid_pa = fields.Boolean(required=True)


class PupilMeasuresSchema(Schema):
    id = fields.Integer(required=True)
    school_urn = fields.String(required=True)
    upn = fields.String(required=True)
    display_name = fields.String(required=True)
    year_group = fields.String(allow_none=True)
    reg_group = fields.String(allow_none=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    measures = fields.Nested(SessionFiguresSchema, required=True)
    persistent_absence = fields.Boolean(required=True)
    severe_absence = fields.Boolean(required=True)
    projection = fields.Nested(ProjectionSchema, required=True, allow_none=True,
                               metadata={"description": "To the end of this academic year (only when date_to is in it)."})
