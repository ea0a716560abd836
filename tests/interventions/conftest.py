"""Fixtures for interventions tests: a school with a phone number and pupils with contacts."""
from __future__ import annotations

import pytest

from outreach.extensions import db as _db
from outreach.schools.models import School
from tests.factories import make_school


@pytest.fixture()
def school(db) -> School:
    school = make_school(urn="100001", name="Oak Tree Primary")
    school.contact_phone = "+441632960000"
    _db.session.commit()
    return school
