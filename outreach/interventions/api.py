"""``/api/v1``: tasks, the intervention log, letters, the case timeline, early-help referrals,
rule settings and "what works here", for the schools the token's user may see.

Input is checked by the marshmallow schemas (400 with a message per field); what the schema
accepts but the domain refuses (a pupil of another school, a referral step out of order, a task
already closed) is a 422 with the service's reasons. Reads need a visible school (404 otherwise,
the same as a school that does not exist); changes need write access (403 for heads and trust
leads). Rows of another school are 404. Pupil records and timelines are audited.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, TypeVar

from flask_login import current_user

from outreach.core import audit
from outreach.core.api import ApiBlueprint
from outreach.core.errors import NotFound, Unprocessable, UserError
from outreach.core.pagination import Page, paginate
from outreach.core.scoping import require_school, visible_schools
from outreach.core.timeutil import london_today
from outreach.interventions import letters, queries, referrals, services
from outreach.interventions.models import Intervention, Referral, ReferralReview, Task
from outreach.interventions.schemas import (
    MAX_ID, CloseIn, ConsentIn, DecisionIn, ImpactQuery, InterventionIn, InterventionListQuery,
    ImpactOut, InterventionOut, InterventionOutcomeIn, LetterIn, LetterOut, LetterSentOut, NextStepsOut, NextStepsQuery, ReferralDraftIn,
    ReferralOut, ReferralQuery, ReviewDoneIn, ReviewIn, RuleSettingsSchema, SubmitIn, TaskAssignIn, TaskCloseIn,
    TaskListQuery, TaskOut, TimelineOut, TrustImpactQuery, WithdrawIn,
)
from outreach.schools.models import School

bp = ApiBlueprint("interventions_api", __name__, tag="Interventions",
                  description="Tasks, the intervention log, letters, case timelines, early-help referrals, "
                              "rule settings and what works here.")

T = TypeVar("T")
CHANGE_ERRORS = (403, 422)


def _actor() -> str:
    return current_user.name or current_user.email


def _done(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service; its ``UserError`` (input the schema accepted) becomes a 422."""
    try:
        return fn(*args, **kwargs)
    except UserError as exc:
        if type(exc) is UserError:
            raise Unprocessable(exc.message, exc.details) from None
        raise


def _check_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no {what} {value} at this school")
    return value


def _paged(stmt: Any, query: dict[str, Any]) -> Page[Any]:
    return paginate(stmt, query["page"], query["per_page"])


# --- tasks ------------------------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/tasks", summary="Tasks of a school", query=TaskListQuery, response=TaskOut,
             paginated=True, audited=True)
def list_tasks(urn: str, query: dict[str, Any]) -> Page[Task]:
    """Newest first; ``status`` open (default), done, dismissed or all. Each task carries the
    suggested next step (support first: never an automatic sanction)."""
    school = require_school(current_user, urn)
    status = None if query["status"] == "all" else query["status"]
    page = _paged(queries.tasks_query(school.id, status=status, pupil_id=query.get("pupil_id"), rule=query.get("rule"),
                                      assigned_to=query.get("assigned_to"), unassigned=query["unassigned"]), query)
    audit.record("tasks.list", school=school, pupil_ids=[t.pupil_id for t in page.items],
                 detail={"status": query["status"], "page": page.page})
    return page


@bp.endpoint("/schools/<urn>/tasks/<int:task_id>", summary="One task", response=TaskOut)
def get_task(urn: str, task_id: int) -> Task:
    school = require_school(current_user, urn)
    return services.get_task(school.id, _check_id(task_id, "task"))


@bp.endpoint("/schools/<urn>/tasks/<int:task_id>/close", methods=["POST"], summary="Close a task (done or dismissed)",
             body=TaskCloseIn, response=TaskOut, errors=CHANGE_ERRORS)
def close_task(urn: str, task_id: int, body: dict[str, Any]) -> Task:
    """A dismissal needs a note (it is what the record shows)."""
    school = require_school(current_user, urn, write=True)
    return _done(services.close_task, school.id, _check_id(task_id, "task"), status=body["status"], by=_actor(),
                 note=body.get("note"))


@bp.endpoint("/schools/<urn>/tasks/<int:task_id>/reopen", methods=["POST"], summary="Reopen a closed task",
             response=TaskOut, errors=CHANGE_ERRORS)
def reopen_task(urn: str, task_id: int) -> Task:
    school = require_school(current_user, urn, write=True)
    return _done(services.reopen_task, school.id, _check_id(task_id, "task"))


@bp.endpoint("/schools/<urn>/tasks/<int:task_id>/assign", methods=["POST"], summary="Assign (or unassign) a task",
             body=TaskAssignIn, response=TaskOut, errors=CHANGE_ERRORS)
def assign_task(urn: str, task_id: int, body: dict[str, Any]) -> Task:
    school = require_school(current_user, urn, write=True)
    return _done(services.assign_task, school.id, _check_id(task_id, "task"), body.get("assigned_to"))


# --- the intervention log ---------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/interventions", summary="The intervention log of a school", query=InterventionListQuery,
             response=InterventionOut, paginated=True, audited=True)
def list_interventions(urn: str, query: dict[str, Any]) -> Page[Intervention]:
    """Newest first; filter by type, pupil and UK dates (inclusive)."""
    school = require_school(current_user, urn)
    since = services.london_midday(query["since"]) - timedelta(hours=12) if query.get("since") else None
    until = services.london_midday(query["until"]) + timedelta(hours=12) if query.get("until") else None
    page = _paged(queries.interventions_query(school.id, pupil_id=query.get("pupil_id"), type=query.get("type"),
                                              since=since, until=until), query)
    audit.record("interventions.list", school=school, pupil_ids=sorted({p for i in page.items for p in i.pupil_ids}),
                 detail={"type": query.get("type"), "page": page.page})
    return page


@bp.endpoint("/schools/<urn>/interventions", methods=["POST"], summary="Log an intervention", body=InterventionIn,
             response=InterventionOut, status=201, errors=CHANGE_ERRORS)
def log_intervention(urn: str, body: dict[str, Any]) -> Intervention:
    """Siblings share one entry (several ``pupil_ids``). ``details`` are checked per type: a
    notice to improve needs ``improvement_weeks`` (3 to 6), a penalty notice ``decided_by`` (it is
    recorded after a person decided it; the software never issues one)."""
    school = require_school(current_user, urn, write=True)
    return _done(services.log_intervention, school, recorded_by=_actor(), **body)


@bp.endpoint("/schools/<urn>/interventions/<int:intervention_id>", summary="One intervention", response=InterventionOut,
             audited=True)
def get_intervention(urn: str, intervention_id: int) -> Intervention:
    school = require_school(current_user, urn)
    row = services.get_intervention(school.id, _check_id(intervention_id, "intervention"))
    audit.record("intervention.view", school=school, pupil_ids=row.pupil_ids, detail={"intervention_id": row.id})
    return row


@bp.endpoint("/schools/<urn>/interventions/<int:intervention_id>/outcome", methods=["POST"],
             summary="Record an outcome or next step", body=InterventionOutcomeIn, response=InterventionOut,
             errors=CHANGE_ERRORS)
def record_outcome(urn: str, intervention_id: int, body: dict[str, Any]) -> Intervention:
    """Notes are appended to what was there, never replace it."""
    school = require_school(current_user, urn, write=True)
    return _done(services.record_outcome, school.id, _check_id(intervention_id, "intervention"), **body)


@bp.endpoint("/schools/<urn>/next-steps", summary="Next steps falling due", query=NextStepsQuery,
             response=NextStepsOut)
def next_steps(urn: str, query: dict[str, Any]) -> Any:
    """Interventions whose next-step date is on or before ``by`` (default today, UK)."""
    school = require_school(current_user, urn)
    rows = queries.due_next_steps(school.id, query.get("by") or london_today(), on_or_after=query.get("since"))
    audit.record("interventions.list", school=school, pupil_ids=sorted({p for i in rows for p in i.pupil_ids}),
                 detail={"next_steps": True})
    return {"data": rows}


# --- letters ----------------------------------------------------------------------------------

def _letter_out(letter: letters.Letter) -> dict[str, Any]:
    return {"kind": letter.kind, "title": letter.title, "html": letter.html, "pupil_ids": list(letter.pupil_ids),
            "contact_id": letter.contact_id}


@bp.endpoint("/schools/<urn>/letters/preview", methods=["POST"], summary="Preview a letter (nothing is recorded)",
             body=LetterIn, response=LetterOut, errors=CHANGE_ERRORS, audited=True)
def preview_letter(urn: str, body: dict[str, Any]) -> dict[str, Any]:
    school = require_school(current_user, urn, write=True)
    letter = _done(letters.render_letter, school, body["kind"], body["pupil_ids"], sender=body["sender"],
                   sender_role=body.get("sender_role"), contact_id=body.get("contact_id"), values=body["values"])
    audit.record("letter.preview", school=school, pupil_ids=list(letter.pupil_ids), detail={"kind": letter.kind})
    return _letter_out(letter)


@bp.endpoint("/schools/<urn>/letters", methods=["POST"], summary="Send a letter (logs it with a copy)", body=LetterIn,
             response=LetterSentOut, status=201, errors=CHANGE_ERRORS)
def send_letter(urn: str, body: dict[str, Any]) -> dict[str, Any]:
    """Renders the letter and logs the intervention it stands for (a letter, an attendance
    contract or a notice to improve) with exactly what was sent."""
    school = require_school(current_user, urn, write=True)
    row, letter = _done(letters.send_letter, school, body["kind"], body["pupil_ids"], sender=body["sender"],
                        recorded_by=_actor(), sender_role=body.get("sender_role"), contact_id=body.get("contact_id"),
                        values=body["values"])
    return {"intervention": row, "letter": _letter_out(letter)}


# --- the case timeline ------------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/pupils/<int:pupil_id>/timeline", summary="A pupil's case timeline", response=TimelineOut,
             audited=True)
def timeline(urn: str, pupil_id: int) -> dict[str, Any]:
    """Imports, mark corrections, interventions, referral steps, tasks (and messages, when
    messaging is installed), oldest first."""
    school = require_school(current_user, urn)
    try:
        pupil = services.school_pupils(school.id, [_check_id(pupil_id, "pupil")])[0]
    except UserError:
        raise NotFound("Pupil not found") from None
    events = queries.case_timeline(school.id, pupil.id)
    audit.record("pupil.view", school=school, pupil_ids=[pupil.id], detail={"page": "timeline", "events": len(events)})
    return {"pupil_id": pupil.id, "events": events}


# --- rule settings ----------------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/rule-settings", summary="The school's rule settings", response=RuleSettingsSchema)
def get_rule_settings(urn: str) -> Any:
    """The defaults (from the guidance) until the school changes one."""
    school = require_school(current_user, urn)
    return services.rule_settings(school.id)


@bp.endpoint("/schools/<urn>/rule-settings", methods=["PATCH"], summary="Change some rule settings",
             body=RuleSettingsSchema, response=RuleSettingsSchema, errors=CHANGE_ERRORS)
def update_rule_settings(urn: str, body: dict[str, Any]) -> Any:
    """Only the settings given change; each is checked against its limits."""
    school = require_school(current_user, urn, write=True)
    row = _done(services.update_rule_settings, school, body, updated_by=_actor())
    audit.record("rules.update", school=school, detail={"settings": sorted(body)})
    return row


# --- early-help referrals ---------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/referrals", summary="Early-help referrals of a school", query=ReferralQuery,
             response=ReferralOut, paginated=True, audited=True)
def list_referrals(urn: str, query: dict[str, Any]) -> Page[Referral]:
    from sqlalchemy import select

    school = require_school(current_user, urn)
    stmt = select(Referral).where(Referral.school_id == school.id)
    if query.get("status"):
        stmt = stmt.where(Referral.status == query["status"])
    if query.get("pupil_id"):
        stmt = stmt.where(Referral.pupil_id == query["pupil_id"])
    page = _paged(stmt.order_by(Referral.created_at.desc(), Referral.id.desc()), query)
    audit.record("referrals.list", school=school, pupil_ids=[r.pupil_id for r in page.items], detail={"page": page.page})
    return page


@bp.endpoint("/schools/<urn>/referrals", methods=["POST"], summary="Draft a referral (pre-filled)", body=ReferralDraftIn,
             response=ReferralOut, status=201, errors=CHANGE_ERRORS)
def draft_referral(urn: str, body: dict[str, Any]) -> Referral:
    """Pre-filled with this year's attendance, the interventions so far and the contacts."""
    school = require_school(current_user, urn, write=True)
    return _done(referrals.draft_referral, school, body["pupil_id"], reason=body["reason"], created_by=_actor(),
                 officer=body.get("officer"))


def _referral(school: School, referral_id: int) -> Referral:
    return referrals.get_referral(school.id, _check_id(referral_id, "referral"))


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>", summary="One referral", response=ReferralOut, audited=True)
def get_referral(urn: str, referral_id: int) -> Referral:
    school = require_school(current_user, urn)
    row = _referral(school, referral_id)
    audit.record("referral.view", school=school, pupil_ids=[row.pupil_id], detail={"referral_id": row.id})
    return row


def _step(urn: str, referral_id: int, fn: Callable[..., Any], **kwargs: Any) -> Referral:
    school = require_school(current_user, urn, write=True)
    row = _referral(school, referral_id)
    result = _done(fn, school.id, row.id, **kwargs)
    return result if isinstance(result, Referral) else row


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/consent", methods=["POST"], summary="Record consent",
             body=ConsentIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_consent(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    """Who gave (or refused) consent, how and when: early help is voluntary."""
    return _step(urn, referral_id, referrals.record_consent, given=body["given"], by_whom=body["by_whom"],
                 method=body["method"], recorded_by=_actor(), at=body.get("at"))


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/submit", methods=["POST"], summary="Record the submission",
             body=SubmitIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_submit(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    """Needs consent given; logs an early-help referral intervention."""
    return _step(urn, referral_id, referrals.submit, by=_actor(), to=body["to"])


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/decision", methods=["POST"],
             summary="Record early help's decision", body=DecisionIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_decision(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    """Accepted needs the lead practitioner; the first review defaults to six weeks on."""
    return _step(urn, referral_id, referrals.decide, by=_actor(), **body)


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/reviews", methods=["POST"], summary="Schedule a review",
             body=ReviewIn, response=ReferralOut, status=201, errors=CHANGE_ERRORS)
def referral_review(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    return _step(urn, referral_id, referrals.schedule_review, due_date=body["due_date"], by=_actor())


@bp.endpoint("/schools/<urn>/referral-reviews/<int:review_id>/done", methods=["POST"], summary="Record a review held",
             body=ReviewDoneIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_review_done(urn: str, review_id: int, body: dict[str, Any]) -> Referral:
    """Closes the review's reminder task; ``next_review`` books the next one."""
    school = require_school(current_user, urn, write=True)
    review: ReferralReview = referrals.get_review(school.id, _check_id(review_id, "referral review"))
    _done(referrals.complete_review, school.id, review.id, by=_actor(), notes=body.get("notes"),
          next_review=body.get("next_review"))
    return review.referral


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/close", methods=["POST"], summary="Close with an outcome",
             body=CloseIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_close(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    return _step(urn, referral_id, referrals.close, by=_actor(), outcome=body["outcome"], notes=body.get("notes"))


@bp.endpoint("/schools/<urn>/referrals/<int:referral_id>/withdraw", methods=["POST"], summary="Withdraw a referral",
             body=WithdrawIn, response=ReferralOut, errors=CHANGE_ERRORS)
def referral_withdraw(urn: str, referral_id: int, body: dict[str, Any]) -> Referral:
    return _step(urn, referral_id, referrals.withdraw, by=_actor(), reason=body["reason"])


# --- what works here --------------------------------------------------------------------------

@bp.endpoint("/schools/<urn>/impact", summary="What works here: impact per intervention type", query=ImpactQuery,
             response=ImpactOut)
def school_impact(urn: str, query: dict[str, Any]) -> Any:
    """Attendance over the N school weeks before and since each pupil's first intervention of a
    type, against similar pupils of the school who never had it (fewer than ``min_pupils``
    measured: "too few pupils to tell")."""
    school = require_school(current_user, urn)
    rows = queries.intervention_impact([school.id], weeks=query["weeks"], min_pupils=query["min_pupils"])
    return {"weeks": query["weeks"], "data": rows}


@bp.endpoint("/impact", summary="What works here, across your schools", query=TrustImpactQuery, response=ImpactOut,
             errors=(404,))
def trust_impact(query: dict[str, Any]) -> Any:
    """Every school you may see (or one trust's), plus a pooled row per type ("All schools")."""
    schools = visible_schools(current_user)
    if query.get("trust_id"):
        schools = [s for s in schools if s.trust_id == query["trust_id"]]
        if not schools:
            raise NotFound("Trust not found")
    rows = queries.intervention_impact([s.id for s in schools], weeks=query["weeks"], min_pupils=query["min_pupils"])
    return {"weeks": query["weeks"], "data": rows}
