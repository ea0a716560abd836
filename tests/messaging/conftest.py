"""Fixtures for messaging content tests: a school with its phone number and default templates."""
from __future__ import annotations

import pytest

from outreach.extensions import db as _db
from outreach.messaging.templates import ensure_default_templates
from outreach.schools.models import School
from tests.factories import make_school


@pytest.fixture()
def school(db) -> School:
    school = make_school(urn="100001", name="Oak Tree Primary")
    school.contact_phone = "+441632960000"
    _db.session.commit()
    return school


@pytest.fixture()
def school_with_templates(school: School) -> School:
    ensure_default_templates(school)
    return school
