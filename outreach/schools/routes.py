"""Pages: the schools a user may see, and each school's home page."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
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
    return redirect(_same_page_for(request.args.get("to", ""), school.urn))


# Pages that take their school as ``?school=URN`` rather than in the path.
SCHOOL_QUERY_PAGES = frozenset({"dashboard.today"})


def _same_page_for(endpoint: str, urn: str) -> str:
    """The page the switcher was used on, for the newly chosen school, when that page takes only
    a school (a pupil's page cannot follow: the pupil belongs to the other school)."""
    if endpoint in SCHOOL_QUERY_PAGES and endpoint in current_app.view_functions:
        return url_for(endpoint, school=urn)
    rules = [r for r in current_app.url_map.iter_rules(endpoint)] if endpoint in current_app.view_functions else []
    if rules and all(r.arguments == {"urn"} and "GET" in (r.methods or ()) for r in rules):
        return url_for(endpoint, urn=urn)
    return url_for("schools.home", urn=urn)


@bp.get("/<urn>")
@login_required
def home(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    summary = roll_summary(school, london_today())
    return render_template("schools/home.html", school=school, summary=summary, today=london_today(),
                           can_write=can_write(current_user, school))
