"""Long CSV: a row per mark (UPN, date, session, code), columns found by name."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from outreach.registers.formats.base import DateParser, FormatError, Problem, RawMark, csv_rows, parse_session
from outreach.registers.mappings import ColumnMapping, describe_missing, find_columns

_new = tuple.__new__  # RawMark without NamedTuple.__new__'s Python-level call: this runs per mark
REQUIRED = ("upn", "date", "session", "code")


def parse(path: str | Path, mapping: ColumnMapping) -> Iterator[RawMark | Problem]:
    """Yield a RawMark per row (or a Problem for a row that cannot be read), streaming."""
    rows = csv_rows(path)
    header_line, header = next(rows)
    found, missing = find_columns(header, mapping, REQUIRED)
    if missing:
        raise FormatError(Problem(describe_missing(missing, mapping), line=header_line, field=missing[0],
                                  value=", ".join(h.strip() for h in header)[:200]))
    i_upn, i_date, i_session, i_code = (found[f] for f in REQUIRED)
    width = max(found.values()) + 1
    names = {i: header[i].strip() for i in found.values()}
    code_name = names[i_code]
    parser = DateParser(mapping.date_format)
    dates: dict[str, object] = {}
    upns: dict[str, str] = {}
    sessions: dict[str, str | None] = {}
    codes: dict[str, str] = {}
    for line, cells in rows:
        if len(cells) < width:
            short = min((i for i in found.values() if i >= len(cells)), default=width - 1)
            yield Problem(f"the row has {len(cells)} cells; the {names[short]} column is missing",
                          line=line, field=names[short])
            continue
        raw_upn = cells[i_upn]
        upn = upns.get(raw_upn)
        if upn is None:
            upn = upns[raw_upn] = raw_upn.strip().upper()
        if not upn:
            yield Problem("the UPN is blank", line=line, field=names[i_upn], value="")
            continue
        raw_date = cells[i_date]
        day = dates.get(raw_date)
        if day is None:
            day = dates[raw_date] = parser.parse(raw_date)
        if day.__class__ is str:
            yield Problem(day, line=line, field=names[i_date], value=raw_date.strip())
            continue
        raw_session = cells[i_session]
        session = sessions.get(raw_session)
        if session is None:
            session = sessions[raw_session] = parse_session(raw_session)
            if session is None:
                del sessions[raw_session]
                yield Problem("the session is not AM or PM", line=line, field=names[i_session],
                              value=raw_session.strip())
                continue
        raw_code = cells[i_code]
        code = codes.get(raw_code)
        if code is None:
            code = codes[raw_code] = raw_code.strip().upper()
        yield _new(RawMark, (upn, day, session, code, line, code_name))
