"""Creating and finding schools (every lookup by URN goes through ``get_school``)."""
from __future__ import annotations

from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.extensions import db
from outreach.schools.models import PHASES, School, Trust


def get_school(urn: str) -> School:
    school = db.session.scalar(select(School).where(School.urn == str(urn).strip()))
    if school is None:
        raise NotFound(f"no school with URN {urn}")
    return school


def get_or_create_trust(name: str) -> Trust:
    trust = db.session.scalar(select(Trust).where(Trust.name == name))
    if trust is None:
        trust = Trust(name=name)
        db.session.add(trust)
        db.session.flush()
    return trust


def add_school(urn: str, name: str, phase: str = "primary", la_code: str | None = None,
               estab: str | None = None, trust_name: str | None = None) -> School:
    urn = str(urn).strip()
    if not urn.isdigit() or not 6 <= len(urn) <= 8:
        raise UserError(f"URN must be 6 to 8 digits, got {urn!r}")
    if phase not in PHASES:
        raise UserError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if la_code is not None and not (la_code.isdigit() and len(la_code) == 3):
        raise UserError(f"LA code must be 3 digits, got {la_code!r}")
    if estab is not None and not (estab.isdigit() and len(estab) == 4):
        raise UserError(f"establishment number must be 4 digits, got {estab!r}")
    if db.session.scalar(select(School.id).where(School.urn == urn)) is not None:
        raise UserError(f"a school with URN {urn} already exists")
    school = School(urn=urn, name=name.strip(), phase=phase, la_code=la_code, estab=estab)
    if trust_name:
        school.trust = get_or_create_trust(trust_name)
    db.session.add(school)
    db.session.commit()
    return school
