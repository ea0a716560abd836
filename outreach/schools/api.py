"""``/api/v1``: schools and pupils the token's user may see. Pupil records are audited."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from outreach.core import audit
from outreach.core.api import ApiBlueprint
from outreach.core.pagination import Page, paginate
from outreach.core.scoping import require_row, require_school, visible_schools_query
from outreach.core.timeutil import london_today
from outreach.schools.models import Pupil, School
from outreach.schools.queries import pupils_on_roll, roll_summary, school_search
from outreach.schools.queries import on_roll as on_roll_on
from outreach.schools.schemas import (
    PupilListQuerySchema, PupilSchema, SchoolDetailSchema, SchoolListQuerySchema, SchoolSchema,
)

bp = ApiBlueprint("schools_api", __name__, tag="Schools", description="Schools and their pupils.")


def school_out(school: School, on_roll: int) -> dict[str, Any]:
    return {"urn": school.urn, "name": school.name, "phase": school.phase, "la_code": school.la_code,
            "estab": school.estab, "trust": school.trust.name if school.trust else None, "pupils_on_roll": on_roll}


@bp.endpoint("/schools", summary="Schools you may see", query=SchoolListQuerySchema, response=SchoolSchema, paginated=True)
def list_schools(query: dict[str, Any]) -> Page[Any]:
    """Ordered by name. Admins see every school, trust leads their trust's, others their own."""
    stmt = school_search(visible_schools_query(current_user), query.get("q")).options(joinedload(School.trust))
    page = paginate(stmt, query["page"], query["per_page"])
    counts = pupils_on_roll((s.id for s in page.items), london_today())
    return page.map(lambda s: school_out(s, counts.get(s.id, 0)))


@bp.endpoint("/schools/<urn>", summary="One school, with its roll", response=SchoolDetailSchema)
def get_school(urn: str) -> dict[str, Any]:
    school = require_school(current_user, urn)
    summary = roll_summary(school, london_today())
    return {**school_out(school, summary.on_roll), "roll": summary.__dict__}


@bp.endpoint("/schools/<urn>/pupils", summary="Pupils of a school", query=PupilListQuerySchema, response=PupilSchema,
              paginated=True, audited=True)
def school_pupils(urn: str, query: dict[str, Any]) -> Page[Pupil]:
    """On roll today unless ``include_left``; by surname. The pupils returned are audited."""
    school = require_school(current_user, urn)
    stmt = select(Pupil).where(Pupil.school_id == school.id).options(joinedload(Pupil.school))
    if not query["include_left"]:
        stmt = stmt.where(on_roll_on(london_today()))
    if query.get("year_group"):
        stmt = stmt.where(Pupil.year_group == query["year_group"])
    page = paginate(stmt.order_by(Pupil.surname, Pupil.forename, Pupil.id), query["page"], query["per_page"])
    audit.record("pupils.list", school=school, pupil_ids=[p.id for p in page.items],
                 detail={"page": page.page, "year_group": query.get("year_group"), "include_left": query["include_left"]})
    return page


@bp.endpoint("/pupils/<int:pupil_id>", summary="One pupil's record", response=PupilSchema, audited=True)
def get_pupil(pupil_id: int) -> Pupil:
    pupil = require_row(current_user, Pupil, pupil_id, message="Pupil not found")
    audit.record("pupil.view", school_id=pupil.school_id, pupil_ids=[pupil.id])
    return pupil
