"""The one scoping helper: who sees which schools, and the 404/403 rules."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from outreach.core.accounts.roles import check_assignment
from outreach.core.errors import Forbidden, NotFound
from outreach.core.scoping import (
    can_write, require_row, require_school, scope_to_user, visible_school_ids, visible_schools,
)
from outreach.extensions import db
from outreach.schools.models import Pupil
from tests.dashboard.world import World
from tests.factories import make_school


def urns(schools) -> list[str]:
    return sorted(s.urn for s in schools)


@pytest.mark.parametrize("who, expected", [
    ("admin", ["100001", "100002", "100003", "100004"]),
    ("trust_lead", ["100001", "100002"]),
    ("head", ["100001"]),
    ("officer", ["100001", "100002"]),
    ("other_officer", ["100003"]),
    ("inactive", []),
])
def test_visible_schools_by_role(world: World, who: str, expected: list[str]) -> None:
    user = world.users[who]
    assert urns(visible_schools(user)) == expected
    assert visible_school_ids(user) == {world.schools[k].id for k in "ABCD" if world.schools[k].urn in expected}


def test_anonymous_and_none_see_nothing(world: World) -> None:
    from flask_login import AnonymousUserMixin

    assert visible_schools(AnonymousUserMixin()) == []
    assert visible_schools(None) == []
    with pytest.raises(NotFound):
        require_school(None, world.schools["A"].urn)


def test_a_school_added_to_the_trust_later_is_visible_to_its_lead(world: World) -> None:
    school = make_school(urn="100009", name="Elm New")
    school.trust_id = world.schools["A"].trust_id
    db.session.commit()
    assert "100009" in urns(visible_schools(world.users["trust_lead"]))
    assert "100009" not in urns(visible_schools(world.users["officer"]))


def test_require_school_accepts_id_or_urn(world: World) -> None:
    a = world.schools["A"]
    officer = world.users["officer"]
    assert require_school(officer, a.id) is a
    assert require_school(officer, a.urn) is a
    assert require_school(officer, f" {a.urn} ") is a


@pytest.mark.parametrize("value", ["100003", "99999999", "", "abc", "1' or '1'='1", 0, -1, 2**40, 999_999])
def test_require_school_hides_what_is_not_visible(world: World, value) -> None:
    with pytest.raises(NotFound) as info:
        require_school(world.users["officer"], value)
    assert info.value.message == "School not found"


@pytest.mark.parametrize("who, can", [("admin", True), ("officer", True), ("trust_lead", False), ("head", False)])
def test_write_needs_a_write_role(world: World, who: str, can: bool) -> None:
    a = world.schools["A"]
    user = world.users[who]
    assert can_write(user, a) is can
    if can:
        assert require_school(user, a.urn, write=True) is a
    else:
        with pytest.raises(Forbidden):
            require_school(user, a.urn, write=True)


def test_write_to_an_invisible_school_is_404_not_403(world: World) -> None:
    with pytest.raises(NotFound):
        require_school(world.users["head"], world.schools["B"].urn, write=True)


def test_scope_to_user_filters_any_model_with_school_id(world: World) -> None:
    stmt = select(Pupil.school_id).distinct()
    seen = set(db.session.scalars(scope_to_user(stmt, world.users["officer"], Pupil)))
    assert seen == {world.schools["A"].id, world.schools["B"].id}
    assert set(db.session.scalars(scope_to_user(stmt, world.users["admin"], Pupil))) == {s.id for s in world.schools.values()}
    assert list(db.session.scalars(scope_to_user(stmt, world.users["inactive"], Pupil))) == []


def test_require_row_uses_the_same_rules(world: World) -> None:
    mine, theirs = world.pupils["A"][0], world.pupils["C"][0]
    assert require_row(world.users["head"], Pupil, mine.id) is mine
    for pid in (theirs.id, 10**12, 0):
        with pytest.raises(NotFound):
            require_row(world.users["head"], Pupil, pid)
    with pytest.raises(Forbidden):
        require_row(world.users["head"], Pupil, mine.id, write=True)


@pytest.mark.parametrize("role, schools, trust, ok", [
    ("admin", 0, False, True), ("admin", 1, False, False), ("admin", 0, True, False),
    ("trust_lead", 0, True, True), ("trust_lead", 0, False, False), ("trust_lead", 1, True, False),
    ("head", 1, False, True), ("head", 2, False, False), ("head", 0, False, False),
    ("attendance_officer", 3, False, True), ("attendance_officer", 0, False, False),
    ("attendance_officer", 1, True, False), ("janitor", 0, False, False),
])
def test_role_assignment_rules(role: str, schools: int, trust: bool, ok: bool) -> None:
    assert (check_assignment(role, schools, trust) == []) is ok
