"""Small builders for tests: real rows through the real models (no mocks)."""
from __future__ import annotations

from datetime import date
from itertools import count

from outreach.extensions import db
from outreach.registers import store
from outreach.schools.models import Contact, Pupil, PupilContact, School
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
    """Marks through the store the importer writes with (counts and all)."""
    db.session.flush()
    store.write(db.session, pupil.school_id, [(pupil.id, d, s, c) for d, s, c in marks])


def make_contact(school: School, pupils: list[Pupil] | tuple[Pupil, ...] = (), *, name: str = "Parent Test",
                 phone: str | None = "+447700900001", language: str = "en", sms_consent: bool = True,
                 phone_invalid_reason: str | None = None, priority: int = 1,
                 relationship: str = "parent") -> Contact:
    """A parent or carer linked to each of ``pupils`` at ``priority`` (1 = called first)."""
    contact = Contact(school_id=school.id, name=name, phone=phone, preferred_language=language,
                      sms_consent=sms_consent, phone_invalid_reason=phone_invalid_reason)
    db.session.add(contact)
    db.session.flush()
    for pupil in pupils:
        link_contact(pupil, contact, priority=priority, relationship=relationship)
    return contact


def link_contact(pupil: Pupil, contact: Contact, *, priority: int = 1, relationship: str = "parent") -> PupilContact:
    link = PupilContact(pupil_id=pupil.id, contact_id=contact.id, priority=priority, relationship_label=relationship)
    db.session.add(link)
    db.session.flush()
    return link
