"""API shapes for schools and pupils (marshmallow; the OpenAPI document is generated from these)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from outreach.core.api.schemas import PageQuerySchema, Text
from outreach.schools.models import PHASES
from outreach.schools.queries import YEAR_GROUPS


class SchoolSchema(Schema):
    urn = fields.String(required=True, metadata={"description": "Unique reference number.", "example": "100001"})
    name = fields.String(required=True)
    phase = fields.String(required=True, validate=validate.OneOf(PHASES))
    la_code = fields.String(allow_none=True, metadata={"description": "Local authority code (3 digits)."})
    estab = fields.String(allow_none=True, metadata={"description": "Establishment number (4 digits)."})
    trust = fields.String(allow_none=True, metadata={"description": "Trust name, if in a trust."})
    pupils_on_roll = fields.Integer(required=True, metadata={"description": "Pupils enrolled today."})


class YearGroupCountSchema(Schema):
    year_group = fields.String(required=True)
    pupils = fields.Integer(required=True)


class RollSchema(Schema):
    on_roll = fields.Integer(required=True)
    by_year_group = fields.List(fields.Nested(YearGroupCountSchema), required=True)
    fsm = fields.Integer(required=True, metadata={"description": "Eligible for free school meals."})
    sen_support = fields.Integer(required=True)
    ehcp = fields.Integer(required=True, metadata={"description": "With an education, health and care plan."})
    eal = fields.Integer(required=True, metadata={"description": "English as an additional language."})
    left = fields.Integer(required=True, metadata={"description": "Enrolments that have ended."})


class SchoolDetailSchema(SchoolSchema):
    roll = fields.Nested(RollSchema, required=True)


class SchoolListQuerySchema(PageQuerySchema):
    q = Text(validate.Length(max=100), metadata={"description": "Name fragment or URN prefix."})


class PupilListQuerySchema(PageQuerySchema):
    year_group = fields.String(validate=validate.OneOf(YEAR_GROUPS), metadata={"description": "National curriculum year."})
    include_left = fields.Boolean(load_default=False, metadata={"description": "Include pupils who have left."})


class PupilSchema(Schema):
    id = fields.Integer(required=True)
    school_urn = fields.Function(lambda p: p.school.urn, required=True)
    upn = fields.String(required=True, metadata={"description": "Unique pupil number."})
    forename = fields.String(required=True)
    surname = fields.String(required=True)
    preferred_forename = fields.String(allow_none=True)
    display_name = fields.String(required=True)
    date_of_birth = fields.Date(allow_none=True)
    year_group = fields.String(allow_none=True)
    reg_group = fields.String(allow_none=True)
    fsm = fields.Boolean(required=True)
    sen_status = fields.String(required=True, validate=validate.OneOf(["N", "K", "E"]),
                               metadata={"description": "N none, K SEN support, E EHC plan."})
    eal = fields.Boolean(required=True)
    sex = fields.String(allow_none=True)
    admission_date = fields.Date(allow_none=True)
    leaving_date = fields.Date(allow_none=True)
