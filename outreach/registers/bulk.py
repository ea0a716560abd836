"""Register import, set-based path for long CSV files: the database reads the rows, Python checks
each distinct value once.

Why: the streaming path (``services._validate_and_stage``) runs Python for every mark, ~760,000
for a large school's year, and that was half of a first import. Here the file's rows go into a
temporary table as they are (SQLite: ``csv.reader`` rows straight into ``executemany``, with no
Python per row; PostgreSQL: ``COPY`` of the file's bytes, parsed by the server). Python then
checks each *distinct* value with the same functions the streaming path uses (``DateParser``,
``parse_session``, ``codes.lookup``, the school's UPNs): ~2,000 UPNs and ~4,000
(date, session, code) combinations instead of 760,000 rows. The good rows reach the stage, or
``marks`` itself for a first import, through one ``INSERT ... SELECT`` joining those small tables.

It only accepts a file it can vouch for entirely: every value valid, each row on one line (so a
row's line number is its position after the header), every counted mark inside its pupil's
enrolment. Anything else (a bad value, an unknown UPN, a blank line, a quoted cell across lines,
a short row, bad encoding) and it rolls back to its savepoint and returns None: the streaming
path then reads the file and reports every problem by file, line, field and value exactly as
before. A file with errors is the rare case; the weekly re-send of a clean year is the common one.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.attendance.codes import NOT_TAKEN, UnknownCode, lookup
from outreach.registers.formats.base import DateParser, Problem, open_text, parse_session
from outreach.registers.formats.long_csv import REQUIRED
from outreach.registers.mappings import ColumnMapping, find_columns
from outreach.registers.report import ProblemLog
from outreach.schools.models import Pupil

log = logging.getLogger(__name__)

RAW = "_import_raw"  # the file's rows as text, in file order
UPNS = "_import_upns"  # raw UPN text -> pupil id
KEYS = "_import_keys"  # raw (date, session, code) text -> the parsed values
TABLES = (RAW, UPNS, KEYS)
NOT_TAKEN_MESSAGE = "no mark taken yet: skipped, not counted"
CHUNK = 20_000  # rows per executemany (SQLite)
PROGRESS_EVERY = 5_000

Progress = Callable[[int, "int | None"], None]


@dataclass
class Loaded:
    """What the set-based path did. ``direct``: the marks are already in ``marks`` (a first
    import: the school had no marks in the file's dates); otherwise they are in the stage, for
    the usual duplicate check and merge."""

    rows: int
    not_taken: int
    warnings: ProblemLog
    direct: bool = False
    added: int = 0
    pupils: list[int] = field(default_factory=list)
    first: date | None = None
    last: date | None = None


@dataclass
class _Read:
    """The file in RAW: how many rows, the distinct values, and RAW's column for each field."""

    rows: int
    upns: set[str]
    keys: set[tuple[str, str, str]]
    code_name: str  # the code column's header, as errors and warnings name it
    columns: dict[str, str]


def _fallback(reason: str) -> None:
    """Say why the streaming path takes the file (no values from it: they may be pupil data)."""
    log.debug("register import: set-based path not used: %s", reason)
    return None


def load(session: Session, stage: Any, path: Path, mapping: ColumnMapping, *, school_id: int, batch_id: int,
         file_name: str, lines: int, progress: Progress | None, total: int | None) -> Loaded | None:
    """Load a long CSV set-wise into the stage (or, for a first import, into ``marks``), or
    return None having changed nothing, for the streaming path to import or refuse the file."""
    dialect = session.get_bind().dialect.name
    savepoint = session.begin_nested()
    try:
        loaded = _load(session, dialect, stage, path, mapping, school_id, batch_id, file_name, lines, progress, total)
    except Exception:
        savepoint.rollback()
        raise
    if loaded is None:
        savepoint.rollback()
        return None
    savepoint.commit()
    return loaded


def _load(session: Session, dialect: str, stage: Any, path: Path, mapping: ColumnMapping, school_id: int,
          batch_id: int, file_name: str, lines: int, progress: Progress | None, total: int | None) -> Loaded | None:
    postgres = dialect == "postgresql"
    read = (_read_postgres if postgres else _read_sqlite)(session, path, mapping, lines, progress, total)
    if read is None:
        return None
    ids = dict(session.execute(select(Pupil.upn, Pupil.id).where(Pupil.school_id == school_id)).all())
    upn_rows = []
    for raw in read.upns:
        pupil_id = ids.get(raw.strip().upper())
        if pupil_id is None:
            return _fallback("a UPN is blank or not on the roll")
        upn_rows.append((raw, pupil_id))
    key_rows = _keys(read.keys, mapping, postgres)
    if key_rows is None:
        return _fallback("a date, session or code is not valid")
    days = [row[3] for row in key_rows if row[6]]
    as_date = (lambda d: d) if postgres else date.fromisoformat  # type: ignore[return-value]
    _lookup_tables(session, postgres, upn_rows, key_rows)

    line = "r.line + 1" if postgres else "r.rowid + 1"  # the header is line 1, one row a line
    r = read.columns
    join = (f"FROM {RAW} r JOIN {KEYS} k ON k.date = r.{r['date']} AND k.session = r.{r['session']} "
            f"AND k.code = r.{r['code']}")
    warnings = ProblemLog(file_name)
    not_taken = 0
    if any(not row[6] for row in key_rows):
        not_taken = session.execute(text(f"SELECT COUNT(*) {join} WHERE k.taken = 0")).scalar() or 0
        for n, code in session.execute(text(f"SELECT {line}, k.norm {join} WHERE k.taken = 0 ORDER BY 1 "
                                            f"LIMIT {warnings.limit}")):
            warnings.add(_not_taken_problem(n, code, read.code_name))
        warnings.count = not_taken
    loaded = Loaded(rows=read.rows, not_taken=not_taken, warnings=warnings)
    if not days:
        return loaded  # nothing but marks not taken yet: an empty stage, as the streaming path leaves
    # In file order on SQLite (its stage keeps the first of two codes for a session, as the
    # streaming path does); scanning RAW by rowid gives that order without a sort.
    source = (f"SELECT u.pupil_id, k.day AS date, k.sess AS session, k.norm AS code, {line} AS line "
              f"{join} JOIN {UPNS} u ON u.upn = r.{r['upn']} WHERE k.taken = 1{'' if postgres else ' ORDER BY r.rowid'}")
    first, last = min(days), max(days)
    params = {"school": school_id, "first": first, "last": last, "batch": batch_id}
    existing = session.execute(text("SELECT 1 FROM marks WHERE school_id = :school AND date >= :first "
                                    "AND date <= :last LIMIT 1"), params).first()
    if existing is None:
        # A first import into these dates: nothing to compare with, so the rows go straight into
        # marks. A session in the file twice breaks the primary key: then back to the stage, whose
        # duplicate check reports it (or keeps one of two identical marks).
        inner = session.begin_nested()
        try:
            loaded.added = session.execute(text(
                "INSERT INTO marks (pupil_id, date, session, school_id, code, batch_id) "
                f"SELECT s.pupil_id, s.date, s.session, :school, s.code, :batch FROM ({source}) s "
                "ORDER BY s.pupil_id, s.date, s.session"), params).rowcount
            inner.commit()
            loaded.direct = True
        except IntegrityError:
            inner.rollback()
    if loaded.direct:
        checked = "marks"
        loaded.first, loaded.last = as_date(first), as_date(last)
        if not_taken:
            loaded.pupils = sorted(pid for (pid,) in session.execute(text(
                f"SELECT DISTINCT u.pupil_id {join} JOIN {UPNS} u ON u.upn = r.{r['upn']} WHERE k.taken = 1")))
        else:
            loaded.pupils = sorted({pupil_id for _, pupil_id in upn_rows})
    else:
        stage.fill(source)
        checked = stage.table
    if _outside_enrolment(session, checked, school_id, first, last, as_date):
        return _fallback("a counted mark is outside its pupil's enrolment")
    return loaded


def _keys(keys: Iterable[tuple[str, str, str]], mapping: ColumnMapping,
          postgres: bool) -> list[tuple[Any, ...]] | None:
    """(raw date, raw session, raw code, day, AM/PM, code, taken) for each distinct combination,
    or None if any of them is wrong (unparseable date or session, a code not in force that day)."""
    parser = DateParser(mapping.date_format)
    out = []
    checked: set[tuple[str, date]] = set()
    for raw_date, raw_session, raw_code in keys:
        day = parser.parse(raw_date)
        session = parse_session(raw_session)
        if day.__class__ is str or session is None:
            return None
        code = raw_code.strip().upper()
        taken = code not in NOT_TAKEN
        if taken and (code, day) not in checked:
            try:
                lookup(code, day)  # type: ignore[arg-type]
            except UnknownCode:
                return None
            checked.add((code, day))  # type: ignore[arg-type]
        out.append((raw_date, raw_session, raw_code, day if postgres else day.isoformat(),  # type: ignore[union-attr]
                    session, code, 1 if taken else 0))
    return out


def _lookup_tables(session: Session, postgres: bool, upn_rows: list[tuple[str, int]],
                   key_rows: list[tuple[Any, ...]]) -> None:
    extra = " ON COMMIT DROP" if postgres else " WITHOUT ROWID"
    day_type = "date" if postgres else "TEXT"
    session.execute(text(f"CREATE TEMP TABLE {UPNS} (upn TEXT PRIMARY KEY, pupil_id INTEGER NOT NULL){extra}"))
    session.execute(text(
        f"CREATE TEMP TABLE {KEYS} (date TEXT NOT NULL, session TEXT NOT NULL, code TEXT NOT NULL, "
        f"day {day_type} NOT NULL, sess TEXT NOT NULL, norm TEXT NOT NULL, taken INTEGER NOT NULL, "
        f"PRIMARY KEY (date, session, code)){extra}"))
    dbapi = session.connection().connection.driver_connection
    mark = "%s" if postgres else "?"
    cursor = dbapi.cursor()
    try:
        cursor.executemany(f"INSERT INTO {UPNS} VALUES ({mark}, {mark})", upn_rows)
        cursor.executemany(f"INSERT INTO {KEYS} VALUES ({', '.join([mark] * 7)})", key_rows)
    finally:
        cursor.close()
    if postgres:  # temporary tables are never analysed by autovacuum; the join plans need the sizes
        session.execute(text(f"ANALYZE {UPNS}"))
        session.execute(text(f"ANALYZE {KEYS}"))


def _not_taken_problem(line: int, code: str, field_name: str) -> Problem:
    return Problem(NOT_TAKEN_MESSAGE, line=int(line), field=field_name, value=code or "(blank)")


def _outside_enrolment(session: Session, table: str, school_id: int, first: Any, last: Any,
                       as_date: Callable[[Any], date]) -> bool:
    """Whether a counted mark lies outside its pupil's admission/leaving dates. Only codes outside
    possible sessions (Z, D, X, #...) are accepted there; the streaming path names the line."""
    rows = session.execute(text(
        f"SELECT DISTINCT s.date, s.code FROM pupils p JOIN {table} s ON s.pupil_id = p.id "
        "WHERE p.school_id = :school AND (p.admission_date IS NOT NULL OR p.leaving_date IS NOT NULL) "
        "AND s.date >= :first AND s.date <= :last "
        "AND (s.date < p.admission_date OR s.date > p.leaving_date)"),
        {"school": school_id, "first": first, "last": last})
    return any(lookup(code, as_date(day)).category.in_possible for day, code in rows)


# --- reading the file into RAW ---------------------------------------------------------------


def _header(path: Path, mapping: ColumnMapping) -> tuple[list[str], dict[str, int]] | None:
    """The header row and the required columns, if the header is line 1 and has them all."""
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header or reader.line_num != 1:
                return _fallback("the header is not the first line")
    except (UnicodeDecodeError, csv.Error):
        return _fallback("the header cannot be read")
    found, missing = find_columns(header, mapping, REQUIRED)
    return _fallback("a column is missing") if missing else (header, found)


def _step(progress: Progress | None, total: int | None) -> int:
    if progress is None:
        return CHUNK
    return PROGRESS_EVERY if not total or total > 100 * PROGRESS_EVERY else max(1, total // 100)


def _read_sqlite(session: Session, path: Path, mapping: ColumnMapping, lines: int, progress: Progress | None,
                 total: int | None) -> _Read | None:
    """csv.reader rows, the four columns picked by itemgetter, straight into executemany: the
    benchmark's baseline plus the distinct values, collected per chunk (C loops, no Python per row)."""
    head = _header(path, mapping)
    if head is None:
        return None
    header, found = head
    session.execute(text(f"DROP TABLE IF EXISTS {RAW}"))
    session.execute(text(f"CREATE TEMP TABLE {RAW} (upn TEXT, date TEXT, session TEXT, code TEXT)"))
    dbapi = session.connection().connection.driver_connection
    pick = itemgetter(*(found[f] for f in REQUIRED))
    upn_of, key_of = itemgetter(0), itemgetter(1, 2, 3)
    upns: set[str] = set()
    keys: set[tuple[str, str, str]] = set()
    step = _step(progress, total)
    insert = f"INSERT INTO {RAW} (upn, date, session, code) VALUES (?, ?, ?, ?)"
    rows = 0
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            next(reader)
            picked = map(pick, reader)
            while chunk := list(islice(picked, step)):
                upns.update(map(upn_of, chunk))
                keys.update(map(key_of, chunk))
                dbapi.executemany(insert, chunk)
                rows += len(chunk)
                if progress is not None:
                    progress(rows, total)
            physical = reader.line_num
    except (IndexError, UnicodeDecodeError, csv.Error):
        return _fallback("a short or blank row, or not UTF-8 text")
    if rows == 0 or physical != rows + 1:
        return _fallback("no rows, or not one row a line (line numbers need the streaming path)")
    return _Read(rows, upns, keys, header[found["code"]].strip(), {f: f for f in REQUIRED})


def _read_postgres(session: Session, path: Path, mapping: ColumnMapping, lines: int, progress: Progress | None,
                   total: int | None) -> _Read | None:
    """COPY of the file's bytes (less the byte-order mark) into a text table with a line counter:
    the server parses the CSV, as in the benchmark's baseline."""
    import psycopg

    head = _header(path, mapping)
    if head is None:
        return None
    header, found = head
    dbapi = session.connection().connection.driver_connection
    if dbapi.info.encoding != "utf-8":
        return _fallback("the connection is not UTF-8")
    names = [f"c{i}" for i in range(len(header))]
    session.execute(text(f"CREATE TEMP TABLE {RAW} ({', '.join(n + ' text' for n in names)}, "
                         "line integer GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP"))
    columns = ", ".join(names)
    size = max(path.stat().st_size, 1)
    block = max(1, min(1 << 20, size // 100)) if progress is not None else 1 << 20
    try:
        with dbapi.cursor() as cur:
            with cur.copy(f"COPY {RAW} ({columns}) FROM STDIN (FORMAT csv, HEADER true, "
                          f"FORCE_NOT_NULL ({columns}))") as copy, open(path, "rb") as handle:
                start = handle.read(3)
                if start != b"\xef\xbb\xbf":
                    copy.write(start)
                done = 0
                while data := handle.read(block):
                    copy.write(data)
                    done += len(data)
                    if progress is not None and total:
                        progress(min(total, total * done // size), total)
            rows = cur.rowcount
    except psycopg.Error as exc:  # rows of the wrong width, bad encoding...: the streaming path says where
        return _fallback(f"COPY refused the file ({type(exc).__name__})")
    if rows <= 0 or rows + 1 != lines:
        return _fallback("no rows, or not one row a line (line numbers need the streaming path)")
    # Temporary tables are never analysed by autovacuum: without row counts the planner takes the
    # 750,000-row table for a few hundred and probes the UPN table once per row instead of hashing.
    session.execute(text(f"ANALYZE {RAW}"))
    picked = {f: f"c{found[f]}" for f in REQUIRED}
    upns = {u for (u,) in session.execute(text(f"SELECT DISTINCT {picked['upn']} FROM {RAW}"))}
    keys = {tuple(k) for k in session.execute(text(
        f"SELECT DISTINCT {picked['date']}, {picked['session']}, {picked['code']} FROM {RAW}"))}
    return _Read(rows, upns, keys, header[found["code"]].strip(), picked)  # type: ignore[arg-type]
