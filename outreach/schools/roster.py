"""Roster import: pupils (enrolments) and their contacts from MIS CSV exports.

Same contract as the register import (``outreach.registers.services``): streamed, every row
checked and every problem reported (file, line, field, value), one transaction, a ``failed``
batch and nothing else written on any error, a dry run that writes nothing. Rosters are a few
thousand rows, so the ORM is fine here; registers are where the volume is.

Columns are found by name (``outreach.registers.mappings.ALIASES``). A column that is absent
leaves that field alone on existing pupils; a column that is present but blank clears it (or
sets the default: not FSM, SEN ``N``, not EAL).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import select

from outreach.core.errors import UserError
from outreach.extensions import db
from outreach.messaging.templates import _LANGUAGE_RE, normalise_language
from outreach.registers import batches
from outreach.registers.formats.base import DateParser, FormatError, Problem, csv_rows
from outreach.registers.mappings import ColumnMapping, as_mapping, describe_missing, find_columns
from outreach.registers.models import ImportBatch
from outreach.registers.report import MAX_SAMPLE, ImportReport, ProblemLog
from outreach.schools.models import Contact, Pupil, PupilContact, School
from outreach.schools.phones import to_e164
from outreach.schools.upn import normalise_upn, upn_problem

Progress = Callable[[int, "int | None"], None]

PUPIL_REQUIRED = ("upn", "forename", "surname")
PUPIL_OPTIONAL = ("preferred_forename", "date_of_birth", "year_group", "reg_group", "fsm", "sen_status", "eal",
                  "sex", "admission_date", "leaving_date")
CONTACT_REQUIRED = ("upn", "name")
CONTACT_OPTIONAL = ("relationship", "phone", "email", "language", "sms_consent", "priority")

_TRUE = {"y", "yes", "true", "t", "1"}
_FALSE = {"n", "no", "false", "f", "0", ""}
_SEN = {"n": "N", "none": "N", "no": "N", "": "N", "k": "K", "sen support": "K", "support": "K",
        "e": "E", "ehcp": "E", "ehc plan": "E", "ehc": "E", "s": "E", "statement": "E"}
_SEX = {"m": "M", "male": "M", "boy": "M", "f": "F", "female": "F", "girl": "F", "": None}
_YEAR = re.compile(r"^(?:y|yr|year|nc year)?\s*(\d{1,2})$", re.IGNORECASE)
_YEAR_WORDS = {"r": "R", "rec": "R", "reception": "R", "n1": "N1", "n2": "N2", "nursery": "N2", "x": "X"}


class _RowError(Exception):
    def __init__(self, field: str, value: str, message: str):
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


def parse_bool(raw: str, field: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _RowError(field, raw, "expected Y or N (yes/no, true/false, 1/0)")


def parse_year_group(raw: str, field: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    word = _YEAR_WORDS.get(value.lower())
    if word:
        return word
    match = _YEAR.match(value)
    if match and 1 <= int(match.group(1)) <= 14:
        return str(int(match.group(1)))
    raise _RowError(field, raw, "a year group is R, N1, N2, X or 1 to 14")


@dataclass
class _Columns:
    found: dict[str, int]
    names: dict[str, str]

    def has(self, logical: str) -> bool:
        return logical in self.found

    def get(self, cells: list[str], logical: str) -> str:
        i = self.found[logical]
        return cells[i] if i < len(cells) else ""


def _open(path: Path, mapping: ColumnMapping, required: tuple[str, ...], optional: tuple[str, ...]):
    rows = csv_rows(path)
    header_line, header = next(rows)
    found, missing = find_columns(header, mapping, required, optional)
    if missing:
        raise FormatError(Problem(describe_missing(missing, mapping), line=header_line, field=missing[0],
                                  value=", ".join(h.strip() for h in header)[:200]))
    return rows, _Columns(found, {k: header[i].strip() for k, i in found.items()})


@dataclass
class _Run:
    """The shared frame of a roster import: report, problem log, batch and finish."""

    kind: str
    school: School
    path: Path
    dry_run: bool
    created_by: str
    file_name: str
    mapping: ColumnMapping
    progress: Progress | None
    report: ImportReport = field(init=False)
    log: ProblemLog = field(init=False)
    sha: str = ""
    total: int = 0

    def __post_init__(self) -> None:
        self.report = ImportReport(kind=self.kind, file_name=self.file_name, format="csv", dry_run=self.dry_run)
        self.log = ProblemLog(self.file_name)
        self.sha, lines = batches.digest(self.path)
        self.total = max(lines - 1, 0)

    def problem(self, line: int, err: _RowError, cols: _Columns) -> None:
        self.log.add(Problem(err.message, line=line, field=cols.names.get(err.field, err.field), value=err.value.strip()))

    def parsed(self, rows: Iterator[tuple[int, list[str]]], cols: _Columns,
               parse: Callable[[int, list[str]], Any]) -> Iterator[tuple[int, Any]]:
        """(line, parse(line, cells)) for each row that parses; the rest become problems."""
        for line, cells in rows:
            if self.progress and line % 500 == 0:
                self.progress(line - 1, self.total)
            self.report.rows += 1
            try:
                yield line, parse(line, cells)
            except _RowError as err:
                self.problem(line, err, cols)

    def execute(self, body: Callable[["_Run"], None]) -> ImportReport:
        """Run ``body`` (which checks rows and applies them), then commit or fail the import."""
        try:
            body(self)
        except FormatError as exc:
            self.log.add(exc.problem)
        return self.finish()

    def finish(self) -> ImportReport:
        report = self.report
        if not self.log and report.rows == 0:
            self.log.add(Problem("the file has no rows after the header", line=2))
        if self.log:
            return batches.fail(report, self.log, school_id=self.school.id, created_by=self.created_by, sha=self.sha)
        report.same_file_as = batches.same_file_batch(self.school.id, self.kind, self.sha)
        if self.dry_run:
            db.session.rollback()
            report.status = "dry_run"
            return report
        from outreach.core.timeutil import utcnow

        batch = ImportBatch(school_id=self.school.id, kind=self.kind, created_by=self.created_by,
                            file_name=self.file_name, file_sha256=self.sha, format="csv", status="completed",
                            rows_total=report.rows, rows_processed=report.rows, added=report.added,
                            changed=report.changed, unchanged=report.unchanged, finished_at=utcnow())
        db.session.add(batch)
        db.session.commit()
        report.status = "completed"
        report.batch_id = batch.id
        if self.progress:
            self.progress(self.total, self.total)
        return report

    def note_change(self, upn: str, what: str, old: Any, new: Any) -> None:
        if len(self.report.changes) < MAX_SAMPLE:
            self.report.changes.append({"upn": upn, "field": what, "old": _show(old), "new": _show(new)})


def _show(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _start(kind: str, school: School | str, path: str | Path, mapping: Any, dry_run: bool, created_by: str,
           progress: Progress | None, file_name: str | None) -> _Run:
    if not isinstance(school, School):
        from outreach.schools.services import get_school

        school = get_school(school)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    return _Run(kind, school, path, dry_run, created_by, (file_name or path.name)[:300], as_mapping(mapping), progress)


# --- pupils ------------------------------------------------------------------------------------


def import_pupils(school: School | str, path: str | Path, *, mapping: Any = None, dry_run: bool = False,
                  created_by: str = "cli", progress: Progress | None = None,
                  file_name: str | None = None) -> ImportReport:
    """Create or update the school's pupils from a CSV (UPN, names, DOB, year and reg group, FSM,
    SEN N/K/E, EAL, sex, admission and leaving dates). Matching is by UPN within the school."""
    return _start("pupils", school, path, mapping, dry_run, created_by, progress, file_name).execute(_pupils)


def _pupil_values(cells: list[str], cols: _Columns, dates: DateParser) -> dict[str, Any]:
    values: dict[str, Any] = {}
    upn = normalise_upn(cols.get(cells, "upn"))
    problem = upn_problem(upn)
    if problem:
        raise _RowError("upn", upn, f"invalid UPN: {problem}")
    values["upn"] = upn
    for name in ("forename", "surname"):
        value = cols.get(cells, name).strip()
        if not value:
            raise _RowError(name, "", f"the {name} is blank")
        values[name] = value[:100]
    if cols.has("preferred_forename"):
        values["preferred_forename"] = cols.get(cells, "preferred_forename").strip()[:100] or None
    for name in ("date_of_birth", "admission_date", "leaving_date"):
        if cols.has(name):
            raw = cols.get(cells, name)
            if not raw.strip():
                values[name] = None
                continue
            parsed = dates.parse(raw)
            if isinstance(parsed, str):
                raise _RowError(name, raw, parsed)
            values[name] = parsed
    if cols.has("year_group"):
        values["year_group"] = parse_year_group(cols.get(cells, "year_group"), "year_group")
    if cols.has("reg_group"):
        values["reg_group"] = cols.get(cells, "reg_group").strip()[:20] or None
    for name in ("fsm", "eal"):
        if cols.has(name):
            values[name] = parse_bool(cols.get(cells, name), name)
    if cols.has("sen_status"):
        raw = cols.get(cells, "sen_status")
        sen = _SEN.get(raw.strip().lower())
        if sen is None:
            raise _RowError("sen_status", raw, "SEN status is N (none), K (SEN support) or E (EHC plan)")
        values["sen_status"] = sen
    if cols.has("sex"):
        raw = cols.get(cells, "sex")
        if raw.strip().lower() not in _SEX:
            raise _RowError("sex", raw, "sex is M or F (or blank)")
        values["sex"] = _SEX[raw.strip().lower()]
    adm, left = values.get("admission_date"), values.get("leaving_date")
    if adm and left and left < adm:
        raise _RowError("leaving_date", left.isoformat(), f"the leaving date is before the admission date {adm.isoformat()}")
    return values


def _pupils(run: _Run) -> None:
    rows, cols = _open(run.path, run.mapping, PUPIL_REQUIRED, PUPIL_OPTIONAL)
    dates = DateParser(run.mapping.date_format)
    existing = {p.upn: p for p in db.session.scalars(select(Pupil).where(Pupil.school_id == run.school.id))}
    seen: dict[str, int] = {}
    report = run.report
    for line, values in run.parsed(rows, cols, lambda _line, cells: _pupil_values(cells, cols, dates)):
        upn = values["upn"]
        if upn in seen:
            run.log.add(Problem(f"this UPN is already on line {seen[upn]}", line=line, field=cols.names["upn"], value=upn))
            continue
        seen[upn] = line
        if run.log:
            continue  # the import will fail: keep checking, stop writing
        pupil = existing.get(upn)
        if pupil is None:
            db.session.add(Pupil(school_id=run.school.id, **values))
            report.added += 1
            continue
        changed = False
        for attr, value in values.items():
            old = getattr(pupil, attr)
            if old != value:
                run.note_change(upn, attr, old, value)
                setattr(pupil, attr, value)
                changed = True
        if changed:
            report.changed += 1
        else:
            report.unchanged += 1
    db.session.flush()
    report.pupils_touched = report.added + report.changed


# --- contacts ----------------------------------------------------------------------------------


@dataclass
class _ContactRow:
    line: int
    upn: str
    name: str
    relationship: str
    phone: str | None
    email: str | None
    language: str | None
    sms_consent: bool | None
    priority: int | None


def import_contacts(school: School | str, path: str | Path, *, mapping: Any = None, dry_run: bool = False,
                    created_by: str = "cli", progress: Progress | None = None,
                    file_name: str | None = None) -> ImportReport:
    """Link parents and carers to pupils: a row per pupil-contact pair (UPN, name, relationship,
    phone, email, language, SMS consent, priority). Siblings share one contact: rows with the same
    name and phone are one person. Phones are stored in E.164. Links not in the file are kept
    (a contacts file adds and updates; it does not remove)."""
    return _start("contacts", school, path, mapping, dry_run, created_by, progress, file_name).execute(_contacts)


def _contact_row(line: int, cells: list[str], cols: _Columns) -> _ContactRow:
    upn = normalise_upn(cols.get(cells, "upn"))
    if not upn:
        raise _RowError("upn", "", "the UPN is blank")
    name = " ".join(cols.get(cells, "name").split())
    if not name:
        raise _RowError("name", "", "the contact's name is blank")
    phone = None
    if cols.has("phone") and cols.get(cells, "phone").strip():
        raw = cols.get(cells, "phone")
        try:
            phone = to_e164(raw)
        except ValueError as exc:
            raise _RowError("phone", raw, str(exc)) from None
    email = cols.get(cells, "email").strip() or None if cols.has("email") else None
    if email and "@" not in email:
        raise _RowError("email", email, "not an email address")
    language = None
    if cols.has("language") and cols.get(cells, "language").strip():
        raw = cols.get(cells, "language")
        language = normalise_language(raw)
        if not _LANGUAGE_RE.match(language):
            raise _RowError("language", raw, "a language code such as en, pl, ur, ro or pt-br")
    consent = None
    if cols.has("sms_consent") and cols.get(cells, "sms_consent").strip():
        consent = parse_bool(cols.get(cells, "sms_consent"), "sms_consent")
    priority = None
    if cols.has("priority") and cols.get(cells, "priority").strip():
        raw = cols.get(cells, "priority")
        if not raw.strip().isdigit() or not 1 <= int(raw) <= 99:
            raise _RowError("priority", raw, "priority is a whole number from 1 (called first)")
        priority = int(raw)
    relationship = (cols.get(cells, "relationship").strip().lower()[:50] if cols.has("relationship") else "") or "parent"
    return _ContactRow(line, upn, name[:200], relationship, phone, email, language, consent, priority)


def _contacts(run: _Run) -> None:
    rows, cols = _open(run.path, run.mapping, CONTACT_REQUIRED, CONTACT_OPTIONAL)
    school_id = run.school.id
    pupils = {upn: pid for upn, pid in db.session.execute(select(Pupil.upn, Pupil.id).where(Pupil.school_id == school_id))}
    unknown: dict[str, int] = {}
    people: dict[tuple[str, str | None], dict[str, Any]] = {}  # one person per (name, phone)
    pairs: dict[tuple[str, tuple[str, str | None]], int] = {}
    accepted: list[_ContactRow] = []
    report = run.report
    for line, row in run.parsed(rows, cols, lambda line, cells: _contact_row(line, cells, cols)):
        if row.upn not in pupils:
            unknown.setdefault(row.upn, line)
            continue
        key = (row.name, row.phone)
        person = people.setdefault(key, {"line": line, "upn": row.upn})
        for attr in ("email", "language", "sms_consent"):
            value = getattr(row, attr)
            if value is None:
                continue
            if attr in person and person[attr] != value:
                run.log.add(Problem(f"{row.name} is on line {person['line']} with a different {attr}: one person, "
                                    "one value", line=line, field=cols.names.get(attr, attr), value=str(value)))
            person.setdefault(attr, value)
        if (row.upn, key) in pairs:
            run.log.add(Problem(f"this pupil and contact are already on line {pairs[(row.upn, key)]}", line=line,
                                field=cols.names["name"], value=row.name))
            continue
        pairs[(row.upn, key)] = line
        accepted.append(row)
    for upn, line in sorted(unknown.items(), key=lambda item: item[1]):
        run.log.add(Problem("no pupil with this UPN at the school; import the pupils first", line=line,
                            field=cols.names["upn"], value=upn))
    report.unknown_upns = sorted(unknown)
    if run.log:
        return
    _apply_contacts(run, accepted, people, pupils)


def _apply_contacts(run: _Run, rows: list[_ContactRow], people: dict[tuple[str, str | None], dict[str, Any]],
                    pupils: dict[str, int]) -> None:
    school_id = run.school.id
    contacts = {(c.name, c.phone): c for c in db.session.scalars(select(Contact).where(Contact.school_id == school_id))}
    links = {(link.pupil_id, link.contact_id): link for link in db.session.scalars(
        select(PupilContact).join(Contact).where(Contact.school_id == school_id))}
    contact_changed: set[tuple[str, str | None]] = set()
    for key, person in people.items():
        contact = contacts.get(key)
        merged = {attr: person.get(attr) for attr in ("email", "language", "sms_consent")}
        if contact is None:
            contact = Contact(school_id=school_id, name=key[0], phone=key[1], email=merged["email"],
                              preferred_language=merged["language"] or "en",
                              sms_consent=True if merged["sms_consent"] is None else merged["sms_consent"])
            db.session.add(contact)
            contacts[key] = contact
            contact_changed.add(key)
            continue
        for attr, column in (("email", "email"), ("language", "preferred_language"), ("sms_consent", "sms_consent")):
            value = merged[attr]
            if value is not None and getattr(contact, column) != value:
                run.note_change(person["upn"], f"contact {column}", getattr(contact, column), value)
                setattr(contact, column, value)
                contact_changed.add(key)
    db.session.flush()
    order: dict[str, int] = {}
    report = run.report
    touched: set[int] = set()
    for row in rows:
        key = (row.name, row.phone)
        contact = contacts[key]
        pupil_id = pupils[row.upn]
        order[row.upn] = order.get(row.upn, 0) + 1
        priority = row.priority if row.priority is not None else order[row.upn]
        link = links.get((pupil_id, contact.id))
        if link is None:
            db.session.add(PupilContact(pupil_id=pupil_id, contact_id=contact.id, relationship_label=row.relationship,
                                        priority=priority))
            report.added += 1
            touched.add(pupil_id)
            continue
        changed = key in contact_changed
        for attr, value in (("relationship_label", row.relationship), ("priority", priority)):
            if getattr(link, attr) != value:
                run.note_change(row.upn, attr, getattr(link, attr), value)
                setattr(link, attr, value)
                changed = True
        if changed:
            report.changed += 1
            touched.add(pupil_id)
        else:
            report.unchanged += 1
    db.session.flush()
    report.pupils_touched = len(touched)
