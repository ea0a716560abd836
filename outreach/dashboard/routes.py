"""Pages: Today, school overview, pupils (with CSV export), one pupil, trust comparison.

Views are thin: every school comes through ``require_school`` (404 for a school the user may
not see, the same as one that does not exist), figures through ``dashboard.queries``.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from outreach.attendance import queries as aq, reports
from outreach.core import audit
from outreach.core.accounts.roles import Role
from outreach.core.errors import Forbidden, NotFound, UserError
from outreach.core.pagination import Page
from outreach.core.scoping import MAX_ID, can_write, require_school, require_trust, visible_schools_query, visible_trusts
from outreach.core.timeutil import london_today
from outreach.dashboard import cache, figures, logic, queries
from outreach.extensions import db
from outreach.schools.models import Pupil, School

bp = Blueprint("dashboard", __name__)

PER_PAGE = 50
REMEMBERED = "dashboard_school"  # session key: the school last chosen, so Today and Pupils stay on it

# Pages of other features a row can link to, tried in order (an endpoint that does not exist in
# this app is skipped; one whose arguments differ is skipped too).
# Links into the interventions pages: (endpoint, name of its pupil argument).
ACTIONS: dict[str, tuple[str, str]] = {
    "log": ("interventions.new", "pupil_ids"),  # the log form, pre-filled with the pupil
    "timeline": ("interventions.timeline", "pupil_id"),
}


def action_url(kind: str, school: School, pupil_id: int, **extra: Any) -> str | None:
    """A link to the interventions page for this pupil (e.g. log a first-day call), when the app has it."""
    endpoint, argument = ACTIONS[kind]
    if endpoint not in current_app.view_functions:
        return None
    value: Any = [pupil_id] if argument == "pupil_ids" else pupil_id
    return url_for(endpoint, urn=school.urn, **{argument: value}, **extra)


@bp.app_template_global("sparkline")
def _sparkline(values: Any, label: str) -> Any:
    from markupsafe import Markup

    return Markup(logic.sparkline_svg(list(values), label))  # built from numbers and escaped text only


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


def _chosen_school() -> School | None:
    """``?school=URN`` (checked by the scoping helper), else the school last chosen, else the
    user's first school by name. None when the user has no school at all."""
    urn = request.args.get("school", "").strip()
    if urn:
        school = require_school(current_user, urn)
        session[REMEMBERED] = school.urn
        return school
    remembered = session.get(REMEMBERED)
    if isinstance(remembered, str):
        try:
            return require_school(current_user, remembered)
        except NotFound:
            session.pop(REMEMBERED, None)
    return db.session.scalar(visible_schools_query(current_user).limit(1))


def _remember(school: School) -> None:
    if session.get(REMEMBERED) != school.urn:
        session[REMEMBERED] = school.urn


def _school_pupil(school: School, pupil_id: int) -> Pupil:
    pupil = db.session.get(Pupil, pupil_id) if 0 < pupil_id <= MAX_ID else None
    if pupil is None or pupil.school_id != school.id:
        raise NotFound("Pupil not found")
    return pupil


# --- Today -------------------------------------------------------------------------------------


@bp.get("/today")
@login_required
def today():  # type: ignore[no-untyped-def]
    school = _chosen_school()
    if school is None:
        return render_template("dashboard/today.html", school=None, lists=None)
    lists = queries.today_lists(school, london_today())
    return render_template("dashboard/today.html", school=school, lists=lists, current_urn=school.urn,
                           can_write=can_write(current_user, school), action_url=action_url)


# --- school overview ---------------------------------------------------------------------------


@bp.get("/schools/<urn>/overview")
@login_required
def overview(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    _remember(school)
    today = london_today()

    def context() -> dict[str, Any]:
        data = queries.school_overview(school, today)
        return {"school": school, "data": data, "trend_svg": figures.trend_svg(data.trend, data.national_attendance),
                "gaps_svg": figures.gaps_svg(data.gaps),
                "pa_gaps_svg": figures.gaps_svg(data.gaps, "persistent_absence", chart_id="pa-gaps")}

    body = cache.page_body([school.id], ("overview", today), "dashboard/_overview_body.html", context)
    return render_template("dashboard/overview.html", school=school, body=body)


# --- pupils ------------------------------------------------------------------------------------


@bp.get("/pupils")
@login_required
def pupils_home():  # type: ignore[no-untyped-def]
    """The Pupils entry of the navigation: the chosen school's pupil list."""
    school = _chosen_school()
    if school is None:
        return redirect(url_for("schools.index"))
    return redirect(url_for("dashboard.pupils", urn=school.urn))


def _filtered(school: School, query: logic.PupilListQuery,
              today: date) -> tuple[list[Any], list[Any], Any]:
    """Every row, the rows shown (filtered and sorted) and the range; the filtered order is kept
    per process like the rows it comes from (``dashboard.cache``)."""
    rows, rng = queries.pupil_rows(school, query.period, query.include_left, today)
    shown = cache.cached([school.id], ("pupil_list", query, today),
                         lambda: logic.sort_rows([r for r in rows if logic.matches(r, query)], query))
    return rows, list(shown), rng


@bp.get("/schools/<urn>/pupils")
@login_required
def pupils(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    _remember(school)
    number, query, today = _page_number(), logic.parse_pupil_query(request.args), london_today()

    def context() -> dict[str, Any]:
        rows, shown, rng = _filtered(school, query, today)
        page = Page(shown[(number - 1) * PER_PAGE:number * PER_PAGE], number, PER_PAGE, len(shown))
        return {"school": school, "query": query, "page": page, "rng": rng, "years": logic.year_groups(rows),
                "regs": logic.reg_groups(rows), "total": len(rows),
                "flagged": sum(1 for r in rows if r.persistent_absence), "sorts": logic.SORTS,
                "flag_choices": logic.FLAGS, "cohorts": logic.COHORTS, "periods": logic.PERIODS,
                "year_label": aq._year_label}

    body = cache.page_body([school.id], (query, number, today), "dashboard/_pupils_body.html", context)
    return render_template("dashboard/pupils.html", school=school, body=body)


EXPORT_COLUMNS = ("upn", "surname", "forename", "preferred_forename", "year_group", "reg_group", "fsm", "sen_status",
                  "eal", "on_roll", *reports.ATTENDANCE_COLUMNS[1:])


@bp.get("/schools/<urn>/pupils.csv")
@login_required
def pupils_export(urn: str):  # type: ignore[no-untyped-def]
    """The list as filtered and sorted on the page, every page of it; audited with the pupils."""
    school = require_school(current_user, urn)
    query = logic.parse_pupil_query(request.args)
    _rows, shown, rng = _filtered(school, query, london_today())
    figures_by_upn = {r["upn"]: r for r in reports.attendance_rows(shown)}
    out = []
    for row in shown:
        out.append({"surname": row.surname, "forename": row.forename, "preferred_forename": row.preferred_forename,
                    "year_group": row.year_group, "reg_group": row.reg_group, "fsm": row.fsm,
                    "sen_status": row.sen_status, "eal": row.eal, "on_roll": row.on_roll,
                    **figures_by_upn[row.upn]})
    safe = [{k: logic.spreadsheet_safe(v) for k, v in r.items()} for r in out]
    audit.record("pupils.export", school=school, pupil_ids=[r.pupil_id for r in shown],
                 detail={"rows": len(shown), "from": rng.start.isoformat(), "to": rng.end.isoformat(),
                         **{k: v for k, v in query.args().items() if k != "q"}, "searched": bool(query.q)})
    body = reports.to_csv(EXPORT_COLUMNS, safe)
    name = f"pupils-{school.urn}-{rng.end.isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/schools/<urn>/pupils/<int:pupil_id>")
@login_required
def pupil(urn: str, pupil_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    record = _school_pupil(school, pupil_id)
    detail = queries.pupil_detail(record, london_today())
    audit.record("pupil.view", school=school, pupil_ids=[record.id])
    return render_template("dashboard/pupil.html", school=school, pupil=record, detail=detail,
                           legend=[v for k, v in logic.CATEGORY_STYLE.items()], year_label=aq._year_label,
                           can_write=can_write(current_user, school), action_url=action_url,
                           weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))


# --- trust -------------------------------------------------------------------------------------


@bp.get("/trust")
@login_required
def trust_index():  # type: ignore[no-untyped-def]
    """A trust lead goes straight to their trust; an admin picks one."""
    if current_user.role not in (Role.ADMIN, Role.TRUST_LEAD):
        raise Forbidden("The trust comparison is for trust leads and administrators.")
    trusts = visible_trusts(current_user)
    if current_user.role == Role.TRUST_LEAD and len(trusts) == 1:
        return redirect(url_for("dashboard.trust", trust_id=trusts[0].id))
    return render_template("dashboard/trust_index.html", trusts=trusts,
                           counts=queries.trust_school_counts([t.id for t in trusts]))


@bp.get("/trusts/<int:trust_id>")
@login_required
def trust(trust_id: int):  # type: ignore[no-untyped-def]
    record = require_trust(current_user, trust_id)
    sort = request.args.get("sort", "name")
    order = request.args.get("order", "")
    if sort not in queries.TRUST_SORTS or order not in ("", "asc", "desc"):
        raise UserError(f"sort must be one of {', '.join(queries.TRUST_SORTS)} and order asc or desc")
    direction = order or ("asc" if sort in ("name", "attendance") else "desc")  # the worst first
    today_ = london_today()
    rows = queries.trust_rows(record, today_, sort, direction)
    return render_template("dashboard/trust.html", trust=record, rows=rows, sort=sort, direction=direction,
                           sorts=queries.TRUST_SORTS, year=queries.year_range(today_))

