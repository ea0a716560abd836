"""Register import: read a file, validate every mark, then write the weeks that changed.

Why this shape: a year's register for a large school is ~760,000 marks, and schools re-send the
whole year every week with a handful of corrections. A clean long CSV (the common case) is read
column-wise (``bulk.load``: pandas parses, each distinct value is checked once). Anything else
(wide CSV, CTF, or a file with problems) streams through Python here, which validates each mark
(codes against the table in force on its date, UPNs against the roll, dates, sessions, enrolment
windows) and names every problem's file, line, field and value, staging the good rows in chunks
in a temporary table that finds sessions given twice. Either way the marks reach
``store.apply`` as columns: it diffs them with what the school holds, writes only the pupil-weeks
that changed (marks and counts together) and returns the corrections, kept in ``mark_changes``.
One transaction per file: on any error it is rolled back and only a ``failed`` ImportBatch row
(with the errors) is written.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from outreach.attendance.codes import UnknownCode, lookup
from outreach.core.errors import UserError
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.registers import batches, bulk, store
from outreach.registers.formats import ctf, long_csv, wide_csv
from outreach.registers.formats.base import FORMATS, FormatError, Problem, RawMark, detect_format
from outreach.registers.hooks import run_after_import
from outreach.registers.mappings import ColumnMapping, as_mapping
from outreach.registers.models import ImportBatch, MarkChange
from outreach.registers.report import MAX_SAMPLE, ImportReport, ProblemLog
from outreach.schools.models import Pupil, School
from outreach.schools.upn import upn_problem

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
CHUNK = 20_000  # staged rows per COPY / executemany: bounded memory, few round trips
PROGRESS_EVERY = 5_000

# Imported here so callers find every import service in one module (same report shape).
from outreach.schools.roster import import_contacts, import_pupils  # noqa: E402

__all__ = ["import_registers", "import_pupils", "import_contacts", "Progress"]


@dataclass(slots=True)
class _Enrolment:
    id: int
    admission: date | None
    leaving: date | None


def _school(school: School | str) -> School:
    if isinstance(school, School):
        return school
    from outreach.schools.services import get_school

    return get_school(school)


def import_registers(school: School | str, path: str | Path, *, format: str = "auto",
                     mapping: str | ColumnMapping | dict[str, Any] | None = None, dry_run: bool = False,
                     created_by: str = "cli", progress: Progress | None = None,
                     file_name: str | None = None) -> ImportReport:
    """Import one register file for ``school`` (a School or its URN). All or nothing.

    Raises UserError only for a bad call (no such file, unknown format or mapping); everything
    wrong *in* the file comes back as a ``failed`` report (and a failed batch row)."""
    school = _school(school)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    if format not in ("auto", *FORMATS):
        raise UserError(f"format must be auto, long, wide or ctf, got {format!r}")
    column_mapping = as_mapping(mapping)
    name = (file_name or path.name)[:300]  # the batch column's width
    sha, lines = batches.digest(path)
    school_id = school.id
    log_ = ProblemLog(name)
    report = ImportReport(kind="registers", file_name=name, format=format, dry_run=dry_run)
    try:
        fmt = format if format != "auto" else (column_mapping.format or detect_format(path))
    except FormatError as exc:
        log_.add(exc.problem)
        return batches.fail(report, log_, school_id=school_id, created_by=created_by, sha=sha)
    report.format = fmt
    total = ctf.count_pupils(path) if fmt == "ctf" else max(lines - 1, 0)
    identity = ctf.SchoolIdentity(school.urn, school.la_code, school.estab)

    batch = ImportBatch(school_id=school_id, kind="registers", created_by=created_by, file_name=name,
                        file_sha256=sha, format=fmt, status="running", rows_total=total)
    db.session.add(batch)
    db.session.flush()
    session = db.session()
    _lock_school(session, school_id)
    stage = _Stage.create(session)
    fast: bulk.Loaded | None = None
    try:
        if fmt == "long":  # a clean long CSV goes column-wise; anything else comes back None
            fast = bulk.load(session, path, column_mapping, school_id=school_id, batch_id=batch.id,
                             file_name=name, lines=lines, progress=progress, total=total)
        if fast is not None:
            report.rows, report.not_taken = fast.rows, fast.not_taken
            report.warnings, report.warning_count = fast.warnings.items, fast.warnings.count
        else:
            if fmt == "ctf":
                records: Iterator[Any] = ctf.parse(path, identity)
            elif fmt == "wide":
                records = wide_csv.parse(path, column_mapping)
            else:
                records = long_csv.parse(path, column_mapping)
            _validate_and_stage(records, school_id, stage, report, log_, progress, total)
    except FormatError as exc:
        log_.add(exc.problem)
    except Exception:
        stage.restore()  # first: on the connection the import holds, before rollback releases it
        db.session.rollback()  # the temporary tables go with the transaction
        raise
    if fast is not None:
        _record(session, fast.diff, school_id, batch.id, report)
    else:
        if not log_:
            stage.flush()
            duplicates = stage.duplicates()
            for problem in duplicates:
                log_.add(problem)
            log_.count += stage.duplicate_count - len(duplicates)
        if log_:
            stage.restore()
            return batches.fail(report, log_, school_id=school_id, created_by=created_by, sha=sha)
        _merge(session, stage, school_id, batch.id, report)
    report.same_file_as = batches.same_file_batch(school_id, "registers", sha)
    stage.drop()
    stage.restore()
    if dry_run:
        db.session.rollback()
        report.status = "dry_run"
        report.batch_id = None
        return report
    batch.status = "completed"
    batch.finished_at = utcnow()
    batch.rows_processed = report.rows
    for key in ("added", "changed", "unchanged", "not_taken", "date_from", "date_to"):
        setattr(batch, key, getattr(report, key))
    batch.errors = report.warnings or None
    db.session.commit()
    report.status = "completed"
    report.batch_id = batch.id
    log.info("register import %s for school %s: added %s changed %s unchanged %s not taken %s",
             batch.id, school_id, report.added, report.changed, report.unchanged, report.not_taken)
    if progress:
        progress(total, total)
    run_after_import(school_id, batch.id)
    return report


def _lock_school(session: Session, school_id: int) -> None:
    """One register import per school at a time (PostgreSQL; SQLite serialises writers anyway):
    two imports diffing against the same marks would each count the other's changes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x52454700000000 + school_id})


def _validate_and_stage(records: Iterator[Any], school_id: int, stage: "_Stage", report: ImportReport,
                        log_: ProblemLog, progress: Progress | None, total: int | None) -> None:
    """Check every record, stage the good ones. Once any error is found nothing more is staged
    (the import will fail) but checking goes on, so one run lists every problem.

    This loop runs once per mark (~760,000 for a large school's year), so it is written for
    speed: dictionary lookups cached per distinct value, no per-row method calls on the hot path,
    date ranges and pupil counts left to the database."""
    ids: dict[str, int] = {}
    windows: dict[str, _Enrolment] = {}  # only pupils with an admission or leaving date
    for upn, pid, adm, left in db.session.execute(
            select(Pupil.upn, Pupil.id, Pupil.admission_date, Pupil.leaving_date).where(Pupil.school_id == school_id)):
        ids[upn] = pid
        if adm is not None or left is not None:
            windows[upn] = _Enrolment(pid, adm, left)
    known: dict[tuple[str, date], bool | str] = {}  # (code, day) -> counts in possible, or why it is unknown
    unknown: dict[str, list[int]] = {}  # UPN -> [first line, marks]
    warnings = ProblemLog(report.file_name)
    isos: dict[date, str] = {}
    refused: set[str] = set()  # CTF pupils whose own details were refused: their marks are not re-reported
    rows = not_taken = pupils_done = 0
    step = PROGRESS_EVERY if not total or total > 100 * PROGRESS_EVERY else max(1, total // 100)
    next_progress = step
    buffer = stage.buffer
    for rec in records:
        if type(rec) is not RawMark:
            if isinstance(rec, Problem):
                log_.add(rec)
            elif isinstance(rec, ctf.CtfPupil):
                pupils_done += 1
                pupil = _upsert_ctf_pupil(school_id, rec, report, log_)
                if pupil is None:
                    refused.add(rec.upn)
                else:
                    ids[rec.upn] = pupil.id
                    windows.pop(rec.upn, None)
                    if pupil.admission is not None or pupil.leaving is not None:
                        windows[rec.upn] = pupil
                if progress is not None and pupils_done >= next_progress:
                    progress(pupils_done, total)
                    next_progress = pupils_done + step
            continue
        rows += 1
        upn, day, session_, code, line, element = rec
        if progress is not None and line is not None and line > next_progress:
            progress(line - 1, total)
            next_progress = line + step
        if code == "" or code == "-":
            not_taken += 1
            warnings.add(_problem(rec, "no mark taken yet: skipped, not counted", code or "(blank)"))
            continue
        pupil_id = ids.get(upn)
        if pupil_id is None:
            if upn in refused:
                continue
            seen = unknown.get(upn)
            if seen is None:
                unknown[upn] = [line or 0, 1]
            else:
                seen[1] += 1
            continue
        verdict = known.get((code, day))
        if verdict is None:
            try:
                verdict = lookup(code, day).category.in_possible
            except UnknownCode as exc:
                verdict = str(exc)
            known[(code, day)] = verdict
        if verdict.__class__ is str:
            log_.add(_problem(rec, verdict, code))  # type: ignore[arg-type]
            continue
        if verdict and upn in windows:
            enrolment = windows[upn]
            if ((enrolment.admission is not None and day < enrolment.admission)
                    or (enrolment.leaving is not None and day > enrolment.leaving)):
                log_.add(_window_problem(rec, enrolment))
                continue
        if log_.count:
            continue
        iso = isos.get(day)
        if iso is None:
            iso = isos[day] = day.isoformat()
        buffer.append((pupil_id, iso, session_, code, line or 0))
        if len(buffer) >= CHUNK:
            stage.flush()
            buffer = stage.buffer
    for upn, (line, count) in sorted(unknown.items()):
        log_.add(Problem(f"no pupil with this UPN at the school ({count} mark{'s' if count != 1 else ''}); "
                         "import the pupils first", line=line or None, field="UPN", value=upn))
    report.unknown_upns = sorted(unknown)
    if rows == 0 and not log_:
        log_.add(Problem("the file has no marks", line=1))
    report.rows = rows
    report.not_taken = not_taken
    report.warnings = warnings.items
    report.warning_count = warnings.count


def _problem(rec: RawMark, message: str, value: str) -> Problem:
    if rec.line is None:  # CTF
        return Problem(message, pupil=rec.upn, element=rec.element, field="AttendanceMarks", value=value)
    return Problem(message, line=rec.line, field=rec.element or "code", value=value)


def _window_problem(rec: RawMark, enrolment: _Enrolment) -> Problem:
    on_roll = f"admitted {enrolment.admission.isoformat() if enrolment.admission else '(no date)'}"
    if enrolment.leaving:
        on_roll += f", left {enrolment.leaving.isoformat()}"
    message = (f"{rec.day.isoformat()} {rec.session} is outside this pupil's enrolment ({on_roll}): only "
               "codes outside possible sessions (e.g. Z, D, X, #) are accepted outside it; "
               "correct the admission or leaving date in the pupils import, or the mark")
    if rec.line is None:
        return Problem(message, pupil=rec.upn, element=rec.element, field="date", value=rec.day.isoformat())
    return Problem(message, line=rec.line, field="date", value=rec.day.isoformat())


def _upsert_ctf_pupil(school_id: int, rec: "ctf.CtfPupil", report: ImportReport, log_: ProblemLog) -> _Enrolment | None:
    """Create or update the enrolment a CTF pupil describes (names come with the file)."""
    problem = upn_problem(rec.upn)
    if problem:
        log_.add(Problem(f"invalid UPN: {problem}", pupil=rec.upn, element="Pupil/UPN", field="UPN", value=rec.upn))
        return None
    if not rec.forename or not rec.surname:
        return None  # already reported by the parser
    pupil = db.session.scalar(select(Pupil).where(Pupil.school_id == school_id, Pupil.upn == rec.upn))
    if pupil is None:
        pupil = Pupil(school_id=school_id, upn=rec.upn, forename=rec.forename, surname=rec.surname,
                      preferred_forename=rec.preferred_forename, date_of_birth=rec.date_of_birth, sex=rec.sex,
                      year_group=rec.year_group)
        db.session.add(pupil)
        db.session.flush()
        report.pupils_created += 1
    else:
        for attr in ("forename", "surname", "preferred_forename", "date_of_birth", "sex", "year_group"):
            value = getattr(rec, attr)
            if value is not None and getattr(pupil, attr) != value:
                setattr(pupil, attr, value)
    return _Enrolment(pupil.id, pupil.admission_date, pupil.leaving_date)


# --- the stage (streaming path) and the merge -----------------------------------------------------

STAGE = "_import_stage"


class _Stage:
    """Validated rows waiting in a temporary table, written in chunks."""

    def __init__(self, session: Session):
        self.session = session
        self.buffer: list[tuple[int, str, str, str, int]] = []
        self.duplicate_count = 0
        self.table = STAGE  # the de-duplicated rows the merge reads

    @staticmethod
    def create(session: Session) -> "_Stage":
        cls = _PostgresStage if session.get_bind().dialect.name == "postgresql" else _SqliteStage
        stage = cls(session)
        stage._create()
        return stage

    def dbapi(self) -> Any:
        return self.session.connection().connection.driver_connection

    def drop(self) -> None:
        for table in (STAGE, "_import_unique"):
            self.session.execute(text(f"DROP TABLE IF EXISTS {table}"))

    def _duplicate_rows(self, sql: str) -> list[Problem]:
        problems = []
        for upn, day, sess, code, other, line, other_line in self.session.execute(text(sql)):
            day = day if isinstance(day, str) else day.isoformat()
            message = (f"{upn} {day} {sess} is in the file twice with different codes "
                       f"({code!r}" + (f" on line {line}" if line else "") + f" and {other!r})")
            problems.append(Problem(message, line=other_line or None, pupil=None if other_line else upn,
                                    field="code", value=other))
        return problems

    def restore(self) -> None:
        """Put back any connection setting the stage changed (on success and on failure)."""

    # dialect-specific
    def _create(self) -> None: ...
    def flush(self) -> None: ...
    def duplicates(self) -> list[Problem]: ...


class _SqliteStage(_Stage):
    """A WITHOUT ROWID table keyed by session: rows arrive de-duplicated and in key order, and
    a second row for a session with a different code is kept aside (``other_code``) to report."""

    # Page cache for the import's connection while it runs (KiB, SQLite's negative form): a
    # year streamed through the stage is ~750,000 rows in one B-tree, which thrashes SQLite's
    # default 2 MB cache. Put back by restore().
    CACHE_KIB = 65_536

    def _create(self) -> None:
        self.drop()
        cursor = self.dbapi().execute("PRAGMA cache_size")
        self._cache_size = cursor.fetchone()[0]
        self.dbapi().execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        self.session.execute(text(
            f"CREATE TEMP TABLE {STAGE} (pupil_id INTEGER NOT NULL, date TEXT NOT NULL, session TEXT NOT NULL, "
            "code TEXT NOT NULL, line INTEGER, other_code TEXT, other_line INTEGER, "
            "PRIMARY KEY (pupil_id, date, session)) WITHOUT ROWID"))

    def flush(self) -> None:
        if not self.buffer:
            return
        self.session.flush()
        self.dbapi().executemany(
            f"INSERT INTO {STAGE} (pupil_id, date, session, code, line) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (pupil_id, date, session) DO UPDATE SET other_code = excluded.code, "
            "other_line = excluded.line WHERE other_code IS NULL AND code <> excluded.code", self.buffer)
        self.buffer = []

    def restore(self) -> None:
        previous = getattr(self, "_cache_size", None)
        if previous is not None:
            self.dbapi().execute(f"PRAGMA cache_size = {int(previous)}")
            self._cache_size = None

    def duplicates(self) -> list[Problem]:
        self.duplicate_count = self.session.execute(
            text(f"SELECT COUNT(*) FROM {STAGE} WHERE other_code IS NOT NULL")).scalar() or 0
        if not self.duplicate_count:
            return []
        return self._duplicate_rows(
            f"SELECT p.upn, s.date, s.session, s.code, s.other_code, s.line, s.other_line FROM {STAGE} s "
            "JOIN pupils p ON p.id = s.pupil_id WHERE s.other_code IS NOT NULL ORDER BY s.other_line LIMIT 50")


class _PostgresStage(_Stage):
    """A plain temporary table filled by COPY; repeats are found with one hash aggregate."""

    # Memory for each sort and hash of the import's statements, for its transaction only
    # (SET LOCAL). With the server's default of 4 MB, the duplicate check's hash aggregate over a
    # year's staged rows (~750,000) spills to temporary files.
    WORK_MEM = "64MB"

    def _create(self) -> None:
        self.session.execute(text(f"SET LOCAL work_mem = '{self.WORK_MEM}'"))
        self.session.execute(text(
            f"CREATE TEMP TABLE {STAGE} (pupil_id integer NOT NULL, date date NOT NULL, session text NOT NULL, "
            "code text NOT NULL, line integer) ON COMMIT DROP"))

    def flush(self) -> None:
        if not self.buffer:
            return
        self.session.flush()
        payload = "".join(f"{p}\t{d}\t{s}\t{c}\t{n}\n" for p, d, s, c, n in self.buffer).replace("\\", "\\\\")
        with self.dbapi().cursor() as cur:
            with cur.copy(f"COPY {STAGE} (pupil_id, date, session, code, line) FROM STDIN") as copy:
                copy.write(payload)
        self.buffer = []

    def duplicates(self) -> list[Problem]:
        self.session.execute(text(f"ANALYZE {STAGE}"))
        repeats_sql = (f"SELECT pupil_id, date, session, MIN(code) AS code, MAX(code) AS other_code, "
                       f"MIN(line) AS line, MAX(line) AS other_line FROM {STAGE} GROUP BY pupil_id, date, session "
                       "HAVING COUNT(*) > 1")
        repeats, differing = self.session.execute(text(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE code <> other_code) FROM ({repeats_sql}) r")).one()
        self.duplicate_count = differing
        if differing:
            return self._duplicate_rows(
                f"SELECT p.upn, r.date, r.session, r.code, r.other_code, r.line, r.other_line FROM ({repeats_sql}) r "
                "JOIN pupils p ON p.id = r.pupil_id WHERE r.code <> r.other_code ORDER BY r.other_line LIMIT 50")
        if repeats:  # the same session twice with the same code: harmless, keep one
            self.session.execute(text(
                f"CREATE TEMP TABLE _import_unique ON COMMIT DROP AS SELECT DISTINCT ON (pupil_id, date, session) "
                f"pupil_id, date, session, code, line FROM {STAGE}"))
            self.table = "_import_unique"
        return []


def _merge(session: Session, stage: _Stage, school_id: int, batch_id: int, report: ImportReport) -> None:
    """Write the staged marks (``store.apply`` diffs them with what the school holds, writes the
    weeks that changed and their counts) and record what changed."""
    rows = session.execute(text(f"SELECT pupil_id, date, session, code FROM {stage.table}"))
    diff = store.apply(session, school_id, batch_id, store.Marks.from_rows(rows))
    _record(session, diff, school_id, batch_id, report)


def _record(session: Session, diff: store.Diff, school_id: int, batch_id: int, report: ImportReport) -> None:
    """The report's counts, a sample of the corrections, and every correction in
    ``mark_changes`` (the pupil timelines read them)."""
    report.added, report.changed, report.unchanged = diff.added, diff.changed, diff.unchanged
    report.pupils_in_file, report.pupils_touched = diff.pupils_in_file, diff.pupils_touched
    report.date_from, report.date_to = diff.first, diff.last
    if not diff.changes:
        return
    upns = dict(session.execute(select(Pupil.id, Pupil.upn).where(
        Pupil.school_id == school_id, Pupil.id.in_(sorted({c[0] for c in diff.changes})))).all())
    sample = sorted(diff.changes, key=lambda c: (c[1], c[2], upns.get(c[0], "")))[:MAX_SAMPLE]
    report.changes = [{"upn": upns.get(p, ""), "date": d.isoformat(), "session": sess, "old": old, "new": new}
                      for p, d, sess, old, new in sample]
    session.execute(insert(MarkChange), [
        {"batch_id": batch_id, "school_id": school_id, "pupil_id": p, "date": d, "session": sess,
         "old_code": old, "new_code": new} for p, d, sess, old, new in diff.changes])
