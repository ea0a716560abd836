"""The four roles and what each may do (pure: no Flask, no database).

Kept apart from the models so the rules can be read, and tested, on their own: who sees which
schools is decided in ``outreach.core.scoping`` from these facts, and nowhere else.
"""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    TRUST_LEAD = "trust_lead"
    HEAD = "head"
    ATTENDANCE_OFFICER = "attendance_officer"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

ROLE_LABELS: dict[str, str] = {
    Role.ADMIN: "Administrator",
    Role.TRUST_LEAD: "Trust lead",
    Role.HEAD: "Headteacher",
    Role.ATTENDANCE_OFFICER: "Attendance officer",
}

# Roles whose visible schools are the ones assigned to them (the user_schools table).
ASSIGNED_SCHOOL_ROLES = frozenset({Role.HEAD, Role.ATTENDANCE_OFFICER})
# Roles that may change data (record interventions, import registers...) in the schools they see.
WRITE_ROLES = frozenset({Role.ADMIN, Role.ATTENDANCE_OFFICER})


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def check_assignment(role: str, school_count: int, has_trust: bool) -> list[str]:
    """Reasons why ``role`` cannot hold this many schools / a trust (empty when it can).

    A head answers for exactly one school (the weekly digest goes to them); an officer may cover
    several; a trust lead sees their trust's schools through the trust, never by assignment, so a
    school added to the trust later is visible without editing accounts; an admin sees everything.
    """
    problems: list[str] = []
    if role not in ROLES:
        return [f"role must be one of {', '.join(ROLES)}, got {role!r}"]
    if role == Role.ADMIN:
        if school_count or has_trust:
            problems.append("an admin sees every school: give no --school or --trust")
    elif role == Role.TRUST_LEAD:
        if not has_trust:
            problems.append("a trust lead needs --trust NAME")
        if school_count:
            problems.append("a trust lead sees the schools of their trust: give no --school")
    elif role == Role.HEAD:
        if school_count != 1:
            problems.append("a head needs exactly one --school URN")
        if has_trust:
            problems.append("a head is assigned a school, not a trust: give no --trust")
    elif role == Role.ATTENDANCE_OFFICER:
        if school_count < 1:
            problems.append("an attendance officer needs at least one --school URN")
        if has_trust:
            problems.append("an attendance officer is assigned schools, not a trust: give no --trust")
    return problems
