"""Marshmallow schemas for the JSON API (in and out). The API parses with these, calls the
services with the loaded values, and dumps the result; the services still check everything, so
a value the schema lets through but the domain refuses becomes a ``UserError`` (400)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from outreach.interventions.letters import LETTERS
from outreach.interventions.rules import DEFAULTS, LIMITS
from outreach.interventions.vocabulary import (CONSENT_METHODS, INTERVENTION_TYPES, REFERRAL_OUTCOMES,
                                               REFERRAL_STATUSES, RULES, TASK_STATUSES)
from outreach.core.api.schemas import PageQuerySchema, Text
from outreach.core.timeutil import ensure_utc
from outreach.impact.stats import MIN_PUPILS

MAX_ID = 2_147_483_647

class UtcDateTime(fields.AwareDateTime):
    """A stored time, always with its offset (SQLite hands timezone-aware columns back naive)."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        return super()._serialize(ensure_utc(value), attr, obj, **kwargs)


_text = lambda n, **kw: Text(validate.Length(max=n), **kw)  # noqa: E731
_id = lambda **kw: fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731
_qid = lambda **kw: fields.Integer(validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731 (query strings are text)
# Years outside 2000-2099 are refused by the services (422), which the document can say in words only.
_moment = lambda **kw: fields.AwareDateTime(metadata={"description": "With its offset; years 2000 to 2099."}, **kw)  # noqa: E731


class InterventionDetailsIn(Schema):
    """Type-specific facts (which apply to which type is checked by the service)."""

    improvement_weeks = fields.Integer(strict=True, allow_none=True,
                                       metadata={"description": "Notice to improve: the improvement period, 3 to 6."})
    decided_by = _text(300, allow_none=True, metadata={"description": "Penalty notice: who decided to issue it."})
    reference = _text(300, allow_none=True)
    review_date = fields.Date(allow_none=True, metadata={"description": "Attendance contract: its review."})
    meeting_at = _text(300, allow_none=True, metadata={"description": "Attendance meeting: when."})
    place = _text(300, allow_none=True, metadata={"description": "Attendance meeting: where."})


class LetterValuesIn(Schema):
    """What some letters need: an invitation its meeting time and place, a notice to improve its
    improvement period, a contract its review date and what the family agreed."""

    meeting_at = _text(200, allow_none=True)
    place = _text(200, allow_none=True)
    improvement_weeks = fields.Integer(strict=True, allow_none=True)
    review_date = fields.Date(allow_none=True)
    family_actions = _text(500, allow_none=True)


class InterventionIn(Schema):
    type = fields.String(required=True, validate=validate.OneOf(list(INTERVENTION_TYPES)))
    pupil_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=200))
    occurred_at = _moment(load_default=None)
    outcome = _text(300, load_default=None, allow_none=True)
    notes = _text(10_000, load_default=None, allow_none=True)
    next_step = _text(300, load_default=None, allow_none=True)
    next_step_date = fields.Date(load_default=None, allow_none=True)
    details = fields.Nested(InterventionDetailsIn, load_default=dict)


class InterventionOutcomeIn(Schema):
    outcome = _text(300, load_default=None, allow_none=True)
    next_step = _text(300, load_default=None, allow_none=True)
    next_step_date = fields.Date(load_default=None, allow_none=True)
    notes = _text(10_000, load_default=None, allow_none=True)


class InterventionOut(Schema):
    id = fields.Integer()
    school_id = fields.Integer()
    type = fields.String()
    type_label = fields.Function(lambda i: INTERVENTION_TYPES[i.type].label)
    stage = fields.Function(lambda i: INTERVENTION_TYPES[i.type].stage)
    occurred_at = UtcDateTime()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    next_step_date = fields.Date(allow_none=True)
    details = fields.Dict(allow_none=True)
    pupil_ids = fields.List(fields.Integer())
    has_letter = fields.Function(lambda i: i.letter_html is not None)


class LetterIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(LETTERS)))
    pupil_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=10))
    contact_id = _id(load_default=None, allow_none=True)
    sender = _text(200, required=True)
    sender_role = _text(200, load_default=None, allow_none=True)
    values = fields.Nested(LetterValuesIn, load_default=dict)


class TaskOut(Schema):
    id = fields.Integer()
    school_id = fields.Integer()
    pupil_id = fields.Integer()
    rule = fields.String()
    rule_label = fields.Function(lambda t: RULES[t.rule].label)
    episode_key = fields.String()
    episode_start = fields.Date()
    episode_end = fields.Date()
    summary = fields.String()
    next_step = fields.String()
    detail = fields.Dict(allow_none=True)
    status = fields.String()
    assigned_to = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    closed_note = fields.String(allow_none=True)


class TaskCloseIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["done", "dismissed"]))
    note = _text(500, load_default=None, allow_none=True)


class TaskQuery(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(list(TASK_STATUSES)))
    rule = fields.String(load_default=None, validate=validate.OneOf(list(RULES)))
    pupil_id = _qid(load_default=None)


class TaskListQuery(PageQuerySchema, TaskQuery):
    status = fields.String(load_default="open", validate=validate.OneOf([*TASK_STATUSES, "all"]))
    assigned_to = _text(200, load_default=None, metadata={"description": "Tasks assigned to this person."})
    unassigned = fields.Boolean(load_default=False, metadata={"description": "Only tasks nobody has yet."})


class TaskAssignIn(Schema):
    assigned_to = _text(200, required=True, allow_none=True,
                        metadata={"description": "Who takes the task; null or empty to unassign."})


class InterventionListQuery(PageQuerySchema):
    type = fields.String(load_default=None, validate=validate.OneOf(list(INTERVENTION_TYPES)))
    pupil_id = _qid(load_default=None)
    since = fields.Date(load_default=None, metadata={"description": "On or after this date (UK)."})
    until = fields.Date(load_default=None, metadata={"description": "On or before this date (UK)."})


class NextStepsQuery(Schema):
    by = fields.Date(load_default=None, metadata={"description": "Due on or before (default: today)."})
    since = fields.Date(load_default=None, metadata={"description": "Leave out next steps due before this date."})


class LetterOut(Schema):
    kind = fields.String()
    title = fields.String()
    html = fields.String()
    pupil_ids = fields.List(fields.Integer())
    contact_id = fields.Integer(allow_none=True)


class LetterSentOut(Schema):
    intervention = fields.Nested(InterventionOut)
    letter = fields.Nested(LetterOut)


def _setting_field(name: str, default: object) -> fields.Field:
    if isinstance(default, bool):
        return fields.Boolean()
    if isinstance(default, int):
        lo, hi = LIMITS[name]
        return fields.Integer(strict=True, validate=validate.Range(int(lo), int(hi)))
    if isinstance(default, float):
        lo, hi = LIMITS[name]
        return fields.Float(validate=validate.Range(lo, hi))
    return Text(validate.Length(min=1, max=60))


RuleSettingsSchema = Schema.from_dict(
    {name: _setting_field(name, getattr(DEFAULTS, name)) for name in DEFAULTS.__dataclass_fields__},
    name="RuleSettingsSchema")
"""Rule thresholds: dump a settings row; load with ``partial=True`` for an update."""


class ReferralDraftIn(Schema):
    pupil_id = _id(required=True)
    reason = Text(validate.Length(min=1, max=5000), required=True)
    officer = _text(200, load_default=None, allow_none=True)


class ConsentIn(Schema):
    given = fields.Boolean(required=True)
    by_whom = _text(200, required=True)
    method = fields.String(required=True, validate=validate.OneOf(list(CONSENT_METHODS)))
    at = _moment(load_default=None)


class SubmitIn(Schema):
    to = _text(200, required=True)


class DecisionIn(Schema):
    accepted = fields.Boolean(required=True)
    note = _text(500, load_default=None, allow_none=True)
    lead_practitioner = _text(200, load_default=None, allow_none=True)
    lead_practitioner_contact = _text(200, load_default=None, allow_none=True)
    first_review = fields.Date(load_default=None, allow_none=True)


class ReviewIn(Schema):
    due_date = fields.Date(required=True)


class ReviewDoneIn(Schema):
    notes = _text(10_000, load_default=None, allow_none=True)
    next_review = fields.Date(load_default=None, allow_none=True)


class CloseIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(list(REFERRAL_OUTCOMES)))
    notes = _text(10_000, load_default=None, allow_none=True)


class ReferralQuery(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(list(REFERRAL_STATUSES)))
    pupil_id = _qid(load_default=None)


class WithdrawIn(Schema):
    reason = _text(500, required=True)


class ReferralEventOut(Schema):
    at = UtcDateTime()
    action = fields.String()
    by = fields.String()
    note = fields.String(allow_none=True)


class ReferralReviewOut(Schema):
    id = fields.Integer()
    due_date = fields.Date()
    status = fields.String()
    completed_at = UtcDateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    reminder_task_id = fields.Integer(allow_none=True)


class ReferralOut(Schema):
    id = fields.Integer()
    school_id = fields.Integer()
    pupil_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(list(REFERRAL_STATUSES)))
    reason = fields.String()
    created_by = fields.String()
    created_at = UtcDateTime()
    officer = fields.String(allow_none=True)
    prefill = fields.Dict(allow_none=True)
    consent_given = fields.Boolean(allow_none=True)
    consent_by = fields.String(allow_none=True)
    consent_at = UtcDateTime(allow_none=True)
    consent_method = fields.String(allow_none=True)
    consent_recorded_by = fields.String(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    submitted_to = fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    lead_practitioner = fields.String(allow_none=True)
    lead_practitioner_contact = fields.String(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    outcome_notes = fields.String(allow_none=True)
    events = fields.List(fields.Nested(ReferralEventOut))
    reviews = fields.List(fields.Nested(ReferralReviewOut))


class TimelineEventOut(Schema):
    at = UtcDateTime()
    kind = fields.String()
    title = fields.String()
    detail = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    ref = fields.Dict()


class ImpactQuery(Schema):
    weeks = fields.Integer(load_default=6, validate=validate.Range(1, 20))
    min_pupils = fields.Integer(load_default=MIN_PUPILS, validate=validate.Range(2, 1000))


class ImpactResultOut(Schema):
    label = fields.String()
    weeks = fields.Integer()
    n = fields.Integer()
    comparison_n = fields.Integer()
    not_measured = fields.Integer()
    too_few = fields.Boolean()
    effect = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    confidence = fields.Float()
    participants_change = fields.Float(allow_none=True)
    comparison_change = fields.Float(allow_none=True)
    summary = fields.String()
    notes = fields.List(fields.String())


class TrustImpactQuery(ImpactQuery):
    trust_id = _qid(load_default=None, metadata={"description": "Only this trust's schools (of those you may see)."})


class ImpactRowOut(Schema):
    school_id = fields.Integer(allow_none=True)
    school_name = fields.String()
    type = fields.String()
    label = fields.String()
    result = fields.Nested(ImpactResultOut)


class TimelineOut(Schema):
    pupil_id = fields.Integer()
    events = fields.List(fields.Nested(TimelineEventOut))


class NextStepsOut(Schema):
    data = fields.List(fields.Nested(InterventionOut))


class ImpactOut(Schema):
    weeks = fields.Integer()
    data = fields.List(fields.Nested(ImpactRowOut))
