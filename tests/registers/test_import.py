"""import_registers on a real database: all or nothing, corrections, dry runs, hooks."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from outreach.attendance import rollups
from outreach.attendance.models import PupilWeek
from outreach.core.errors import UserError
from outreach.extensions import db
from outreach.registers import hooks
from outreach.registers.models import ImportBatch, Mark, MarkChange
from outreach.registers.services import import_registers
from outreach.schools.models import Pupil
from tests.registers.conftest import UPNS, long_csv, table_counts, write

A, B, C = UPNS
WEEK = [("2024-09-02", "AM", "/"), ("2024-09-02", "PM", "\\"), ("2024-09-03", "AM", "N"), ("2024-09-03", "PM", "I"),
        ("2024-09-04", "AM", "L"), ("2024-09-04", "PM", "U")]


def _file(tmp_path, rows, name="week.csv", **kw):
    return write(tmp_path, name, long_csv(rows), **kw)


def _week_rows(upn=A, codes=None):
    return [(upn, d, s, c) for (d, s, c) in WEEK] if codes is None else [
        (upn, d, s, code) for (d, s, _), code in zip(WEEK, codes)]


def _marks():
    return {(m.pupil_id, m.date, m.session): m.code for m in db.session.scalars(select(Mark))}


def _weeks():
    return sorted((w.pupil_id, w.week_start, w.present, w.aea, w.authorised, w.unauthorised, w.late, w.not_counted,
                   w.admin, w.possible) for w in db.session.scalars(select(PupilWeek)))


def test_import_long_csv_adds_marks_batch_and_rollups(tmp_path, school):
    report = import_registers(school, _file(tmp_path, _week_rows(A) + _week_rows(B)))
    assert report.status == "completed" and report.ok
    assert (report.added, report.changed, report.unchanged, report.not_taken) == (12, 0, 0, 0)
    assert (report.date_from, report.date_to, report.pupils_in_file, report.pupils_touched) == (
        date(2024, 9, 2), date(2024, 9, 4), 2, 2)
    assert report.summary() == "added 12, changed 0, unchanged 0, not taken 0"
    batch = db.session.get(ImportBatch, report.batch_id)
    assert (batch.status, batch.kind, batch.format, batch.added, batch.file_name) == ("completed", "registers", "long", 12, "week.csv")
    assert batch.file_sha256 and batch.date_from == date(2024, 9, 2)
    assert len(_marks()) == 12
    assert all(m.batch_id == batch.id for m in db.session.scalars(select(Mark)))
    pupil = db.session.scalar(select(Pupil).where(Pupil.upn == A))
    week = db.session.get(PupilWeek, (pupil.id, date(2024, 9, 2)))
    assert (week.present, week.authorised, week.unauthorised, week.late, week.possible) == (3, 1, 2, 2, 6)


def test_reimport_of_the_same_file_changes_nothing(tmp_path, school):
    path = _file(tmp_path, _week_rows(A))
    first = import_registers(school, path)
    before = (_marks(), _weeks(), table_counts()["mark_changes"])
    again = import_registers(school, path)
    assert again.ok and again.no_changes
    assert (again.added, again.changed, again.unchanged) == (0, 0, 6)
    assert again.same_file_as == first.batch_id
    assert "no changes" in again.summary() and f"same file as import {first.batch_id}" in again.summary()
    assert (_marks(), _weeks(), table_counts()["mark_changes"]) == before


def test_corrections_replace_marks_record_changes_and_refresh_rollups(tmp_path, school):
    import_registers(school, _file(tmp_path, _week_rows(A)))
    corrected = _file(tmp_path, _week_rows(A, ["/", "\\", "I", "I", "L", "U"]) + [(A, "2024-09-05", "AM", "/")],
                      name="corrected.csv")
    report = import_registers(school, corrected)
    assert (report.added, report.changed, report.unchanged) == (1, 1, 5)
    assert report.changes == [{"upn": A, "date": "2024-09-03", "session": "AM", "old": "N", "new": "I"}]
    (change,) = db.session.scalars(select(MarkChange)).all()
    assert (change.batch_id, change.date, change.session, change.old_code, change.new_code) == (
        report.batch_id, date(2024, 9, 3), "AM", "N", "I")
    batch = db.session.get(ImportBatch, report.batch_id)
    assert (batch.added, batch.changed, batch.unchanged) == (1, 1, 5)
    pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.upn == A))
    assert db.session.get(Mark, (pupil_id, date(2024, 9, 3), "AM")).batch_id == report.batch_id
    week = db.session.get(PupilWeek, (pupil_id, date(2024, 9, 2)))
    assert (week.present, week.authorised, week.unauthorised, week.possible) == (4, 2, 1, 7)
    stored = _weeks()
    rollups.rebuild(db.session, school.id)
    assert _weeks() == stored


def test_dry_run_reports_and_writes_nothing(tmp_path, school):
    import_registers(school, _file(tmp_path, _week_rows(A)))
    before = table_counts(), _marks()
    report = import_registers(school, _file(tmp_path, _week_rows(A, ["/", "\\", "M", "I", "L", "U"]), name="d.csv"),
                              dry_run=True)
    assert report.status == "dry_run" and report.dry_run and report.batch_id is None
    assert (report.added, report.changed, report.unchanged) == (0, 1, 5)
    assert report.changes == [{"upn": A, "date": "2024-09-03", "session": "AM", "old": "N", "new": "M"}]
    assert report.summary().startswith("dry run (nothing written): added 0, changed 1")
    assert (table_counts(), _marks()) == before


def test_dry_run_of_a_bad_file_writes_no_failed_batch(tmp_path, school):
    before = table_counts()
    report = import_registers(school, _file(tmp_path, [(A, "2024-09-02", "AM", "QQ")]), dry_run=True)
    assert report.status == "failed" and report.batch_id is None
    assert table_counts() == before


def test_not_taken_marks_are_skipped_counted_and_flagged(tmp_path, school):
    rows = [(A, "2024-09-02", "AM", "/"), (A, "2024-09-02", "PM", "-"), (A, "2024-09-03", "AM", "")]
    report = import_registers(school, _file(tmp_path, rows))
    assert (report.added, report.not_taken, report.warning_count) == (1, 2, 2)
    assert [(w["line"], w["value"]) for w in report.warnings] == [(3, "-"), (4, "(blank)")]
    assert report.summary().endswith("not taken 2")
    assert len(_marks()) == 1
    assert db.session.get(ImportBatch, report.batch_id).not_taken == 2


def test_code_table_switch_on_19_august_2024(tmp_path, school):
    ok = [(A, "16/08/2024", "AM", "J"), (A, "16/08/2024", "PM", "H"), (A, "19/08/2024", "AM", "J1"),
          (A, "19/08/2024", "PM", "Y3")]
    assert import_registers(school, _file(tmp_path, ok)).ok
    pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.upn == A))
    week_before = db.session.get(PupilWeek, (pupil_id, date(2024, 8, 12)))
    assert (week_before.aea, week_before.authorised) == (1, 1)  # J attended, H authorised
    bad = [(B, "16/08/2024", "AM", "J1"), (B, "16/08/2024", "PM", "Y1"), (B, "19/08/2024", "AM", "H"),
           (B, "19/08/2024", "PM", "J")]
    before = table_counts()
    report = import_registers(school, _file(tmp_path, bad, name="bad.csv"))
    assert report.status == "failed"
    assert [(e["line"], e["field"], e["value"]) for e in report.errors] == [
        (2, "Mark", "J1"), (3, "Mark", "Y1"), (4, "Mark", "H"), (5, "Mark", "J")]
    assert "2006 regulations" in report.errors[0]["message"] and "2024 regulations" in report.errors[2]["message"]
    after = table_counts()
    assert after.pop("import_batches") == before.pop("import_batches") + 1
    assert after == before


@pytest.mark.parametrize("text, line, field, value, message", [
    ("UPN,Date,Session,Mark\n{A},2024-09-02,AM,Q9\n", 2, "Mark", "Q9", "is not a code"),
    ("UPN,Date,Session,Mark\n{A},31/09/2024,AM,/\n", 2, "Date", "31/09/2024", "no such date"),
    ("UPN,Date,Session,Mark\n{A},2024-09-02,EV,/\n", 2, "Session", "EV", "not AM or PM"),
    ("UPN,Date,Mark\n{A},2024-09-02,/\n", 1, "session", "UPN, Date, Mark", "missing column session"),
    ("", 1, None, None, "the file is empty"),
    ("UPN,Date,Session,Mark\n", 1, None, None, "no marks"),
    ("UPN,Date,Session,Mark\n{A},2024-09-02,AM,/\n{A},02/09/2024,AM,N\n", 3, "code", "N", "twice with different codes"),
])
def test_malformed_files_are_refused_with_location_and_nothing_changes(tmp_path, school, text, line, field, value, message):
    import_registers(school, _file(tmp_path, _week_rows(C), name="existing.csv"))
    before = table_counts(), _marks(), _weeks()
    path = write(tmp_path, "bad.csv", text.replace("{A}", A), bom=True, crlf=True)
    report = import_registers(school, path)
    assert report.status == "failed" and not report.ok
    error = report.errors[0]
    assert error["file"] == "bad.csv" and message in error["message"]
    assert error.get("line") == line and error.get("field") == field and error.get("value") == value
    counts, marks, weeks = table_counts(), _marks(), _weeks()
    assert counts.pop("import_batches") == before[0]["import_batches"] + 1
    before[0].pop("import_batches")
    assert (counts, marks, weeks) == before
    batch = db.session.get(ImportBatch, report.batch_id)
    assert batch.status == "failed" and batch.error_count == report.error_count and batch.errors[0] == error


def test_wrong_encoding_is_refused(tmp_path, school):
    path = write(tmp_path, "latin.csv", f"UPN,Date,Session,Mark,Note\n{A},2024-09-02,AM,/,café\n", encoding="cp1252")
    report = import_registers(school, path)
    assert report.status == "failed"
    assert report.errors[0]["field"] == "encoding" and "UTF-8" in report.errors[0]["message"]
    assert _marks() == {}


def test_unknown_upns_are_all_listed_once_each(tmp_path, school):
    rows = _week_rows(A) + _week_rows("X999") + _week_rows("Y111")[:2]
    report = import_registers(school, _file(tmp_path, rows))
    assert report.status == "failed"
    assert report.unknown_upns == ["X999", "Y111"]
    assert [(e["value"], e["line"]) for e in report.errors] == [("X999", 8), ("Y111", 14)]
    assert "6 marks" in report.errors[0]["message"]
    assert _marks() == {}


def test_first_fifty_errors_and_a_count_of_the_rest(tmp_path, school):
    rows = [(A, f"2024-09-{d:02d}", s, "QQ") for d in range(2, 30) for s in ("AM", "PM")]  # QQ: no such code
    report = import_registers(school, _file(tmp_path, rows))
    assert report.error_count == 56 and len(report.errors) == 50
    assert "showing the first 50" in report.summary()


def test_marks_outside_the_enrolment_are_refused_unless_not_counted(tmp_path, school):
    pupil = db.session.scalar(select(Pupil).where(Pupil.upn == A))
    pupil.admission_date, pupil.leaving_date = date(2024, 9, 3), date(2024, 9, 3)
    db.session.commit()
    ok = [(A, "2024-09-02", "AM", "Z"), (A, "2024-09-03", "AM", "/"), (A, "2024-09-04", "PM", "Z")]
    assert import_registers(school, _file(tmp_path, ok)).ok
    bad = [(A, "2024-09-02", "PM", "N"), (A, "2024-09-04", "AM", "/")]
    report = import_registers(school, _file(tmp_path, bad, name="bad.csv"))
    assert report.status == "failed"
    assert [(e["line"], e["field"], e["value"]) for e in report.errors] == [(2, "date", "2024-09-02"), (3, "date", "2024-09-04")]
    assert "outside this pupil's enrolment (admitted 2024-09-03, left 2024-09-03)" in report.errors[0]["message"]


def test_same_session_twice_with_the_same_code_is_one_mark(tmp_path, school):
    rows = [(A, "2024-09-02", "AM", "/"), (A, "02/09/2024", "am", "/")]
    report = import_registers(school, _file(tmp_path, rows))
    assert report.ok and (report.rows, report.added, report.unchanged) == (2, 1, 0)


def test_wide_csv_import(tmp_path, school):
    text = (f"UPN,Name,Mon 02/09/2024 AM,Mon 02/09/2024 PM,Tue 03/09/2024 AM\n{A},Ann,/,\\,N\n{B},Bob,L,-,I\n")
    report = import_registers(school, write(tmp_path, "wide.csv", text, bom=True, crlf=True))
    assert report.format == "wide" and (report.added, report.not_taken) == (5, 1)
    bad = write(tmp_path, "wide-bad.csv", f"UPN,Mon 02/09/2024 AM\n{A},QQ\n")
    failed = import_registers(school, bad)
    assert failed.errors[0]["line"] == 2 and failed.errors[0]["field"] == "Mon 02/09/2024 AM"


CTF = """<?xml version="1.0" encoding="UTF-8"?>
<CTfile><Header><SourceSchool><LEA>823</LEA><Estab>2001</Estab><URN>{urn}</URN></SourceSchool></Header>
<CTFpupilData>
<Pupil><UPN>{a}</UPN><Surname>Renamed</Surname><Forename>Child0</Forename><Gender>F</Gender>
<Attendance><YearData><AttendSessions><AttendanceStartDate>2024-09-06</AttendanceStartDate>
<AttendanceMarks>/\\####NI</AttendanceMarks></AttendSessions></YearData></Attendance></Pupil>
<Pupil><UPN>{new}</UPN><Surname>Nowak</Surname><Forename>Jan</Forename><DOB>2015-03-04</DOB><Gender>M</Gender>
<Attendance><YearData><AttendSessions><AttendanceStartDate>2024-09-06</AttendanceStartDate>
<AttendanceMarks>{marks}</AttendanceMarks></AttendSessions></YearData></Attendance></Pupil>
</CTFpupilData></CTfile>"""


def test_ctf_import_creates_and_updates_pupils(tmp_path, school):
    from outreach.schools.upn import make_upn

    new = make_upn(823, 2001, 24, 77)
    path = write(tmp_path, "ctf.xml", CTF.format(urn=school.urn, a=A, new=new, marks="L-####//"))
    report = import_registers(school, path)
    assert report.ok and report.format == "ctf"
    assert (report.added, report.not_taken, report.pupils_created) == (7, 1, 1)
    created = db.session.scalar(select(Pupil).where(Pupil.upn == new))
    assert (created.forename, created.surname, created.date_of_birth, created.sex) == ("Jan", "Nowak", date(2015, 3, 4), "M")
    assert db.session.scalar(select(Pupil.surname).where(Pupil.upn == A)) == "Renamed"
    days = sorted({d for (_, d, _) in _marks()})
    assert days == [date(2024, 9, 6), date(2024, 9, 9)]  # Saturday and Sunday were '#'


def test_ctf_failures_write_nothing_not_even_pupils(tmp_path, school):
    from outreach.schools.upn import make_upn

    new = make_upn(823, 2001, 24, 78)
    before = table_counts()
    wrong = import_registers(school, write(tmp_path, "other.xml", CTF.format(urn="999999", a=A, new=new, marks="//")))
    assert wrong.errors[0]["element"] == "Header/SourceSchool/URN" and wrong.errors[0]["value"] == "999999"
    text = CTF.format(urn=school.urn, a=A, new=new, marks="//")
    truncated = import_registers(school, write(tmp_path, "cut.xml", text[:-40]))
    assert "truncated" in truncated.errors[0]["message"]
    bad_code = import_registers(school, write(tmp_path, "code.xml", CTF.format(urn=school.urn, a=A, new=new, marks="/A")))
    assert (bad_code.errors[0]["pupil"], bad_code.errors[0]["element"], bad_code.errors[0]["value"]) == (
        new, "AttendanceMarks[2]", "A")
    after = table_counts()
    assert after.pop("import_batches") == before.pop("import_batches") + 3
    assert after == before


def test_bad_calls_raise_user_errors(tmp_path, school):
    with pytest.raises(UserError):
        import_registers(school, tmp_path / "missing.csv")
    with pytest.raises(UserError):
        import_registers(school, _file(tmp_path, _week_rows(A)), format="xlsx")
    with pytest.raises(UserError):
        import_registers(school, _file(tmp_path, _week_rows(A)), mapping="nonesuch")


def test_school_by_urn_and_progress_callback(tmp_path, school):
    calls = []
    rows = [(A, f"2024-09-{d:02d}", s, "/" if s == "AM" else "\\") for d in range(2, 28) for s in ("AM", "PM")]
    report = import_registers(school.urn, _file(tmp_path, rows), progress=lambda done, total: calls.append((done, total)))
    assert report.ok
    assert calls[-1] == (52, 52) and len(calls) > 2
    assert all(total == 52 for _, total in calls) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_after_import_hooks_run_after_commit_and_failures_do_not_undo(tmp_path, school):
    seen = []

    def record(school_id, batch_id):
        seen.append((school_id, batch_id, db.session.get(ImportBatch, batch_id).status))

    def broken(school_id, batch_id):
        raise RuntimeError("hook bug")

    hooks.register_after_import(broken)
    hooks.register_after_import(record)
    hooks.register_after_import(record)  # once only
    try:
        report = import_registers(school, _file(tmp_path, _week_rows(A)))
        import_registers(school, _file(tmp_path, _week_rows(A)), dry_run=True)
        import_registers(school, _file(tmp_path, [(A, "2024-09-02", "AM", "??")], name="bad.csv"))
    finally:
        hooks.unregister_after_import(broken)
        hooks.unregister_after_import(record)
    assert seen == [(school.id, report.batch_id, "completed")]
    assert report.ok and len(_marks()) == 6


def test_interventions_rules_are_registered_from_app_start_up(app):
    from outreach.interventions.jobs import evaluate_after_import

    assert evaluate_after_import in hooks.registered()
