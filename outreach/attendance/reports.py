"""The attendance reports (``outreach report attendance|school``): rows, columns and formats.

Column names are an interface (people's spreadsheets and acceptance checks read them): change
them only deliberately. Pure apart from the values handed in: the CLI fetches, this formats.
"""
from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

from outreach.attendance.queries import GroupMeasures, PupilMeasures

ATTENDANCE_COLUMNS = (
    "upn", "possible_sessions", "present_sessions", "aea_sessions", "authorised_sessions",
    "unauthorised_sessions", "late_sessions", "attendance_pct", "persistent_absence", "severe_absence",
)
SCHOOL_COLUMNS = (
    "enrolments", "possible_sessions", "present_sessions", "aea_sessions", "authorised_sessions",
    "unauthorised_sessions", "late_sessions", "attendance_pct", "absence_pct", "authorised_absence_pct",
    "unauthorised_absence_pct", "persistent_absence_pct", "severe_absence_pct",
)
FORMATS = ("csv", "json")


def one_decimal_pct(part: int, whole: int) -> Decimal | None:
    """``100 * part / whole`` to one decimal place, rounding halves up, computed exactly (no
    binary floating point), so 99.25% is always 99.3, as a person working it out would write."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def attendance_rows(pupils: Iterable[PupilMeasures]) -> list[dict[str, Any]]:
    """One row per pupil (enrolments with possible sessions), sorted by UPN. Present includes L;
    late is L + U; the flags use the DfE whole-number rules."""
    rows = []
    for p in sorted(pupils, key=lambda p: p.upn):
        rows.append({
            "upn": p.upn,
            "possible_sessions": p.possible,
            "present_sessions": p.present,
            "aea_sessions": p.aea,
            "authorised_sessions": p.authorised,
            "unauthorised_sessions": p.unauthorised,
            "late_sessions": p.late,
            "attendance_pct": one_decimal_pct(p.counts.attended, p.possible),
            "persistent_absence": p.persistent_absence,
            "severe_absence": p.severe_absence,
        })
    return rows


def school_row(group: GroupMeasures) -> dict[str, Any]:
    """The school's figures; percentages unrounded (None when there are no possible sessions)."""
    return {
        "enrolments": group.enrolments,
        "possible_sessions": group.possible,
        "present_sessions": group.present,
        "aea_sessions": group.aea,
        "authorised_sessions": group.authorised,
        "unauthorised_sessions": group.unauthorised,
        "late_sessions": group.late,
        "attendance_pct": group.attendance_pct,
        "absence_pct": group.absence_pct,
        "authorised_absence_pct": group.authorised_absence_pct,
        "unauthorised_absence_pct": group.unauthorised_absence_pct,
        "persistent_absence_pct": group.persistent_absence_pct,
        "severe_absence_pct": group.severe_absence_pct,
    }


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)  # bool -> True/False, Decimal -> 66.7


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """A header and one line per row, ``\\n`` line ends, quoting only where a cell needs it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return out.getvalue()


def _json_value(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def to_json(value: dict[str, Any] | list[dict[str, Any]]) -> str:
    """Indented JSON with a final newline; one-decimal percentages as numbers, flags as booleans."""
    if isinstance(value, list):
        data: Any = [{k: _json_value(v) for k, v in row.items()} for row in value]
    else:
        data = {k: _json_value(v) for k, v in value.items()}
    return json.dumps(data, indent=2) + "\n"
