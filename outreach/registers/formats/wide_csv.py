"""Wide CSV: a row per pupil, a column per date and session (``2024-09-02 AM``,
``02/09/2024 PM``, ``Mon 02/09/2024 AM``, ``02/09/2024 (AM)``). Other columns (names, groups)
are ignored; the UPN column is found by name like the long format's."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Iterator

from outreach.registers.formats.base import DateParser, FormatError, Problem, RawMark, csv_rows
from outreach.registers.mappings import ColumnMapping, describe_missing, find_columns

_new = tuple.__new__  # RawMark without NamedTuple.__new__'s Python-level call: this runs per mark
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})"
_COLUMN = re.compile(
    r"^(?:(?P<dow>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    r"(?:" + _DATE.replace("(", "(?P<d1>", 1) + r"\s*[-_ ]?\s*[(\[]?(?P<s1>am|pm)[)\]]?"
    r"|[(\[]?(?P<s2>am|pm)[)\]]?\s*[-_ ]?\s*" + _DATE.replace("(", "(?P<d2>", 1) + r")$",
    re.IGNORECASE,
)


def parse_column(header: str) -> tuple[str, str, str | None] | None:
    """(date text, AM/PM, weekday or None) when ``header`` names a session column."""
    match = _COLUMN.match(header.strip())
    if not match:
        return None
    raw_date = match.group("d1") or match.group("d2")
    session = (match.group("s1") or match.group("s2")).upper()
    dow = match.group("dow")
    return raw_date, session, dow.lower() if dow else None


def parse(path: str | Path, mapping: ColumnMapping) -> Iterator[RawMark | Problem]:
    rows = csv_rows(path)
    header_line, header = next(rows)
    found, missing = find_columns(header, mapping, ("upn",))
    if missing:
        raise FormatError(Problem(describe_missing(missing, mapping), line=header_line, field="upn",
                                  value=", ".join(h.strip() for h in header)[:200]))
    dates = DateParser(mapping.date_format)
    columns: list[tuple[int, date, str, str]] = []
    bad_header = False
    seen: dict[tuple[date, str], str] = {}
    for i, cell in enumerate(header):
        parsed = parse_column(cell)
        if parsed is None:
            continue
        raw_date, session, dow = parsed
        day = dates.parse(raw_date)
        name = cell.strip()
        if isinstance(day, str):
            yield Problem(day, line=header_line, field=name, value=raw_date)
            bad_header = True
            continue
        if dow is not None and _DAYS[day.weekday()] != dow:
            yield Problem(f"{day.isoformat()} is a {day.strftime('%A')}, not the day the header names",
                          line=header_line, field=name, value=name)
            bad_header = True
            continue
        if (day, session) in seen:
            yield Problem(f"the session is already the column {seen[(day, session)]!r}",
                          line=header_line, field=name, value=name)
            bad_header = True
            continue
        seen[(day, session)] = name
        columns.append((i, day, session, name))
    if not columns and not bad_header:
        raise FormatError(Problem("no date-and-session columns (e.g. '2024-09-02 AM' or '02/09/2024 PM')",
                                  line=header_line, field="header"))
    i_upn = found["upn"]
    upn_name = header[i_upn].strip()
    codes: dict[str, str] = {}
    for line, cells in rows:
        upn = cells[i_upn].strip().upper() if i_upn < len(cells) else ""
        if not upn:
            yield Problem("the UPN is blank", line=line, field=upn_name, value="")
            continue
        for i, day, session, name in columns:
            raw_code = cells[i] if i < len(cells) else ""
            code = codes.get(raw_code)
            if code is None:
                code = codes[raw_code] = raw_code.strip().upper()
            yield _new(RawMark, (upn, day, session, code, line, name))
