"""The parsers on their own: bytes in, rows and problems out (no database)."""
from __future__ import annotations

from datetime import date

import pytest

from outreach.core.errors import UserError
from outreach.registers.formats import ctf, long_csv, wide_csv
from outreach.registers.formats.base import DateParser, FormatError, Problem, RawMark, detect_format, parse_session
from outreach.registers.mappings import BUILTIN, ColumnMapping, load_mapping, mapping_from_dict
from tests.registers.conftest import write

DEFAULT = ColumnMapping("default")
SCHOOL = ctf.SchoolIdentity("100001", "823", "2001")


def _marks(items):
    return [i for i in items if isinstance(i, RawMark)]


def _problems(items):
    return [i for i in items if isinstance(i, Problem)]


@pytest.mark.parametrize("header, row", [
    ("UPN,Date,Session,Mark", "a823200124001,02/09/2024,am, l "),
    ("Pupil UPN,Attendance Date,AM/PM,Attendance Code", "A823200124001,2024-09-02,AM,L"),
    ("upn,attendance_date,period,code", "A823200124001,2/9/2024,a,l"),
    ("Surname,PUPIL UPN,Session Date,Session,Mark,Notes", "Khan,A823200124001,02/09/2024,Morning,L,late bus"),
])
def test_long_csv_finds_columns_by_name_and_alias(tmp_path, header, row):
    path = write(tmp_path, "r.csv", header + "\n" + row + "\n")
    (mark,) = list(long_csv.parse(path, DEFAULT))
    assert mark[:4] == ("A823200124001", date(2024, 9, 2), "AM", "L")
    assert mark.line == 2


def test_long_csv_bom_crlf_and_uk_dates(tmp_path):
    text = "UPN,Date,Session,Mark\nA1,02/09/2024,AM,/\nA1,2024-09-02,PM,\\\n"
    path = write(tmp_path, "r.csv", text, bom=True, crlf=True)
    marks = list(long_csv.parse(path, DEFAULT))
    assert [(m.day, m.session, m.code, m.line) for m in marks] == [
        (date(2024, 9, 2), "AM", "/", 2), (date(2024, 9, 2), "PM", "\\", 3)]


def test_long_csv_quoted_multiline_cell_keeps_physical_line_numbers(tmp_path):
    text = 'UPN,Date,Session,Mark,Note\nA1,2024-09-02,AM,/,"two\nlines"\nA1,2024-09-03,AM,Q9,\n'
    path = write(tmp_path, "r.csv", text)
    items = list(long_csv.parse(path, DEFAULT))
    assert items[1].line == 4  # the row after the two-line cell starts on line 4


def test_long_csv_row_problems_name_line_field_and_value(tmp_path):
    text = ("UPN,Date,Session,Mark\n"
            "A1,31/02/2024,AM,/\n"
            "A1,2024-13-01,AM,/\n"
            "A1,02/09/2024,EVE,/\n"
            "A1,yesterday,AM,/\n"
            ",02/09/2024,AM,/\n"
            "A1,02/09/2024\n")
    problems = _problems(long_csv.parse(write(tmp_path, "r.csv", text), DEFAULT))
    got = [(p.line, p.field, p.value) for p in problems]
    assert got == [(2, "Date", "31/02/2024"), (3, "Date", "2024-13-01"), (4, "Session", "EVE"),
                   (5, "Date", "yesterday"), (6, "UPN", ""), (7, "Session", None)]
    assert problems[0].message == "no such date"


def test_long_csv_missing_column_is_a_format_error(tmp_path):
    path = write(tmp_path, "r.csv", "UPN,Date,Mark\nA1,2024-09-02,/\n")
    with pytest.raises(FormatError) as exc:
        list(long_csv.parse(path, DEFAULT))
    assert exc.value.problem.line == 1 and exc.value.problem.field == "session"
    assert "missing column session" in exc.value.problem.message


@pytest.mark.parametrize("data, field", [
    (b"", "the file is empty"),
    (b"\xef\xbb\xbf\r\n\r\n", "the file is empty"),
    (b"UPN,Date,Session,Mark\nA1,2024-09-02,AM,\xe9\n", "not UTF-8"),
])
def test_empty_and_wrongly_encoded_files(tmp_path, data, field):
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    with pytest.raises(FormatError) as exc:
        list(long_csv.parse(path, DEFAULT))
    assert field in exc.value.problem.message


def test_mapping_file_names_columns_and_date_format(tmp_path):
    mapping_path = write(tmp_path, "m.json", '{"columns": {"upn": "Ref", "date": "Day", "session": "Sess", '
                                             '"code": ["Symbol", "Mk"]}, "date_format": "%d-%b-%Y"}')
    mapping = load_mapping(str(mapping_path))
    path = write(tmp_path, "r.csv", "Ref,Day,Sess,Mk\nA1,02-Sep-2024,PM,N\n")
    (mark,) = list(long_csv.parse(path, mapping))
    assert mark[:4] == ("A1", date(2024, 9, 2), "PM", "N")


@pytest.mark.parametrize("data, message", [
    ({"columns": {"pupil": "x"}}, "unknown field"),
    ({"columns": {"upn": ""}}, "needs a column name"),
    ({"format": "xls"}, "format must be"),
    ({"date_format": "dd/mm"}, "strptime"),
    ({"colums": {}}, "unknown keys"),
    ([], "JSON object"),
])
def test_bad_mappings_are_refused(data, message):
    with pytest.raises(UserError) as exc:
        mapping_from_dict(data)
    assert message in exc.value.message


def test_builtin_mappings_and_unknown_name(tmp_path):
    assert set(BUILTIN) == {"sims", "arbor", "bromcom"}
    path = write(tmp_path, "arbor.csv", "Student UPN,Session Date,Session,Attendance Mark\nA1,2024-09-02,AM,/\n")
    assert len(_marks(long_csv.parse(path, load_mapping("Arbor")))) == 1
    with pytest.raises(UserError):
        load_mapping("capita-one")


@pytest.mark.parametrize("header, expected", [
    ("2024-09-02 AM", ("2024-09-02", "AM", None)),
    ("02/09/2024 PM", ("02/09/2024", "PM", None)),
    ("Mon 02/09/2024 AM", ("02/09/2024", "AM", "mon")),
    ("Monday 2/9/2024 (pm)", ("2/9/2024", "PM", "mon")),
    ("AM 02/09/2024", ("02/09/2024", "AM", None)),
    ("Surname", None),
    ("2024-09-02", None),
])
def test_wide_column_headers(header, expected):
    assert wide_csv.parse_column(header) == expected


def test_wide_csv_yields_a_mark_per_pupil_and_column(tmp_path):
    text = ("UPN,Name,Mon 02/09/2024 AM,Mon 02/09/2024 PM,2024-09-03 AM\n"
            "A1,Ann,/,\\,L\n"
            "A2,Bob,N,-,\n")
    items = list(wide_csv.parse(write(tmp_path, "w.csv", text, bom=True, crlf=True), DEFAULT))
    marks = _marks(items)
    assert [(m.upn, m.day.day, m.session, m.code, m.line, m.element) for m in marks] == [
        ("A1", 2, "AM", "/", 2, "Mon 02/09/2024 AM"), ("A1", 2, "PM", "\\", 2, "Mon 02/09/2024 PM"),
        ("A1", 3, "AM", "L", 2, "2024-09-03 AM"),
        ("A2", 2, "AM", "N", 3, "Mon 02/09/2024 AM"), ("A2", 2, "PM", "-", 3, "Mon 02/09/2024 PM"),
        ("A2", 3, "AM", "", 3, "2024-09-03 AM")]


def test_wide_csv_header_problems(tmp_path):
    text = "UPN,Tue 02/09/2024 AM,30/02/2024 AM,2024-09-03 PM,03/09/2024 PM\nA1,/,/,/,/\n"
    problems = _problems(wide_csv.parse(write(tmp_path, "w.csv", text), DEFAULT))
    assert [(p.line, p.field) for p in problems] == [(1, "Tue 02/09/2024 AM"), (1, "30/02/2024 AM"), (1, "03/09/2024 PM")]
    assert "Monday" in problems[0].message and "no such date" in problems[1].message
    assert "already" in problems[2].message


def test_wide_csv_without_session_columns(tmp_path):
    with pytest.raises(FormatError):
        list(wide_csv.parse(write(tmp_path, "w.csv", "UPN,Name\nA1,Ann\n"), DEFAULT))


def test_dates_and_sessions():
    parser = DateParser()
    assert parser.parse("2024-09-02") == date(2024, 9, 2)
    assert parser.parse("2/9/2024") == date(2024, 9, 2)
    assert parser.parse("02.09.2024") == date(2024, 9, 2)
    assert parser.parse("2024-09-02 00:00:00") == date(2024, 9, 2)
    assert parser.parse("29/02/2023") == "no such date"
    assert parser.parse("29/02/2024") == date(2024, 2, 29)
    assert parser.parse("09/02/24").startswith("not a date")
    assert [parse_session(s) for s in ("am", " PM ", "Morning", "a", "x")] == ["AM", "PM", "AM", "AM", None]


def _ctf(pupils: str, urn: str = "100001", lea: str = "823", estab: str = "2001") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header><DocumentName>Common Transfer File</DocumentName>
    <SourceSchool><LEA>{lea}</LEA><Estab>{estab}</Estab><URN>{urn}</URN><SchoolName>Test</SchoolName>
      <AcademicYear>2024</AcademicYear></SourceSchool></Header>
  <CTFpupilData>{pupils}</CTFpupilData>
</CTfile>"""


PUPIL = """<Pupil><UPN>A823200124001</UPN><Surname>Khan</Surname><Forename>Amira</Forename><DOB>2016-05-01</DOB>
<Gender>F</Gender><NCyearActual>3</NCyearActual>
<Attendance><YearData><Year>2024</Year><AttendSessions><AttendanceStartDate>2024-08-30</AttendanceStartDate>
<AttendanceMarks>/\\####L-NI</AttendanceMarks></AttendSessions></YearData></Attendance></Pupil>"""


def test_ctf_pupils_and_marks_with_no_session_days(tmp_path):
    items = list(ctf.parse(write(tmp_path, "c.xml", _ctf(PUPIL)), SCHOOL))
    pupil = items[0]
    assert isinstance(pupil, ctf.CtfPupil)
    assert (pupil.upn, pupil.forename, pupil.surname, pupil.date_of_birth, pupil.sex, pupil.year_group) == (
        "A823200124001", "Amira", "Khan", date(2016, 5, 1), "F", "3")
    marks = [(m.day, m.session, m.code, m.element) for m in _marks(items)]
    # Fri 30 Aug: / and \ ; Sat and Sun '#' (no sessions); Mon 2 Sep: L and '-' ; Tue 3 Sep: N, I
    assert marks == [
        (date(2024, 8, 30), "AM", "/", "AttendanceMarks[1]"), (date(2024, 8, 30), "PM", "\\", "AttendanceMarks[2]"),
        (date(2024, 9, 2), "AM", "L", "AttendanceMarks[7]"), (date(2024, 9, 2), "PM", "-", "AttendanceMarks[8]"),
        (date(2024, 9, 3), "AM", "N", "AttendanceMarks[9]"), (date(2024, 9, 3), "PM", "I", "AttendanceMarks[10]")]


@pytest.mark.parametrize("urn, lea, estab, element", [
    ("100002", "823", "2001", "Header/SourceSchool/URN"),
    ("", "824", "2001", "Header/SourceSchool/LEA"),
    ("", "823", "2002", "Header/SourceSchool/Estab"),
])
def test_ctf_for_another_school_is_refused(tmp_path, urn, lea, estab, element):
    path = write(tmp_path, "c.xml", _ctf(PUPIL, urn=urn, lea=lea, estab=estab))
    with pytest.raises(FormatError) as exc:
        list(ctf.parse(path, SCHOOL))
    assert exc.value.problem.element == element and "another" in exc.value.problem.message


def test_truncated_ctf(tmp_path):
    text = _ctf(PUPIL + PUPIL.replace("A823200124001", "A823200124002"))
    path = write(tmp_path, "c.xml", text[: len(text) - 200])
    with pytest.raises(FormatError) as exc:
        list(ctf.parse(path, SCHOOL))
    assert "malformed or truncated" in exc.value.problem.message and exc.value.problem.line


def test_ctf_problems_name_pupil_and_element(tmp_path):
    odd = PUPIL.replace("/\\####L-NI", "/\\#").replace("2016-05-01", "2016-02-30")
    items = list(ctf.parse(write(tmp_path, "c.xml", _ctf(odd)), SCHOOL))
    problems = _problems(items)
    assert [(p.pupil, p.element) for p in problems] == [
        ("A823200124001", "Pupil/DOB"), ("A823200124001", "AttendSessions/AttendanceMarks")]


def test_ctf_not_a_ctf(tmp_path):
    with pytest.raises(FormatError):
        list(ctf.parse(write(tmp_path, "c.xml", "<html><body/></html>"), SCHOOL))


def test_ctf_pupil_count_for_progress(tmp_path):
    path = write(tmp_path, "c.xml", _ctf(PUPIL * 3))
    assert ctf.count_pupils(path) == 3


def test_detect_format(tmp_path):
    assert detect_format(write(tmp_path, "a.csv", "UPN,Date,Session,Mark\n")) == "long"
    assert detect_format(write(tmp_path, "b.csv", "UPN,02/09/2024 AM\n", bom=True)) == "wide"
    assert detect_format(write(tmp_path, "c.xml", _ctf(PUPIL))) == "ctf"
    assert detect_format(write(tmp_path, "d.txt", "\ufeff<?xml version='1.0'?><CTfile/>")) == "ctf"
    with pytest.raises(FormatError):
        detect_format(write(tmp_path, "e.csv", ""))
