"""Pages: tasks, the intervention log, letters, the case timeline and packs, early-help
referrals, rule settings and "what works here".

Views are thin: they read the form (``forms``), call a service and render. A ``UserError`` from a
service is shown as a 400 with the form re-filled and the reasons listed; nothing is changed.
Every school comes through ``require_school`` (``write=True`` for every change, so heads and
trust leads get a 403 on POST and see no forms); rows of another school answer 404 exactly like
rows that do not exist. Everything that shows or exports a pupil's record is audited.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from outreach.core import audit
from outreach.core.accounts.roles import Role
from outreach.core.errors import NotFound, UserError
from outreach.core.pagination import paginate
from outreach.core.pdf import html_to_pdf
from outreach.core.scoping import can_write, require_school, visible_schools, visible_schools_query
from outreach.core.timeutil import london_today
from outreach.extensions import db
from outreach.interventions import forms, letters, packs, queries, referrals, services
from outreach.interventions.forms import Problems
from outreach.interventions.letters import LETTERS
from outreach.interventions.rules import DEFAULTS, LIMITS
from outreach.interventions.vocabulary import (CONSENT_METHODS, INTERVENTION_TYPES, REFERRAL_OUTCOMES,
                                               REFERRAL_STATUSES, RULES, TASK_STATUSES)
from outreach.schools.models import School, Trust

bp = Blueprint("interventions", __name__)

PER_PAGE = 50
MAX_ID = forms.MAX_ID
# The intervention a task's "log what you did" link suggests. Never a legal step: those are
# only ever recorded after a person has decided on them elsewhere.
SUGGESTED_TYPE = {"first_day_contact": "first_day_call", "n_code_overdue": "first_day_call",
                  "consecutive_absence": "first_day_call", "persistent_absence": "attendance_meeting",
                  "severe_absence": "attendance_meeting", "attendance_drop": "attendance_meeting",
                  "monday_friday": "attendance_meeting"}
SWITCHES = tuple(name for name in DEFAULTS.__dataclass_fields__ if isinstance(getattr(DEFAULTS, name), bool))
# Letters of a school whose own letter document is served (its inline style needs its own policy;
# nothing in a letter is a script).
LETTER_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"


# --- helpers ----------------------------------------------------------------------------------

def _actor() -> str:
    """Who did it, in the words the record shows (the account's name, else its email)."""
    return current_user.name or current_user.email


def _school(urn: str, write: bool = False) -> School:
    return require_school(current_user, urn, write=write)


def _row_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no {what} {value} at this school")
    return value


def _page_no() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


def _refused(exc: UserError) -> UserError:
    """Only a 400 re-shows the form; a 403 or 404 from a service is answered as such."""
    if exc.status_code != 400:
        raise exc
    return exc


def _pick_school(endpoint: str, counts: Callable[[list[School]], dict[int, Any]] | None, title: str, what: str) -> Any:
    """The school-less page behind a navigation entry: straight to the school when the user has
    one, otherwise a list of their schools (with a count) to choose from."""
    schools = list(db.session.scalars(visible_schools_query(current_user).limit(501)))
    if len(schools) == 1:
        return redirect(url_for(endpoint, urn=schools[0].urn))
    numbers = counts(schools) if counts else {}
    return render_template("interventions/pick_school.html", schools=schools[:500], numbers=numbers, endpoint=endpoint,
                           title=title, what=what, truncated=len(schools) > 500)


def _pupil_names(school: School, ids: Any) -> dict[int, Any]:
    return queries.pupils_by_id(school.id, ids)


# --- tasks ------------------------------------------------------------------------------------

@bp.get("/tasks")
@login_required
def tasks_home():  # type: ignore[no-untyped-def]
    return _pick_school("interventions.tasks", lambda ss: queries.task_counts([s.id for s in ss]), "Tasks", "open tasks")


def _task_filters() -> dict[str, Any]:
    status = request.args.get("status", "open")
    rule = request.args.get("rule") or None
    return {"status": status if status in (*TASK_STATUSES, "all") else "open",
            "rule": rule if rule in RULES else None,
            "assigned": (request.args.get("assigned") or "").strip()[:200] or None,
            "unassigned": request.args.get("unassigned") == "1"}


@bp.get("/schools/<urn>/tasks")
@login_required
def tasks(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn)
    f = _task_filters()
    stmt = queries.tasks_query(school.id, status=None if f["status"] == "all" else f["status"], rule=f["rule"],
                               assigned_to=f["assigned"], unassigned=f["unassigned"])
    page = paginate(stmt, _page_no(), PER_PAGE)
    pupils = _pupil_names(school, [t.pupil_id for t in page.items])
    audit.record("tasks.list", school=school, pupil_ids=[t.pupil_id for t in page.items],
                 detail={"status": f["status"], "rule": f["rule"], "page": page.page})
    return render_template("interventions/tasks.html", school=school, page=page, pupils=pupils, filters=f,
                           rules=RULES, statuses=TASK_STATUSES, can_write=can_write(current_user, school),
                           counts=queries.task_counts([school.id])[school.id])


def _render_task(school: School, task_id: int, error: UserError | None = None, status: int = 200) -> Any:
    task = services.get_task(school.id, _row_id(task_id, "task"))
    pupil = _pupil_names(school, [task.pupil_id]).get(task.pupil_id)
    audit.record("task.view", school=school, pupil_ids=[task.pupil_id], detail={"task_id": task.id})
    return render_template("interventions/task.html", school=school, task=task, pupil=pupil, rule=RULES[task.rule],
                           suggested=SUGGESTED_TYPE.get(task.rule), error=error, form=request.form,
                           can_write=can_write(current_user, school), types=INTERVENTION_TYPES), status


@bp.get("/schools/<urn>/tasks/<int:task_id>")
@login_required
def task(urn: str, task_id: int):  # type: ignore[no-untyped-def]
    return _render_task(_school(urn), task_id)


@bp.post("/schools/<urn>/tasks/<int:task_id>/close")
@login_required
def close_task(urn: str, task_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    try:
        row = services.close_task(school.id, _row_id(task_id, "task"), status=request.form.get("status", ""),
                                  by=_actor(), note=forms.text(request.form, "note"))
    except UserError as exc:
        return _render_task(school, task_id, _refused(exc), 400)
    flash(f"Task {row.id} is {row.status}.", "success")
    return redirect(url_for("interventions.task", urn=school.urn, task_id=row.id))


@bp.post("/schools/<urn>/tasks/<int:task_id>/reopen")
@login_required
def reopen_task(urn: str, task_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    try:
        row = services.reopen_task(school.id, _row_id(task_id, "task"))
    except UserError as exc:
        return _render_task(school, task_id, _refused(exc), 400)
    flash(f"Task {row.id} is open again.", "success")
    return redirect(url_for("interventions.task", urn=school.urn, task_id=row.id))


@bp.post("/schools/<urn>/tasks/<int:task_id>/assign")
@login_required
def assign_task(urn: str, task_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    who = forms.text(request.form, "assigned_to")
    if request.form.get("me") == "1":
        who = _actor()
    if who and len(who) > 200:
        return _render_task(school, task_id, UserError("the task cannot be assigned", ["a name is at most 200 characters"]), 400)
    row = services.assign_task(school.id, _row_id(task_id, "task"), who)
    flash(f"Task {row.id} is assigned to {row.assigned_to}." if row.assigned_to else f"Task {row.id} is unassigned.", "success")
    return redirect(url_for("interventions.task", urn=school.urn, task_id=row.id))


# --- the intervention log ---------------------------------------------------------------------

@bp.get("/interventions")
@login_required
def log_home():  # type: ignore[no-untyped-def]
    return _pick_school("interventions.log", None, "Interventions", "")


def _log_filters(problems: list[str]) -> dict[str, Any]:
    kind = request.args.get("type") or None
    since = forms.parse_date(request.args.get("from"), "'from'", problems)
    until = forms.parse_date(request.args.get("to"), "'to'", problems)
    return {"type": kind if kind in INTERVENTION_TYPES else None,
            "pupil": forms.parse_int(request.args.get("pupil"), "the pupil", problems), "from": since, "to": until}


@bp.get("/schools/<urn>/interventions")
@login_required
def log(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn)
    problems = Problems()
    f = _log_filters(problems)
    since = services.london_midday(f["from"]) - timedelta(hours=12) if f["from"] else None
    until = services.london_midday(f["to"]) + timedelta(hours=12) if f["to"] else None
    stmt = queries.interventions_query(school.id, pupil_id=f["pupil"], type=f["type"], since=since, until=until)
    page = paginate(stmt, _page_no(), PER_PAGE)
    today = london_today()
    due = queries.due_next_steps(school.id, today + timedelta(days=7), on_or_after=today - timedelta(days=30))
    pupil_ids = {p for row in [*page.items, *due] for p in row.pupil_ids}
    pupils = _pupil_names(school, pupil_ids)
    audit.record("interventions.list", school=school, pupil_ids=sorted(pupil_ids),
                 detail={"type": f["type"], "pupil": f["pupil"], "page": page.page})
    error = UserError("some filters were not understood", list(problems)) if problems else None
    return render_template("interventions/log.html", school=school, page=page, pupils=pupils, filters=f, due=due,
                           today=today, types=INTERVENTION_TYPES, choices=queries.pupil_choices(school.id, today),
                           can_write=can_write(current_user, school), error=error), (400 if problems else 200)


def _render_new(school: School, error: UserError | None = None, status: int = 200) -> Any:
    source = request.form if request.method == "POST" else request.args
    problems: list[str] = []
    chosen = forms.parse_ids(source.getlist("pupil_ids"), "a pupil id", problems)
    task_id = forms.parse_int(source.get("task_id"), "the task", problems)
    linked = None
    if task_id:
        try:
            linked = services.get_task(school.id, task_id)
        except NotFound:
            linked = None
    today = london_today()
    values = {"type": source.get("type", ""), "occurred_on": source.get("occurred_on") or today.isoformat(),
              **{k: source.get(k, "") for k in ("occurred_time", "outcome", "notes", "next_step", "next_step_date",
                                                 *forms.DETAIL_FIELDS)}}
    return render_template("interventions/new.html", school=school, error=error, values=values, chosen=chosen,
                           choices=queries.pupil_choices(school.id, today, chosen), types=INTERVENTION_TYPES,
                           task=linked, close_task=source.get("close_task", "1" if request.method == "GET" else ""),
                           siblings=source.get("siblings") == "1"), status


@bp.route("/schools/<urn>/interventions/new", methods=["GET", "POST"])
@login_required
def new(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    if request.method == "GET":
        return _render_new(school)
    try:
        values = forms.intervention_fields(request.form)
        if request.form.get("siblings") == "1":
            values["pupil_ids"] = queries.siblings(school.id, values["pupil_ids"], london_today())
        if values["occurred_at"] is None:
            raise UserError("the intervention cannot be recorded", ["give the date it happened"])
        row = services.log_intervention(school, recorded_by=_actor(), **values)
    except UserError as exc:
        return _render_new(school, _refused(exc), 400)
    flash(f"{INTERVENTION_TYPES[row.type].label} recorded for {len(row.pupil_ids)} pupil(s).", "success")
    task_id = forms.parse_int(request.form.get("task_id"), "the task", [])
    if task_id and request.form.get("close_task") == "1":
        try:
            task_row = services.close_task(school.id, task_id, status="done", by=_actor(),
                                           note=f"{INTERVENTION_TYPES[row.type].label} logged (intervention {row.id})")
        except UserError as exc:  # closed meanwhile, or not this school's: the intervention stands
            flash(f"The task was not closed: {exc.message}", "warning")
        else:
            flash(f"Task {task_row.id} is done.", "success")
            return redirect(url_for("interventions.task", urn=school.urn, task_id=task_row.id))
    return redirect(url_for("interventions.detail", urn=school.urn, intervention_id=row.id))


def _render_detail(school: School, intervention_id: int, error: UserError | None = None, status: int = 200) -> Any:
    row = services.get_intervention(school.id, _row_id(intervention_id, "intervention"))
    pupils = _pupil_names(school, row.pupil_ids)
    audit.record("intervention.view", school=school, pupil_ids=row.pupil_ids, detail={"intervention_id": row.id})
    return render_template("interventions/detail.html", school=school, row=row, pupils=pupils, kind=INTERVENTION_TYPES[row.type],
                           error=error, form=request.form, can_write=can_write(current_user, school)), status


@bp.get("/schools/<urn>/interventions/<int:intervention_id>")
@login_required
def detail(urn: str, intervention_id: int):  # type: ignore[no-untyped-def]
    return _render_detail(_school(urn), intervention_id)


@bp.post("/schools/<urn>/interventions/<int:intervention_id>/outcome")
@login_required
def outcome(urn: str, intervention_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    try:
        row = services.record_outcome(school.id, _row_id(intervention_id, "intervention"), **forms.outcome_fields(request.form))
    except UserError as exc:
        return _render_detail(school, intervention_id, _refused(exc), 400)
    flash("The intervention is updated.", "success")
    return redirect(url_for("interventions.detail", urn=school.urn, intervention_id=row.id))


def _letter_document(html: str, filename: str | None = None) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = LETTER_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _sent_letter(school: School, intervention_id: int) -> Any:
    row = services.get_intervention(school.id, _row_id(intervention_id, "intervention"))
    if not row.letter_html:
        raise NotFound(f"intervention {row.id} has no letter")
    return row


@bp.get("/schools/<urn>/interventions/<int:intervention_id>/letter")
@login_required
def letter_copy(urn: str, intervention_id: int):  # type: ignore[no-untyped-def]
    """The letter exactly as sent, printable (the browser's print gives the paper copy)."""
    school = _school(urn)
    row = _sent_letter(school, intervention_id)
    audit.record("letter.view", school=school, pupil_ids=row.pupil_ids, detail={"intervention_id": row.id})
    return _letter_document(row.letter_html)


@bp.get("/schools/<urn>/interventions/<int:intervention_id>/letter.pdf")
@login_required
def letter_pdf(urn: str, intervention_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn)
    row = _sent_letter(school, intervention_id)
    audit.record("letter.export", school=school, pupil_ids=row.pupil_ids, detail={"intervention_id": row.id, "format": "pdf"})
    response = Response(html_to_pdf(row.letter_html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="letter-{school.urn}-{row.id}.pdf"'
    return response


# --- letters ----------------------------------------------------------------------------------

def _letter_query() -> dict[str, Any]:
    """The letter form's values as given (a GET for the preview, a POST to send)."""
    source = request.form if request.method == "POST" else request.args
    return {"kind": source.get("kind", ""), "sender": source.get("sender") or _actor(),
            "sender_role": source.get("sender_role", ""), "contact_id": source.get("contact_id", ""),
            **{name: source.get(name, "") for name in forms.LETTER_VALUES}}


def _render_letter_form(school: School, error: UserError | None = None, status: int = 200) -> Any:
    source = request.form if request.method == "POST" else request.args
    problems: list[str] = []
    chosen = forms.parse_ids(source.getlist("pupil_ids"), "a pupil id", problems)
    today = london_today()
    preview_url = None
    if request.method == "GET" and source.get("preview") == "1" and error is None:
        try:  # check it renders before pointing the preview frame at it
            args = forms.letter_fields(source)
            letters.render_letter(school, args["kind"], args["pupil_ids"], sender=args["sender"],
                                  sender_role=args["sender_role"], contact_id=args["contact_id"], values=args["values"])
            preview_url = url_for("interventions.letter_preview", urn=school.urn, **request.args.to_dict(flat=False))
        except UserError as exc:
            error, status = _refused(exc), 400
    return render_template("interventions/letter_form.html", school=school, error=error, values=_letter_query(),
                           chosen=chosen, choices=queries.pupil_choices(school.id, today, chosen), kinds=LETTERS,
                           contacts=queries.contacts_of(school.id, chosen), preview_url=preview_url), status


@bp.get("/schools/<urn>/letters")
@login_required
def letter_form(urn: str):  # type: ignore[no-untyped-def]
    return _render_letter_form(_school(urn, write=True))


@bp.get("/schools/<urn>/letters/preview")
@login_required
def letter_preview(urn: str):  # type: ignore[no-untyped-def]
    """The letter as it would be sent (the letter page's preview frame, or a tab of its own)."""
    school = _school(urn, write=True)
    args = forms.letter_fields(request.args)
    letter = letters.render_letter(school, args["kind"], args["pupil_ids"], sender=args["sender"],
                                   sender_role=args["sender_role"], contact_id=args["contact_id"], values=args["values"])
    audit.record("letter.preview", school=school, pupil_ids=list(letter.pupil_ids), detail={"kind": letter.kind})
    return _letter_document(letter.html)


@bp.post("/schools/<urn>/letters")
@login_required
def send_letter(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    try:
        args = forms.letter_fields(request.form)
        row, letter = letters.send_letter(school, args["kind"], args["pupil_ids"], sender=args["sender"],
                                          recorded_by=_actor(), sender_role=args["sender_role"],
                                          contact_id=args["contact_id"], values=args["values"])
    except UserError as exc:
        return _render_letter_form(school, _refused(exc), 400)
    flash(f"The letter is recorded as sent ({letter.title}). Print it or download the PDF below.", "success")
    return redirect(url_for("interventions.detail", urn=school.urn, intervention_id=row.id))


# --- the case timeline and packs --------------------------------------------------------------

def _render_timeline(school: School, pupil_id: int, error: UserError | None = None, status: int = 200) -> Any:
    pupil = services.school_pupils(school.id, [pupil_id])[0]  # the callers checked it is the school's
    events = queries.case_timeline(school.id, pupil.id)
    attendance = referrals.attendance_summary(school.id, pupil.id, london_today())
    audit.record("pupil.view", school=school, pupil_ids=[pupil.id], detail={"page": "timeline", "events": len(events)})
    return render_template("interventions/timeline.html", school=school, pupil=pupil, events=events[::-1],
                           attendance=attendance, error=error, form=request.form, formats=packs.FORMATS,
                           open_tasks=queries.list_tasks(school.id, pupil_id=pupil.id),
                           referrals=referrals.list_referrals(school.id, pupil_id=pupil.id),
                           can_write=can_write(current_user, school)), status


def _pupil_or_404(school: School, pupil_id: int) -> None:
    try:
        services.school_pupils(school.id, [_row_id(pupil_id, "pupil")])
    except UserError:
        raise NotFound("Pupil not found") from None


@bp.get("/schools/<urn>/pupils/<int:pupil_id>/timeline")
@login_required
def timeline(urn: str, pupil_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn)
    _pupil_or_404(school, pupil_id)
    return _render_timeline(school, pupil_id)


def _download(file: packs.ExportFile) -> Response:
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@bp.post("/schools/<urn>/pupils/<int:pupil_id>/pack")
@login_required
def case_pack(urn: str, pupil_id: int):  # type: ignore[no-untyped-def]
    """Exporting reads (every role that sees the school may), and is always audited."""
    school = _school(urn)
    _pupil_or_404(school, pupil_id)
    purpose = forms.text(request.form, "purpose")
    try:
        if purpose and len(purpose) > 200:
            raise UserError("the pack cannot be exported", ["the purpose is at most 200 characters"])
        file = packs.case_pack(school, pupil_id, request.form.get("format", ""), requested_by=_actor(), purpose=purpose,
                               audit=audit.record)
    except UserError as exc:
        return _render_timeline(school, pupil_id, _refused(exc), 400)
    return _download(file)


# --- early-help referrals ---------------------------------------------------------------------

@bp.get("/referrals")
@login_required
def referrals_home():  # type: ignore[no-untyped-def]
    return _pick_school("interventions.referrals_list", None, "Early-help referrals", "")


@bp.get("/schools/<urn>/referrals")
@login_required
def referrals_list(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn)
    status = request.args.get("status") or None
    status = status if status in REFERRAL_STATUSES else None
    rows = referrals.list_referrals(school.id, status=status)
    pupils = _pupil_names(school, [r.pupil_id for r in rows])
    audit.record("referrals.list", school=school, pupil_ids=sorted(pupils), detail={"status": status})
    return render_template("interventions/referrals.html", school=school, rows=rows, pupils=pupils, status=status,
                           statuses=REFERRAL_STATUSES, can_write=can_write(current_user, school))


def _render_new_referral(school: School, error: UserError | None = None, status: int = 200) -> Any:
    source = request.form if request.method == "POST" else request.args
    chosen = forms.parse_int(source.get("pupil_id"), "the pupil", [])
    today = london_today()
    return render_template("interventions/referral_new.html", school=school, error=error, chosen=chosen,
                           choices=queries.pupil_choices(school.id, today, [chosen] if chosen else []),
                           reason=source.get("reason", ""), officer=source.get("officer", "")), status


@bp.route("/schools/<urn>/referrals/new", methods=["GET", "POST"])
@login_required
def new_referral(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    if request.method == "GET":
        return _render_new_referral(school)
    try:
        problems = Problems()
        pupil_id = forms.parse_int(request.form.get("pupil_id"), "the pupil", problems)
        if pupil_id is None and not problems:
            problems.append("choose the pupil")
        problems.check("the referral cannot be drafted")
        row = referrals.draft_referral(school, pupil_id, reason=request.form.get("reason", ""),  # type: ignore[arg-type]
                                       created_by=_actor(), officer=forms.text(request.form, "officer"))
    except UserError as exc:
        return _render_new_referral(school, _refused(exc), 400)
    flash(f"Referral {row.id} is drafted, pre-filled with attendance, interventions and contacts. "
          "Record the family's consent before submitting it.", "success")
    return redirect(url_for("interventions.referral", urn=school.urn, referral_id=row.id))


def _render_referral(school: School, referral_id: int, error: UserError | None = None, status: int = 200,
                     action: str | None = None) -> Any:
    row = referrals.get_referral(school.id, _row_id(referral_id, "referral"))
    pupil = referrals.pupil_of(row)
    audit.record("referral.view", school=school, pupil_ids=[pupil.id], detail={"referral_id": row.id})
    return render_template("interventions/referral.html", school=school, row=row, pupil=pupil, prefill=row.prefill or {},
                           error=error, action=action, form=request.form, methods=CONSENT_METHODS,
                           outcomes=REFERRAL_OUTCOMES, today=london_today(),
                           can_write=can_write(current_user, school)), status


@bp.get("/schools/<urn>/referrals/<int:referral_id>")
@login_required
def referral(urn: str, referral_id: int):  # type: ignore[no-untyped-def]
    return _render_referral(_school(urn), referral_id)


def _consent(school: School, referral_id: int, form: Any) -> str:
    problems = Problems()
    given = form.get("given")
    if given not in ("yes", "no"):
        problems.append("say whether consent was given or refused")
    at = forms.parse_when(form.get("on"), form.get("time"), "the consent", problems) if form.get("on") else None
    problems.check("consent cannot be recorded")
    row = referrals.record_consent(school.id, referral_id, given=given == "yes", by_whom=form.get("by_whom", ""),
                                   method=form.get("method", ""), recorded_by=_actor(), at=at)
    return "Consent given is recorded." if row.consent_given else "Refused consent is recorded: the referral cannot be submitted."


def _submit(school: School, referral_id: int, form: Any) -> str:
    referrals.submit(school.id, referral_id, by=_actor(), to=form.get("to", ""))
    return "The referral is recorded as submitted (and logged as an early-help referral)."


def _decide(school: School, referral_id: int, form: Any) -> str:
    problems = Problems()
    accepted = form.get("accepted")
    if accepted not in ("yes", "no"):
        problems.append("say whether early help accepted or declined the referral")
    first = forms.parse_date(form.get("first_review"), "the first review date", problems)
    problems.check("the decision cannot be recorded")
    row = referrals.decide(school.id, referral_id, accepted=accepted == "yes", by=_actor(), note=forms.text(form, "note"),
                           lead_practitioner=forms.text(form, "lead_practitioner"),
                           lead_practitioner_contact=forms.text(form, "lead_practitioner_contact"), first_review=first)
    return f"The referral is {row.status}."


def _review(school: School, referral_id: int, form: Any) -> str:
    problems = Problems()
    due = forms.parse_date(form.get("due_date"), "the review date", problems)
    if due is None and not problems:
        problems.append("give the review date")
    problems.check("the review cannot be scheduled")
    review = referrals.schedule_review(school.id, referral_id, due, by=_actor())  # type: ignore[arg-type]
    return f"A review is scheduled for {review.due_date:%-d %B %Y}."


def _close(school: School, referral_id: int, form: Any) -> str:
    referrals.close(school.id, referral_id, by=_actor(), outcome=form.get("outcome", ""), notes=forms.text(form, "notes"))
    return "The referral is closed."


def _withdraw(school: School, referral_id: int, form: Any) -> str:
    referrals.withdraw(school.id, referral_id, by=_actor(), reason=form.get("reason", ""))
    return "The referral is withdrawn."


def _refresh(school: School, referral_id: int, form: Any) -> str:
    referrals.refresh_prefill(school.id, referral_id)
    return "The draft's attendance, interventions and contacts are brought up to date."


REFERRAL_ACTIONS: dict[str, Callable[[School, int, Any], str]] = {
    "consent": _consent, "submit": _submit, "decide": _decide, "review": _review, "close": _close,
    "withdraw": _withdraw, "refresh": _refresh,
}


@bp.post("/schools/<urn>/referrals/<int:referral_id>/<action>")
@login_required
def referral_action(urn: str, referral_id: int, action: str):  # type: ignore[no-untyped-def]
    """One step of the referral's life (each checked by the referral services)."""
    school = _school(urn, write=True)
    step = REFERRAL_ACTIONS.get(action)
    if step is None:
        abort(404)
    referrals.get_referral(school.id, _row_id(referral_id, "referral"))
    try:
        message = step(school, referral_id, request.form)
    except UserError as exc:
        return _render_referral(school, referral_id, _refused(exc), 400, action=action)
    flash(message, "success")
    return redirect(url_for("interventions.referral", urn=school.urn, referral_id=referral_id))


@bp.post("/schools/<urn>/referrals/<int:referral_id>/reviews/<int:review_id>/done")
@login_required
def review_done(urn: str, referral_id: int, review_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn, write=True)
    review = referrals.get_review(school.id, _row_id(review_id, "referral review"))
    if review.referral_id != referral_id:
        raise NotFound(f"no referral review {review_id} on referral {referral_id}")
    try:
        problems = Problems()
        next_review = forms.parse_date(request.form.get("next_review"), "the next review date", problems)
        problems.check("the review cannot be recorded")
        referrals.complete_review(school.id, review.id, by=_actor(), notes=forms.text(request.form, "notes"),
                                  next_review=next_review)
    except UserError as exc:
        return _render_referral(school, referral_id, _refused(exc), 400, action=f"review-{review_id}")
    flash("The review is recorded.", "success")
    return redirect(url_for("interventions.referral", urn=school.urn, referral_id=referral_id))


@bp.post("/schools/<urn>/referrals/<int:referral_id>/pack")
@login_required
def referral_pack(urn: str, referral_id: int):  # type: ignore[no-untyped-def]
    school = _school(urn)
    try:
        file = packs.referral_pack(school, _row_id(referral_id, "referral"), request.form.get("format", ""),
                                   requested_by=_actor(), audit=audit.record)
    except UserError as exc:
        return _render_referral(school, referral_id, _refused(exc), 400, action="pack")
    return _download(file)


# --- rule settings ----------------------------------------------------------------------------

def _render_rules(school: School, error: UserError | None = None, status: int = 200) -> Any:
    settings = services.rule_settings(school.id)
    values = {name: getattr(settings, name) for name in DEFAULTS.__dataclass_fields__}
    if request.method == "POST":  # re-show what was typed
        values.update(forms.rule_setting_changes(request.form, values, SWITCHES))
    return render_template("interventions/rules.html", school=school, settings=settings, values=values, error=error,
                           defaults=DEFAULTS, limits=LIMITS, switches=SWITCHES, rules=RULES,
                           can_write=can_write(current_user, school)), status


@bp.route("/schools/<urn>/rules", methods=["GET", "POST"])
@login_required
def rules(urn: str):  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _render_rules(_school(urn))
    school = _school(urn, write=True)
    names = list(DEFAULTS.__dataclass_fields__)
    changes = forms.rule_setting_changes(request.form, names, SWITCHES)
    try:
        services.update_rule_settings(school, changes, updated_by=_actor())
    except UserError as exc:
        return _render_rules(school, _refused(exc), 400)
    audit.record("rules.update", school=school, detail={"settings": sorted(changes)})
    flash("The rule settings are saved. They apply from the next evaluation (after the next import, or tonight).", "success")
    return redirect(url_for("interventions.rules", urn=school.urn))


# --- what works here --------------------------------------------------------------------------

def _weeks() -> tuple[int, list[str]]:
    problems: list[str] = []
    weeks = forms.parse_int(request.args.get("weeks"), "weeks", problems, lo=1, hi=20)
    return weeks or 6, problems


@bp.get("/schools/<urn>/impact")
@login_required
def impact(urn: str):  # type: ignore[no-untyped-def]
    school = _school(urn)
    weeks, problems = _weeks()
    rows = queries.intervention_impact([school.id], weeks=weeks)
    error = UserError("the number of weeks was not understood", problems) if problems else None
    return render_template("interventions/impact.html", school=school, rows=rows, weeks=weeks, error=error,
                           trust=None, trusts=[]), (400 if problems else 200)


@bp.get("/impact")
@login_required
def impact_home():  # type: ignore[no-untyped-def]
    """Every school the user may see, side by side, with a pooled row: for a trust lead, their
    trust. Administrators choose a trust (every school of the service at once would be slow)."""
    weeks, problems = _weeks()
    schools = visible_schools(current_user)
    trust_id = forms.parse_int(request.args.get("trust"), "the trust", problems)
    trust = db.session.get(Trust, trust_id) if trust_id else None
    trusts = sorted({s.trust for s in schools if s.trust is not None}, key=lambda t: t.name)
    if trust_id and (trust is None or trust not in trusts):
        raise NotFound("Trust not found")
    if trust is not None:
        schools = [s for s in schools if s.trust_id == trust.id]
    elif current_user.role == Role.ADMIN and len(trusts) > 1:
        schools = []  # choose a trust first
    rows = queries.intervention_impact([s.id for s in schools], weeks=weeks) if schools else []
    error = UserError("some choices were not understood", problems) if problems else None
    return render_template("interventions/impact.html", school=None, schools=schools, rows=rows, weeks=weeks,
                           error=error, trust=trust, trusts=trusts), (400 if problems else 200)
