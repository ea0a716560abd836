"""The set-based path for long CSV files (registers/bulk.py) must import exactly what the streaming
path imports, and hand every file it cannot vouch for to the streaming path.

The two paths are compared on real files: a file and the same file with a blank line at the end
(the set-based path declines blank lines; the streaming path skips them) must give the same
report, marks, corrections and rollups. Which path took a file is read from the importer's debug
log ("column-wise path not used: ...")."""
from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from outreach.attendance import rollups
from outreach.attendance.models import PupilWeek
from outreach.extensions import db
from outreach.registers.models import Mark, MarkChange
from outreach.registers.services import import_registers
from outreach.schools.models import Pupil, School
from tests.factories import make_pupil, make_school
from tests.registers.conftest import UPNS, long_csv, table_counts, write

A, B, C = UPNS
FALLBACK = "column-wise path not used"

# Two weeks across the 2024 code switch's first autumn, as exports vary them: UK and ISO dates,
# lower-case sessions and codes, padding, not-taken marks (- and blank), a not-counted X.
FIRST = [(A, "02/09/2024", "AM", "/"), (A, "02/09/2024", "PM", "\\"), (A, "03/09/2024", "am", "n"),
         (A, "2024-09-03", "PM", " I "), (B, "02/09/2024", "AM", "L"), (B, "02/09/2024", "PM", "-"),
         (B, "03/09/2024", "AM", ""), (B, "03/09/2024", "PM", "X"), (C, "09/09/2024", "AM", "/"),
         (C, "09/09/2024", "PM", "U")]
CORRECTED = [(u, d, s, {"n": "I", "U": "L"}.get(c, c)) for u, d, s, c in FIRST] + [
    (B, "03/09/2024", "PM", "X"), (A, "04/09/2024", "AM", "/")]


@pytest.fixture()
def paths(caplog):
    """Which path each import took: one entry per import_registers call inside ``record``."""
    caplog.set_level(logging.DEBUG, logger="outreach.registers.bulk")

    def declined() -> bool:
        found = any(FALLBACK in r.getMessage() for r in caplog.records)
        caplog.clear()
        return found

    return declined


def _twin_school() -> School:
    """A second school with the same UPNs (UPNs are unique per school)."""
    twin = make_school(urn="100002", name="Twin Primary")
    for i, upn in enumerate(UPNS):
        make_pupil(twin, upn=upn, forename=f"Child{i}", surname="Test")
    db.session.commit()
    return twin


def _stored(school: School) -> tuple:
    upn = dict(db.session.execute(select(Pupil.id, Pupil.upn).where(Pupil.school_id == school.id)).all())
    marks = sorted((upn[m.pupil_id], m.date, m.session, m.code) for m in db.session.scalars(
        select(Mark).where(Mark.school_id == school.id)))
    changes = sorted((upn[c.pupil_id], c.date, c.session, c.old_code, c.new_code) for c in db.session.scalars(
        select(MarkChange).where(MarkChange.school_id == school.id)))
    weeks = sorted((upn[w.pupil_id], w.week_start, w.present, w.aea, w.authorised, w.unauthorised, w.late,
                    w.not_counted, w.admin, w.possible)
                   for w in db.session.scalars(select(PupilWeek).where(PupilWeek.school_id == school.id)))
    return marks, changes, weeks


def _report(report) -> dict:
    out = report.to_dict()
    for key in ("batch_id", "file_name", "same_file_as"):
        out.pop(key)
    for item in out["warnings"] + out["errors"]:
        item.pop("file")
    return out


def test_set_based_and_streaming_paths_import_the_same(tmp_path, school, paths):
    twin = _twin_school()
    for n, rows in enumerate([FIRST, CORRECTED]):
        text = long_csv(rows)
        fast = import_registers(school, write(tmp_path, f"f{n}.csv", text, bom=True, crlf=True))
        assert not paths(), "a clean file goes set-based"
        slow = import_registers(twin, write(tmp_path, f"s{n}.csv", text + "\n", bom=True, crlf=True))
        assert paths(), "a blank line sends the file to the streaming path"
        assert fast.ok and _report(fast) == _report(slow)
        assert _stored(school) == _stored(twin)
    assert (fast.added, fast.changed, fast.unchanged, fast.not_taken) == (1, 2, 6, 2)
    assert [(w["line"], w["value"]) for w in fast.warnings] == [(7, "-"), (8, "(blank)")]
    stored = _stored(school)
    rollups.rebuild(db.session, school.id)
    assert _stored(school) == stored


def test_a_first_import_into_a_week_that_already_has_marks_counts_the_whole_week(tmp_path, school, paths):
    """Wednesday to Friday after an import of Monday and Tuesday: no marks in the file's dates, so
    the marks go straight in, and the week's rollup must still count Monday and Tuesday."""
    monday = [(A, "2024-09-02", "AM", "/"), (A, "2024-09-03", "AM", "N")]
    rest = [(A, "2024-09-04", "AM", "/"), (A, "2024-09-05", "AM", "I"), (A, "2024-09-06", "AM", "/")]
    assert import_registers(school, write(tmp_path, "mon.csv", long_csv(monday))).ok
    report = import_registers(school, write(tmp_path, "rest.csv", long_csv(rest)))
    assert not paths() and (report.added, report.unchanged) == (3, 0)
    pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.school_id == school.id, Pupil.upn == A))
    week = db.session.get(PupilWeek, (pupil_id, date(2024, 9, 2)))
    assert (week.present, week.authorised, week.unauthorised, week.possible) == (3, 1, 1, 5)


def test_a_dry_run_of_a_first_import_writes_nothing(tmp_path, school, paths):
    before = table_counts()
    report = import_registers(school, write(tmp_path, "r.csv", long_csv(FIRST)), dry_run=True)
    assert not paths() and report.status == "dry_run" and report.added == 8
    assert table_counts() == before


def test_a_row_wider_than_the_header_is_imported(tmp_path, school, paths):
    """The streaming path reads only the columns it needs; PostgreSQL's COPY refuses extra cells,
    so such a file must come back to the streaming path rather than fail."""
    text = long_csv(FIRST[:2]).replace("\\\n", "\\,extra\n")
    report = import_registers(school, write(tmp_path, "wide-row.csv", text))
    assert report.ok and report.added == 2
    paths()


def test_line_numbers_count_physical_lines_when_a_quoted_cell_spans_lines(tmp_path, school, paths):
    text = ("UPN,Date,Session,Mark,Note\n"
            f'{A},2024-09-02,AM,/,"first line\nsecond line"\n'
            f"{A},2024-09-02,PM,-,\n"
            f"{A},2024-09-03,AM,QQ,\n")
    report = import_registers(school, write(tmp_path, "quoted.csv", text))
    assert paths(), "rows across lines go to the streaming path"
    assert report.status == "failed"
    assert [(e["line"], e["value"]) for e in report.errors] == [(5, "QQ")]


def test_an_unknown_upn_or_a_bad_code_is_named_by_line(tmp_path, school, paths):
    rows = FIRST + [("X999", "02/09/2024", "AM", "/"), (A, "05/09/2024", "AM", "J")]
    report = import_registers(school, write(tmp_path, "bad.csv", long_csv(rows), bom=True, crlf=True))
    assert paths() and report.status == "failed"
    assert [(e["line"], e["field"], e["value"]) for e in report.errors] == [(13, "Mark", "J"), (12, "UPN", "X999")]
    assert table_counts()["marks"] == 0


def test_a_leaver_s_counted_mark_after_leaving_is_refused_by_line(tmp_path, school, paths):
    pupil = db.session.scalar(select(Pupil).where(Pupil.school_id == school.id, Pupil.upn == C))
    pupil.leaving_date = date(2024, 9, 30)
    db.session.commit()
    late = [(C, "01/10/2024", "AM", "Z"), (C, "01/10/2024", "PM", "Z"), (C, "02/10/2024", "AM", "/")]
    report = import_registers(school, write(tmp_path, "late.csv", long_csv(late)))
    assert paths() and report.status == "failed"
    assert [(e["line"], e["field"], e["value"]) for e in report.errors] == [(4, "date", "2024-10-02")]
    assert table_counts()["marks"] == 0
    report = import_registers(school, write(tmp_path, "late-ok.csv", long_csv(late[:2])))
    assert not paths() and report.ok and report.added == 2
