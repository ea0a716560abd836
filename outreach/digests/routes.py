"""Pages: a school's archived digests (heads, officers, trust leads and admins of that school)."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from outreach.core import audit
from outreach.core.errors import NotFound, UserError
from outreach.core.pagination import paginate
from outreach.core.scoping import require_school
from outreach.digests import build
from outreach.digests.services import get_digest
from outreach.digests.models import Digest
from outreach.digests.weeks import iso_week, parse_week
from outreach.schools.models import School

bp = Blueprint("digests", __name__, url_prefix="/schools")

PER_PAGE = 26  # half a year of weeks


def _digest(school: School, week: str) -> Digest:
    try:
        monday = parse_week(week)
    except UserError:
        raise NotFound("No digest for that week") from None
    digest = get_digest(school.id, iso_week(monday))
    if digest is None:
        raise NotFound("No digest for that week")
    return digest


@bp.get("/<urn>/digests")
@login_required
def index(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    try:
        page_no = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page_no = 1
    stmt = select(Digest).where(Digest.school_id == school.id).order_by(Digest.week_start.desc())
    page = paginate(stmt, page_no, PER_PAGE)
    return render_template("digests/index.html", school=school, page=page, day_label=build.day_label)


@bp.get("/<urn>/digests/<week>")
@login_required
def show(urn: str, week: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    digest = _digest(school, week)
    sections = [build.Section.from_json(s) for s in digest.sections or []]
    named = sorted({pid for s in sections for pid in s.pupil_ids})
    if named:
        audit.record("pupil.view", school=school, pupil_ids=named, detail={"digest": digest.week})
    return render_template("digests/show.html", school=school, digest=digest, sections=sections,
                           day_label=build.day_label)


@bp.get("/<urn>/digests/<week>/chart.png")
@login_required
def chart(urn: str, week: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    digest = _digest(school, week)
    if not digest.png:
        raise NotFound("This digest has no chart")
    return Response(digest.png, mimetype="image/png")
