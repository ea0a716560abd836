"""Pages: the schools a user may see, and each school's home page."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from outreach.core.pagination import paginate
from outreach.core.scoping import can_write, require_school, visible_schools_query
from outreach.core.timeutil import london_today
from outreach.schools.models import School
from outreach.schools.queries import pupils_on_roll, roll_summary, school_search

bp = Blueprint("schools", __name__, url_prefix="/schools")

PER_PAGE = 50


@bp.get("")
@login_required
def index():  # type: ignore[no-untyped-def]
    q = request.args.get("q", "").strip()[:100]
    try:
        page_no = max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        page_no = 1
    stmt = school_search(visible_schools_query(current_user), q).options(joinedload(School.trust))
    page = paginate(stmt, page_no, PER_PAGE)
    counts = pupils_on_roll((s.id for s in page.items), london_today())
    return render_template("schools/index.html", page=page, counts=counts, q=q)


@bp.get("/go")
@login_required
def switch():  # type: ignore[no-untyped-def]
    """The school switcher's target (a plain GET form, so it works without JavaScript)."""
    urn = request.args.get("urn", "").strip()
    if not urn:
        return redirect(url_for("schools.index"))
    school = require_school(current_user, urn)
    return redirect(url_for("schools.home", urn=school.urn))


@bp.get("/<urn>")
@login_required
def home(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    summary = roll_summary(school, london_today())
    return render_template("schools/home.html", school=school, summary=summary, today=london_today(),
                           can_write=can_write(current_user, school))
