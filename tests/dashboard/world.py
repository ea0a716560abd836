"""A small world every dashboard test (and the browser tests) can stand in.

Two trusts: "North Trust" with schools A and B, "South Trust" with school C; school D in no
trust. One user per role: admin; trust lead of North; head of A; officer of A and B; plus an
officer of C (someone else's school) and a deactivated officer of A.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterator

from flask import Flask
from flask.testing import FlaskClient

from outreach.core.accounts import services
from outreach.core.accounts.models import User
from outreach.core.timeutil import london_today
from outreach.extensions import db
from outreach.schools.models import School, Trust
from tests.factories import make_pupil, make_school

PASSWORD = "correct horse battery staple"
ROLE_USERS = ("admin", "trust_lead", "head", "officer")


@contextmanager
def fast_password_hashing(app: Flask) -> Iterator[None]:
    """Cheap argon2 parameters so the suite stays fast (production parameters are tested once)."""
    saved = {k: app.config[k] for k in ("ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM")}
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_KIB=8, ARGON2_PARALLELISM=1)
    try:
        yield
    finally:
        app.config.update(saved)


@dataclass
class World:
    schools: dict[str, School] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    pupils: dict[str, list[Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def email(self, who: str) -> str:
        return self.users[who].email


def build_world() -> World:
    w = World()
    north, south = Trust(name="North Trust"), Trust(name="South Trust")
    db.session.add_all([north, south])
    db.session.flush()
    for key, urn, name, trust in (("A", "100001", "Ash Primary", north), ("B", "100002", "Birch Academy", north),
                                  ("C", "100003", "Cedar School", south), ("D", "100004", "Damson Infants", None)):
        school = make_school(urn=urn, name=name)
        school.trust_id = trust.id if trust else None
        w.schools[key] = school
    today = london_today()
    for key, school in w.schools.items():
        w.pupils[key] = [make_pupil(school, year_group=y) for y in ("R", "1", "1", "6")]
    # One pupil at A who left last week: not on roll.
    w.pupils["A"].append(make_pupil(w.schools["A"], year_group="2", leaving_date=today - timedelta(days=7),
                                    admission_date=date(2020, 9, 1)))
    db.session.commit()
    specs = {
        "admin": ("admin@example.org", "admin", [], None),
        "trust_lead": ("lead@north.example.org", "trust_lead", [], "North Trust"),
        "head": ("head@ash.example.org", "head", ["100001"], None),
        "officer": ("officer@example.org", "attendance_officer", ["100001", "100002"], None),
        "other_officer": ("officer@cedar.example.org", "attendance_officer", ["100003"], None),
        "inactive": ("gone@example.org", "attendance_officer", ["100001"], None),
    }
    for who, (email, role, urns, trust_name) in specs.items():
        w.users[who] = services.create_user(email, role, PASSWORD, school_urns=urns, trust_name=trust_name)
    services.set_active(w.users["inactive"], False)
    return w


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, ip: str = "127.0.0.1", **extra: str) -> Any:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, email)
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[-2500:])
    return client
