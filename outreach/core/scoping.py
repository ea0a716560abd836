"""The one place that decides which schools a user may see and change.

Every page and API call goes through these functions:

* ``visible_schools(user)`` / ``visible_school_ids(user)``: what the user may read;
* ``require_school(user, id_or_urn, write=False)``: one school, or a 404 that looks exactly like
  a school that does not exist (no leaking which URNs are on the system), or a 403 when the
  school is visible but the action needs write access the role lacks;
* ``scope_to_user(stmt, user, model)``: filters any query on a model with ``school_id``.

The rules: admins see every school; trust leads read the schools of their trust; heads read
their one assigned school; attendance officers read and write their assigned schools.
Filters are sub-selects, not lists of ids, so a trust of 1,000 schools costs the same.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.sql.elements import ColumnElement

from outreach.core.accounts.models import User, user_schools
from outreach.core.accounts.roles import ASSIGNED_SCHOOL_ROLES, WRITE_ROLES, Role
from outreach.core.errors import Forbidden, NotFound
from outreach.extensions import db
from outreach.schools.models import School, Trust

SelectT = TypeVar("SelectT", bound=Select[Any])

NOT_FOUND_MESSAGE = "School not found"  # the same words for "no such school" and "not yours"
MAX_ID = 2_147_483_647  # integer primary keys: a larger id cannot exist (and PostgreSQL would refuse it)


def _is_user(user: Any) -> bool:
    return isinstance(user, User) and bool(user.active)


def school_id_filter(user: Any, column: ColumnElement[Any]) -> ColumnElement[bool] | None:
    """A condition restricting ``column`` (a school id column) to the user's schools.
    ``None`` means no restriction (admins)."""
    if not _is_user(user):
        return false()
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.TRUST_LEAD:
        if user.trust_id is None:
            return false()
        return column.in_(select(School.id).where(School.trust_id == user.trust_id))
    if user.role in ASSIGNED_SCHOOL_ROLES:
        return column.in_(select(user_schools.c.school_id).where(user_schools.c.user_id == user.id))
    return false()


def scope_to_user(stmt: SelectT, user: Any, model: Any = None, column: ColumnElement[Any] | None = None) -> SelectT:
    """Restrict a select to rows of the user's schools: pass ``model`` (having ``school_id``)
    or the school id ``column`` itself."""
    col = column if column is not None else model.school_id
    condition = school_id_filter(user, col)
    return stmt if condition is None else stmt.where(condition)


def visible_schools_query(user: Any) -> Select[tuple[School]]:
    return scope_to_user(select(School), user, column=School.id).order_by(School.name, School.urn)


def visible_schools(user: Any) -> list[School]:
    """The schools the user may read, by name."""
    return list(db.session.scalars(visible_schools_query(user)))


def visible_school_ids(user: Any) -> set[int]:
    return set(db.session.scalars(scope_to_user(select(School.id), user, column=School.id)))


def can_see(user: Any, school: School) -> bool:
    if not _is_user(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.TRUST_LEAD:
        return user.trust_id is not None and school.trust_id == user.trust_id
    return any(s.id == school.id for s in user.schools)


def can_write(user: Any, school: School) -> bool:
    return can_see(user, school) and user.role in WRITE_ROLES


def require_school(user: Any, school_id_or_urn: int | str, write: bool = False) -> School:
    """The school, if the user may see it (and change it, when ``write``).

    An ``int`` is a school id and a ``str`` a URN. Raises ``NotFound`` (404) for a school that
    does not exist or is not visible, with the same message either way, and ``Forbidden`` (403)
    when it is visible but ``write`` is asked of a read-only role.
    """
    if isinstance(school_id_or_urn, int) and not isinstance(school_id_or_urn, bool):
        school = db.session.get(School, school_id_or_urn) if 0 < school_id_or_urn <= MAX_ID else None
    else:
        urn = str(school_id_or_urn).strip()
        school = db.session.scalar(select(School).where(School.urn == urn)) if urn.isdigit() else None
    if school is None or not can_see(user, school):
        raise NotFound(NOT_FOUND_MESSAGE)
    if write and not can_write(user, school):
        raise Forbidden("Your role can view this school but not change it")
    return school


def require_row(user: Any, model: type, row_id: int, write: bool = False, message: str = "Not found") -> Any:
    """A row of any model with ``school_id``, if it belongs to a school the user may see
    (same 404/403 rules as ``require_school``)."""
    row = db.session.get(model, row_id) if 0 < row_id <= MAX_ID else None
    if row is None:
        raise NotFound(message)
    try:
        require_school(user, int(row.school_id), write=write)
    except NotFound:
        raise NotFound(message) from None
    return row


def visible_trusts(user: Any) -> list[Trust]:
    """Trusts whose side-by-side comparison the user may open: admins every trust, a trust lead
    their own; heads and officers none (they see schools, not trusts)."""
    if not _is_user(user):
        return []
    if user.role == Role.ADMIN:
        return list(db.session.scalars(select(Trust).order_by(Trust.name)))
    if user.role == Role.TRUST_LEAD and user.trust_id is not None:
        trust = db.session.get(Trust, user.trust_id)
        return [trust] if trust is not None else []
    return []


def require_trust(user: Any, trust_id: int) -> Trust:
    """The trust, if the user may compare its schools; otherwise a 404 that looks the same as a
    trust that does not exist."""
    trust = db.session.get(Trust, trust_id) if 0 < trust_id <= MAX_ID else None
    if trust is None or not _is_user(user):
        raise NotFound("Trust not found")
    if user.role == Role.ADMIN or (user.role == Role.TRUST_LEAD and user.trust_id == trust.id):
        return trust
    raise NotFound("Trust not found")
