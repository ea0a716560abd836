"""Small builders for tests: real rows through the real models (no mocks)."""
from __future__ import annotations

from datetime import date
from itertools import count

from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.schools.models import Pupil, School
from outreach.schools.upn import make_upn

_serial = count(1)


def make_school(urn: str = "100001", name: str = "Test Primary", phase: str = "primary") -> School:
    school = School(urn=urn, name=name, phase=phase, la_code="823", estab="2001")
    db.session.add(school)
    db.session.flush()
    return school


def make_pupil(school: School, **fields) -> Pupil:
    n = next(_serial)
    defaults = dict(upn=make_upn(823, 2001, 24, n % 1000), forename=f"Pupil{n}", surname="Test", year_group="3")
    defaults.update(fields)
    pupil = Pupil(school_id=school.id, **defaults)
    db.session.add(pupil)
    db.session.flush()
    return pupil


def add_marks(pupil: Pupil, marks: list[tuple[date, str, str]]) -> None:
    db.session.add_all(Mark(pupil_id=pupil.id, school_id=pupil.school_id, date=d, session=s, code=c) for d, s, c in marks)
    db.session.flush()
