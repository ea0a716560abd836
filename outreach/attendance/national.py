"""National, regional and local-authority attendance figures to show beside a school's own.

From the DfE's published year-to-date statistics for 2025/26 (``outreach/data/``, Open Government
Licence v3.0, see ``outreach/data/NOTICE.md``). The file is small (647 rows) and read once per
process. The published percentages are used as published; cells the DfE suppresses (``c``, too
few schools) come back as None, never as zero.

Phases: the DfE publishes primary, secondary, special and a total. A school's own phase maps onto
them: nursery -> primary; middle, all-through and alternative provision -> total (the DfE places
middle schools as deemed primary or secondary, which the school's record does not say, and
publishes no alternative-provision figures here).
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any

from outreach.core.errors import UserError

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "dfe_pupil_attendance_ytd_2025_26.csv"
PERIOD = "2025/26, 8 September 2025 to 10 July 2026"
SOURCE = "Department for Education, Pupil attendance in schools (Open Government Licence v3.0)"

PHASES = {
    "primary": "Primary", "secondary": "Secondary", "special": "Special", "total": "Total",
    "nursery": "Primary", "middle": "Total", "all-through": "Total", "alternative": "Total",
}
_MEASURES = {
    "attendance_pct": "attendance_perc",
    "absence_pct": "overall_absence_perc",
    "authorised_absence_pct": "authorised_absence_perc",
    "unauthorised_absence_pct": "unauthorised_absence_perc",
    "persistent_absence_pct": "pa_perc",
}
_COUNTS = {"schools": "num_schools", "enrolments": "enrolments", "possible_sessions": "possible_sessions"}


def _number(raw: str | None) -> float | None:
    """A published cell: None for suppressed (``c``), missing or otherwise unpublished values."""
    text = (raw or "").strip()
    if text in ("", "c", "x", "z", ":", "low", "u"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _figures(row: dict[str, str], level: str, name: str | None, code: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level, "name": name, "code": code, "phase": row["education_phase"]}
    for key, column in _MEASURES.items():
        out[key] = _number(row.get(column))
    for key, column in _COUNTS.items():
        value = _number(row.get(column))
        out[key] = None if value is None else (round(value) if key == "possible_sessions" else value)
    return out


@lru_cache(maxsize=1)
def _table() -> dict[tuple[str, str, str], dict[str, str]]:
    """(level, code, phase) -> published row; level is national, region or la."""
    table: dict[tuple[str, str, str], dict[str, str]] = {}
    with DATA_FILE.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            level = row["geographic_level"].strip().lower()
            phase = row["education_phase"].strip()
            if level == "national":
                table[("national", "E92000001", phase)] = row
            elif level == "regional":
                table[("region", row["region_code"].strip(), phase)] = row
            elif level == "local authority":
                table[("la", row["old_la_code"].strip(), phase)] = row
    return table


def dfe_phase(phase: str) -> str:
    """The DfE phase (Primary, Secondary, Special, Total) for a DfE or school phase name."""
    key = (phase or "").strip().lower()
    if key not in PHASES:
        raise UserError(f"phase must be one of {', '.join(sorted(PHASES))}, got {phase!r}")
    return PHASES[key]


def reference_figures(phase: str, la_code: str | None = None) -> dict[str, Any]:
    """National, regional and local-authority figures for ``phase``.

    Returns ``{"phase", "period", "source", "national", "region", "la"}``; each of the last three
    is None or a dict with ``level, name, code, phase, attendance_pct, absence_pct,
    authorised_absence_pct, unauthorised_absence_pct, persistent_absence_pct, schools,
    enrolments, possible_sessions`` (any value None where the DfE suppressed it). ``la_code`` is
    the 3-digit code schools use (``School.la_code``); the region is the LA's own. An LA code the
    data does not hold (or a phase it does not publish for that LA) gives None for ``la`` and,
    when the LA is unknown, for ``region``."""
    published = dfe_phase(phase)
    table = _table()
    national_row = table[("national", "E92000001", published)]
    result: dict[str, Any] = {
        "phase": published, "period": PERIOD, "source": SOURCE,
        "national": _figures(national_row, "national", "England", "E92000001"),
        "region": None, "la": None,
    }
    if la_code is None:
        return result
    code = str(la_code).strip()
    if not (code.isdigit() and len(code) == 3):
        raise UserError(f"LA code must be 3 digits, got {la_code!r}")
    la_row = table.get(("la", code, published))
    region_code = la_row["region_code"] if la_row else next(
        (row["region_code"] for (level, c, _p), row in table.items() if level == "la" and c == code), None)
    if la_row is not None:
        result["la"] = _figures(la_row, "local authority", la_row["la_name"], code)
    if region_code:
        region_row = table.get(("region", region_code, published))
        if region_row is not None:
            result["region"] = _figures(region_row, "regional", region_row["region_name"], region_code)
    return result
