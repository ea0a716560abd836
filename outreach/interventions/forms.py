"""Reading the interventions pages' HTML forms into the values the services take. Pure: no Flask,
no database, so every edge (a date that is not a date, 01:30 on the night the clocks go forward)
is tested directly.

Forms are plain HTML (CSRF-checked by Flask-WTF's ``CSRFProtect`` before a view runs); each
reader collects every problem and raises one ``UserError`` naming them all, so the page is
re-shown once with everything to fix, and nothing is changed.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, Iterable, Mapping, Protocol

from outreach.core.errors import UserError
from outreach.core.timeutil import LONDON, implausible, moment_for_day
from outreach.interventions.vocabulary import LETTER_VALUES

MAX_ID = 2_147_483_647

# The type-specific facts a person can give on the log form (validated by services.validate_details).
DETAIL_FIELDS = ("improvement_weeks", "decided_by", "reference", "review_date", "meeting_at", "place")


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


class Problems(list):  # type: ignore[type-arg]
    """Messages collected while reading a form; ``check`` raises them as one UserError."""

    def check(self, message: str) -> None:
        if self:
            raise UserError(message, details=list(self))


def text(form: Mapping[str, Any] | FormData, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def parse_date(value: str | None, label: str, problems: list[str]) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label} must be a date (YYYY-MM-DD), got {value[:40]!r}")
        return None
    if problem := implausible(day):
        problems.append(f"{label}: {problem}")
        return None
    return day


def parse_int(value: str | None, label: str, problems: list[str], lo: int = 1, hi: int = MAX_ID) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        problems.append(f"{label} must be a whole number, got {value[:40]!r}")
        return None
    if not lo <= number <= hi:
        problems.append(f"{label} must be between {lo} and {hi}")
        return None
    return number


def parse_ids(values: Iterable[str], label: str, problems: list[str]) -> list[int]:
    """Row ids from a multi-select or repeated parameter, in order, without repeats."""
    out: list[int] = []
    for value in values:
        number = parse_int(value, label, problems)
        if number is not None and number not in out:
            out.append(number)
    return out


def london_datetime(day: date, clock: time, label: str, problems: list[str]) -> datetime | None:
    """A UK wall-clock time as an aware UTC datetime.

    On the last Sunday of March the hour from 01:00 does not exist (clocks go forward): refused,
    rather than silently moved. On the last Sunday of October 01:00-01:59 happens twice: the
    first (BST) is meant, as a person entering it in the evening afterwards would mean; that
    choice is documented on the form.
    """
    local = datetime.combine(day, clock, tzinfo=LONDON)
    round_trip = local.astimezone(timezone.utc).astimezone(LONDON)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        problems.append(f"{clock:%H:%M} on {day:%d %b %Y} does not exist in UK time (the clocks went forward): "
                        "check the time")
        return None
    return local.astimezone(timezone.utc)


def parse_when(day_value: str | None, time_value: str | None, label: str, problems: list[str]) -> datetime | None:
    """A date field and an optional time field (UK time) read as one UTC moment. Without a time:
    midday, or the present minute on today's date before midday (``moment_for_day``)."""
    day = parse_date(day_value, f"the date of {label}", problems)
    raw = (time_value or "").strip()
    clock: time | None = None
    if raw:
        try:
            clock = time.fromisoformat(raw)
        except ValueError:
            problems.append(f"the time of {label} must be HH:MM, got {raw[:20]!r}")
            return None
    if day is None:
        return None
    if clock is None:
        return moment_for_day(day)
    return london_datetime(day, clock.replace(second=0, microsecond=0, tzinfo=None), label, problems)


def intervention_fields(form: FormData) -> dict[str, Any]:
    """The log form as ``services.log_intervention`` keyword arguments (problems raised together).
    The date defaults to today only when the view supplies it; the time to midday UK time (or now,
    for this morning)."""
    problems = Problems()
    pupil_ids = parse_ids(form.getlist("pupil_ids"), "a pupil id", problems)
    occurred_at = parse_when(form.get("occurred_on"), form.get("occurred_time"), "the intervention", problems)
    next_step_date = parse_date(form.get("next_step_date"), "the next-step date", problems)
    details = {name: text(form, name) for name in DETAIL_FIELDS if text(form, name)}
    problems.check("the intervention cannot be recorded")
    return {"type": (form.get("type") or "").strip(), "pupil_ids": pupil_ids, "occurred_at": occurred_at,
            "outcome": text(form, "outcome"), "notes": text(form, "notes"), "next_step": text(form, "next_step"),
            "next_step_date": next_step_date, "details": details}


def outcome_fields(form: FormData) -> dict[str, Any]:
    problems = Problems()
    next_step_date = parse_date(form.get("next_step_date"), "the next-step date", problems)
    problems.check("the intervention cannot be updated")
    return {"outcome": text(form, "outcome"), "next_step": text(form, "next_step"), "next_step_date": next_step_date,
            "notes": text(form, "notes")}


def letter_fields(form: FormData) -> dict[str, Any]:
    """The letter form as ``letters.render_letter`` / ``send_letter`` arguments."""
    problems = Problems()
    pupil_ids = parse_ids(form.getlist("pupil_ids"), "a pupil id", problems)
    contact_id = parse_int(form.get("contact_id"), "the contact", problems)
    problems.check("the letter cannot be written")
    values = {name: text(form, name) for name in LETTER_VALUES if text(form, name)}
    return {"kind": (form.get("kind") or "").strip(), "pupil_ids": pupil_ids, "contact_id": contact_id,
            "sender": text(form, "sender") or "", "sender_role": text(form, "sender_role"), "values": values}


def rule_setting_changes(form: FormData, names: Iterable[str], switches: Iterable[str]) -> dict[str, Any]:
    """The settings form: every threshold as typed (the service checks limits), each switch from
    its checkbox (an unticked checkbox is absent from the form, so it means off)."""
    switches = set(switches)
    changes: dict[str, Any] = {}
    for name in names:
        if name in switches:
            changes[name] = form.get(name) in ("on", "true", "1", "yes")
        elif form.get(name) is not None:
            changes[name] = (form.get(name) or "").strip()
    return changes
