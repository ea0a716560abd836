"""The messaging pages: outbox, compose (review before sending), inbox, templates, opt-outs.

Every view gets its school through ``require_school`` (read roles see; a POST asks for write
access, so heads and trust leads get 403) and every row through a query bound to that school.
Views parse input, call a query or a service, and render; the rules live in ``compose``,
``templates``, ``staff_services`` and ``queries``.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from outreach.core import audit
from outreach.core.accounts.decorators import roles_required
from outreach.core.accounts.roles import Role
from outreach.core.errors import NotFound, UserError
from outreach.core.pagination import paginate
from outreach.core.scoping import can_write, require_school, visible_schools_query
from outreach.core.timeutil import LONDON, academic_year_start, london_today, utcnow
from outreach.extensions import db
from outreach.messaging import queries, staff_services
from outreach.messaging.compose_form import (
    SEN_CHOICES, ComposeRequest, parse_compose, placeholders_to_ask, review_fingerprint,
)
from outreach.messaging.labels import STATUS_LABELS, explain_error, mask_phone, status_label
from outreach.messaging.models import OUTBOX_STATUSES
from outreach.messaging.placeholders import PLACEHOLDER_HELP, PURPOSES
from outreach.messaging.quiet_hours_settings import policy_for_school
from outreach.messaging.templates import (
    FALLBACK_LANGUAGE, ensure_default_templates, format_school_phone, get_template, list_templates, normalise_language, preview,
    save_template,
)
from outreach.schools.models import Pupil, School

bp = Blueprint("messages", __name__)
MAX_SCHOOL_CHOICES = 500  # schools offered when passing an unmatched reply on

PER_PAGE = 50
_MINUTE = timedelta(minutes=1)
SAMPLES = 5  # rendered messages shown on the review page


def _page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


def _writer() -> str:
    return current_user.email


@bp.app_template_filter("status_word")
def _status_word(status: str) -> str:
    return status_label(status).word


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    writers: dict[int, bool] = {}  # per request: asked once per school, not once per row

    def show_phone(phone: str | None, school: School | None = None) -> str:
        """Full numbers for roles that contact families; the last three digits for the rest."""
        if school is not None and school.id not in writers:
            writers[school.id] = can_write(current_user, school)
        if school is not None and writers[school.id]:
            return format_school_phone(phone) or ""
        return mask_phone(phone)

    return {"show_phone": show_phone, "status_label": status_label, "pupil_name": _pupil_name}


def _pupil_name(pupil: Pupil | None) -> str:
    if pupil is None:
        return "a pupil no longer on the system"
    return f"{(pupil.preferred_forename or pupil.forename).strip()} {pupil.surname}".strip()


# --- overview ---------------------------------------------------------------------------------

@bp.get("/messages")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The navigation's entry: one school goes straight to its outbox; several get a summary."""
    page = paginate(visible_schools_query(current_user), _page_arg(), PER_PAGE)
    if page.total == 1 and page.page == 1:
        return redirect(url_for("messages.outbox", urn=page.items[0].urn))
    unmatched_new = (db.session.scalar(select(func.count()).select_from(staff_services.unmatched_query("new").subquery()))
                     if current_user.role == Role.ADMIN else None)
    return render_template("messaging/index.html", page=page, rows=queries.overview(page.items),
                           unmatched_new=unmatched_new)


# --- replies from unknown numbers (administrators) ---------------------------------------------

@bp.get("/messages/unmatched")
@roles_required(Role.ADMIN)
def unmatched():  # type: ignore[no-untyped-def]
    status = request.args.get("status", "new")
    if status not in ("new", "done", "all"):
        status = "new"
    page = paginate(staff_services.unmatched_query(status), _page_arg(), PER_PAGE)
    counts = {key: db.session.scalar(select(func.count()).select_from(staff_services.unmatched_query(key).subquery()))
              for key in ("new", "done", "all")}
    schools = list(db.session.scalars(select(School).order_by(School.name).limit(MAX_SCHOOL_CHOICES)))
    return render_template("messaging/unmatched.html", page=page, status=status, counts=counts, schools=schools)


@bp.post("/messages/unmatched/<int:item_id>")
@roles_required(Role.ADMIN)
def unmatched_action(item_id: int):  # type: ignore[no-untyped-def]
    action = request.form.get("action", "done")
    if action in ("done", "new"):
        staff_services.set_unmatched_done(item_id, action == "done", by=_writer())
        flash("Marked as done." if action == "done" else "Moved back to new replies.", "success")
    elif action == "school":
        school = require_school(current_user, request.form.get("urn", ""))
        staff_services.send_unmatched_to_school(item_id, school, by=_writer())
        flash(f"Passed to {school.name}'s inbox.", "success")
    else:
        raise UserError("choose done, new or a school")
    back = request.form.get("back", "new")
    return redirect(url_for("messages.unmatched", status=back if back in ("new", "done", "all") else "new"), code=303)


# --- outbox -----------------------------------------------------------------------------------

@bp.get("/schools/<urn>/messages")
@login_required
def outbox(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    error = None
    try:
        filters = queries.parse_outbox_filter(request.args)
    except UserError as exc:
        error, filters = exc, queries.OutboxFilter()
    page = paginate(queries.outbox_query(school, filters), _page_arg(), PER_PAGE)
    counts = queries.status_counts(school, filters)
    contacts = queries.contacts_by_id(school, (m.contact_id for m in page.items))
    return render_template("messaging/outbox.html", school=school, page=page, counts=counts, filters=filters,
                           args=request.args, error=error, statuses=OUTBOX_STATUSES, labels=STATUS_LABELS,
                           purposes=queries.purposes_used(school), contacts=contacts,
                           can_write=can_write(current_user, school)), (400 if error else 200)


@bp.get("/schools/<urn>/messages/<int:message_id>")
@login_required
def message(urn: str, message_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    row = queries.get_message(school, message_id)
    if row is None:
        raise NotFound("No such message")
    pupils = queries.pupils_by_id(school, row.pupil_ids or [])
    contact = queries.contacts_by_id(school, [row.contact_id]).get(row.contact_id or 0)
    audit.record("message.view", school=school, pupil_ids=list(pupils), detail={"outbox_id": row.id})
    return render_template("messaging/message.html", school=school, row=row, pupils=pupils, contact=contact,
                           label=status_label(row.status), explanation=explain_error(row.error_code),
                           can_write=can_write(current_user, school))


@bp.post("/schools/<urn>/messages/<int:message_id>/cancel")
@login_required
def cancel(urn: str, message_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    try:
        staff_services.cancel_message(school, message_id, by=_writer())
    except NotFound:
        raise
    except UserError as exc:
        flash(f"Not cancelled: {exc.message}.", "error")
    else:
        audit.record("message.cancel", school=school, detail={"outbox_id": message_id})
        flash("The message is cancelled and will not be sent.", "success")
    return redirect(url_for("messages.message", urn=school.urn, message_id=message_id))


# --- compose ----------------------------------------------------------------------------------

def _compose_context(school: School) -> dict[str, Any]:
    templates = list_templates(school.id)
    choices = queries.audience_choices(school, london_today())
    return {"school": school, "templates": templates, "choices": choices, "sen_choices": SEN_CHOICES,
            "purposes": PURPOSES, "asks": {t.name: placeholders_to_ask(t.purpose) for t in templates},
            "placeholder_help": PLACEHOLDER_HELP, "policy": policy_for_school(school.id),
            "default_since": academic_year_start(london_today()), "today": london_today(),
            "can_write": True}  # compose is write-only: the view asked for write access


def _args_lists() -> dict[str, list[str]]:
    source = request.form if request.method == "POST" else request.args
    return {k: source.getlist(k) for k in source}


def _parse(school: School) -> ComposeRequest:
    purpose_of = {t.name: t.purpose for t in list_templates(school.id)}
    return parse_compose(_args_lists(), purpose_of=purpose_of, timezone=LONDON, now=utcnow())


@bp.get("/schools/<urn>/messages/compose")
@login_required
def compose(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    return render_template("messaging/compose.html", args=request.args, errors=None, **_compose_context(school))


def _render_review(school: School, req: ComposeRequest, review: Any, *, changed: bool = False, status: int = 200):  # type: ignore[no-untyped-def]
    contacts = queries.contacts_by_id(school, [m.contact_id for m in review.messages[:SAMPLES]]
                                      + [e.contact_id for e in review.contacts_excluded])
    pupil_ids = {p for e in review.exclusions for p in e.pupil_ids}
    pupils = queries.pupils_by_id(school, pupil_ids)
    now = utcnow()
    send_time = min((m.not_before_utc for m in review.messages), default=None)
    asked = req.send_at or now
    deferred = send_time is not None and send_time > asked.astimezone(send_time.tzinfo) + _MINUTE
    audit.record("messages.review", school=school, pupil_ids=review.pupils_covered,
                 detail={"template": req.template, "messages": review.message_count})
    return render_template("messaging/review.html", school=school, req=req, review=review,
                           samples=review.messages[:SAMPLES], contacts=contacts, pupils=pupils,
                           merged=sum(1 for m in review.messages if len(m.pupil_ids) > 1),
                           fingerprint=review_fingerprint(m.idempotency_key for m in review.messages),
                           send_time=send_time, deferred=deferred, policy=policy_for_school(school.id),
                           changed=changed, purpose=PURPOSES[review.purpose]), status


@bp.get("/schools/<urn>/messages/compose/review")
@login_required
def review(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    try:
        req = _parse(school)
        result, _ = staff_services.build_review(school, req)
    except NotFound:
        raise
    except UserError as exc:
        return render_template("messaging/compose.html", args=request.args, errors=exc,
                               **_compose_context(school)), 400
    return _render_review(school, req, result)


@bp.post("/schools/<urn>/messages/compose/send")
@login_required
def send(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    fingerprint = request.form.get("fingerprint", "").strip()[:64]
    try:
        req = _parse(school)
        outcome = staff_services.confirm_send(school, req, fingerprint, created_by=_writer())
    except staff_services.ReviewChanged as exc:
        return _render_review(school, req, exc.review, changed=True, status=409)
    except NotFound:
        raise
    except UserError as exc:
        return render_template("messaging/compose.html", args=request.form, errors=exc,
                               **_compose_context(school)), 400
    audit.record("messages.send", school=school, pupil_ids=outcome.review.pupils_covered,
                 detail={"template": req.template, "created": outcome.created, "already": outcome.already})
    if outcome.created == 0:
        flash(f"These {outcome.already} messages were already in the outbox from an earlier confirm: nothing new was added.",
              "warning")
    else:
        text = f"{outcome.created} message{'s' if outcome.created != 1 else ''} added to the outbox."
        if outcome.already:
            text += f" {outcome.already} were already there and were not added again."
        if outcome.blocked:
            text += f" {outcome.blocked} will not go: the number opted out a moment ago."
        flash(text, "success")
    return redirect(url_for("messages.outbox", urn=school.urn, status="scheduled"))


# --- inbox ------------------------------------------------------------------------------------

@bp.get("/schools/<urn>/messages/inbox")
@login_required
def inbox(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    status = request.args.get("status", "new")
    if status not in ("new", "done", "all"):
        status = "new"
    page = paginate(queries.inbox_query(school, status), _page_arg(), PER_PAGE)
    contacts = queries.contacts_by_id(school, (i.contact_id for i in page.items))
    pupils = queries.pupils_by_id(school, (p for i in page.items for p in (i.pupil_ids or [])))
    counts = queries.inbox_status_counts(school)
    return render_template("messaging/inbox.html", school=school, page=page, contacts=contacts, pupils=pupils,
                           status=status, counts=counts, can_write=can_write(current_user, school))


@bp.post("/schools/<urn>/messages/inbox/<int:item_id>")
@login_required
def inbox_mark(urn: str, item_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    action = request.form.get("action", "done")
    if action not in ("done", "new"):
        raise UserError("choose done or new")
    staff_services.set_inbox_done(school, item_id, action == "done", by=_writer())
    flash("Marked as done." if action == "done" else "Moved back to new replies.", "success")
    back = request.form.get("back", "new")
    return redirect(url_for("messages.inbox", urn=school.urn, status=back if back in ("new", "done", "all") else "new"))


# --- templates --------------------------------------------------------------------------------

@bp.get("/schools/<urn>/messages/templates")
@login_required
def templates(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    rows = list_templates(school.id)
    previews = {}
    for t in rows:
        english = t.variant(FALLBACK_LANGUAGE)
        if english is not None:
            try:
                previews[t.id] = preview(school, t.purpose, english.body)
            except UserError:  # saved before a rule changed: the edit page shows why
                previews[t.id] = None
    return render_template("messaging/templates.html", school=school, rows=rows, previews=previews, purposes=PURPOSES,
                           can_write=can_write(current_user, school))


@bp.post("/schools/<urn>/messages/templates/defaults")
@login_required
def template_defaults(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    created = ensure_default_templates(school)
    flash(f"{len(created)} default template{'s' if len(created) != 1 else ''} added." if created
          else "The school already has every default template.", "success")
    return redirect(url_for("messages.templates", urn=school.urn))


def _template_page(school: School, *, name: str | None, purpose: str, language: str, body: str,
                   errors: UserError | None = None, shown: Any = None, status: int = 200, saved_body: str | None = None,
                   new_name: str = ""):  # type: ignore[no-untyped-def]
    template = get_template(school.id, name) if name else None
    return render_template("messaging/template.html", school=school, template=template, name=name or new_name,
                           purpose=purpose, language=language, body=body, errors=errors, shown=shown,
                           purposes=PURPOSES, placeholder_help=PLACEHOLDER_HELP, saved_body=saved_body,
                           can_write=can_write(current_user, school)), status


@bp.route("/schools/<urn>/messages/templates/new", methods=["GET", "POST"])
@login_required
def new_template(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    if request.method == "GET":
        purpose = request.args.get("purpose", "general")
        return _template_page(school, name=None, purpose=purpose if purpose in PURPOSES else "general",
                              language=FALLBACK_LANGUAGE, body="")
    name = request.form.get("name", "").strip().lower()[:60]
    purpose = request.form.get("purpose", "")
    body = request.form.get("body", "")
    if request.form.get("action") == "preview":
        return _preview_only(school, None, purpose, FALLBACK_LANGUAGE, body, new_name=name)
    if name and any(t.name == name for t in list_templates(school.id)):
        err = UserError(f"the school already has a template called {name!r}: open it to edit, or choose another name")
        return _template_page(school, name=None, purpose=purpose if purpose in PURPOSES else "general",
                              language=FALLBACK_LANGUAGE, body=body, errors=err, status=400, new_name=name)
    try:
        save_template(school, name=name, purpose=purpose, language=FALLBACK_LANGUAGE, body=body, updated_by=_writer())
    except UserError as exc:
        db.session.rollback()
        return _template_page(school, name=None, purpose=purpose if purpose in PURPOSES else "general",
                              language=FALLBACK_LANGUAGE, body=body, errors=exc, status=400, new_name=name)
    flash(f"Template {name!r} saved.", "success")
    return redirect(url_for("messages.template", urn=school.urn, name=name))


def _preview_only(school: School, name: str | None, purpose: str, language: str, body: str, new_name: str = ""):  # type: ignore[no-untyped-def]
    try:
        shown = preview(school, purpose, body, language)
        errors = None
    except UserError as exc:
        shown, errors = None, exc
    return _template_page(school, name=name, purpose=purpose if purpose in PURPOSES else "general",
                          language=language, body=body, errors=errors, shown=shown,
                          status=200 if errors is None else 400, new_name=new_name)


@bp.route("/schools/<urn>/messages/templates/<name>", methods=["GET", "POST"])
@login_required
def template(urn: str, name: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=request.method == "POST")
    existing = get_template(school.id, name[:60])
    if request.method == "GET":
        language = _language(request.args.get("language"))
        variant = existing.variant(language)
        body = variant.body if variant else ""
        shown = None
        if variant is not None:
            try:
                shown = preview(school, existing.purpose, variant.body, language)
            except UserError:
                shown = None
        return _template_page(school, name=existing.name, purpose=existing.purpose, language=language, body=body,
                              shown=shown, saved_body=body if variant else None)
    language = _language(request.form.get("language"))
    body = request.form.get("body", "")
    action = request.form.get("action", "save")
    if action == "preview":
        return _preview_only(school, existing.name, existing.purpose, language, body)
    if action == "delete":
        return _delete_variant(school, existing.name, language)
    try:
        save_template(school, name=existing.name, purpose=existing.purpose, language=language, body=body,
                      updated_by=_writer())
    except UserError as exc:
        db.session.rollback()
        return _template_page(school, name=existing.name, purpose=existing.purpose, language=language, body=body,
                              errors=exc, status=400)
    flash(f"Saved the {language} version of {existing.name!r}.", "success")
    return redirect(url_for("messages.template", urn=school.urn, name=existing.name, language=language))


def _language(raw: str | None) -> str:
    """A language code from the address or form ('PL' -> 'pl'); anything else is a 400."""
    language = normalise_language(raw)
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", language):
        raise UserError(f"language {language[:20]!r} must be a code such as en, pl, ur, ro or pt-br")
    return language


def _delete_variant(school: School, name: str, language: str):  # type: ignore[no-untyped-def]
    from outreach.messaging.templates import delete_variant

    try:
        delete_variant(school, name, language)
    except NotFound:
        raise
    except UserError as exc:
        flash(f"Not deleted: {exc.message}.", "error")
        return redirect(url_for("messages.template", urn=school.urn, name=name, language=language))
    flash(f"Deleted the {language} version of {name!r}; those contacts now receive the English one.", "success")
    return redirect(url_for("messages.template", urn=school.urn, name=name))


# --- opt-outs ---------------------------------------------------------------------------------

@bp.get("/schools/<urn>/messages/opt-outs")
@login_required
def opt_outs(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    writer = can_write(current_user, school)
    raw = request.args.get("phone", "").strip()[:30]
    digits = queries.phone_digits(raw)
    page = paginate(queries.opt_outs_query(school, digits), _page_arg(), PER_PAGE)
    contacts = queries.contacts_by_phone(school, (o.phone for o in page.items))
    return render_template("messaging/opt_outs.html", school=school, page=page, contacts=contacts, phone=raw,
                           can_write=writer)


def register(app: Any) -> None:
    """Blueprint and navigation entry (called from ``outreach.web``)."""
    from outreach.core.nav import register_nav

    app.register_blueprint(bp)
    register_nav(app, "Messages", "messages.index", active_for=["messages."])

