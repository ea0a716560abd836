"""``outreach report attendance|school`` on a register built by hand, compared byte for byte."""
import json
from datetime import date

from outreach.attendance.reports import one_decimal_pct
from outreach.extensions import db
from tests.attendance.conftest import refresh, register
from tests.factories import make_pupil, make_school

UPN_A = "A823200125001"  # sorts first
UPN_B = "B823200125002"
MON = date(2025, 1, 13)


def _build():
    school = make_school(urn="123456")
    a = make_pupil(school, upn=UPN_B)
    # Mon / \ ; Tue L \ ; Wed I I ; Thu U \ ; Fri V X
    register(a, MON, [("/", "\\"), ("L", "\\"), ("I", "I"), ("U", "\\"), ("V", "X")])
    b = make_pupil(school, upn=UPN_A)
    register(b, MON, [("/", "\\")] * 5)
    only_x = make_pupil(school, upn="C823200125003")  # no possible session: no row
    register(only_x, MON, [("X", "X")] * 5)
    earlier = make_pupil(school, upn="D823200125004")  # marks the week before only: no row
    register(earlier, date(2025, 1, 6), [("I", "I")] * 5)
    refresh(school)
    db.session.commit()
    return school


def test_attendance_report_csv_byte_exact(runner):
    _build()
    result = runner.invoke(args=["report", "attendance", "--school", "123456", "--from", "2025-01-13", "--to", "2025-01-17"])
    assert result.exit_code == 0, result.output
    # B: possible 9 (X not counted); present / \ L \ \ = 5; aea V = 1; authorised I I = 2;
    # unauthorised U = 1; late L + U = 2; attendance 6/9 = 66.67% -> 66.7; 3/9 missed: PA, not SA
    assert result.output == (
        "upn,possible_sessions,present_sessions,aea_sessions,authorised_sessions,unauthorised_sessions,"
        "late_sessions,attendance_pct,persistent_absence,severe_absence\n"
        f"{UPN_A},10,10,0,0,0,0,100.0,False,False\n"
        f"{UPN_B},9,5,1,2,1,2,66.7,True,False\n"
    )


def test_attendance_report_json(runner):
    _build()
    result = runner.invoke(args=["report", "attendance", "--school", "123456", "--from", "2025-01-13",
                                 "--to", "2025-01-17", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"upn": UPN_A, "possible_sessions": 10, "present_sessions": 10, "aea_sessions": 0, "authorised_sessions": 0,
         "unauthorised_sessions": 0, "late_sessions": 0, "attendance_pct": 100.0, "persistent_absence": False,
         "severe_absence": False},
        {"upn": UPN_B, "possible_sessions": 9, "present_sessions": 5, "aea_sessions": 1, "authorised_sessions": 2,
         "unauthorised_sessions": 1, "late_sessions": 2, "attendance_pct": 66.7, "persistent_absence": True,
         "severe_absence": False},
    ]


def test_school_report_json_byte_exact(runner):
    _build()
    result = runner.invoke(args=["report", "school", "--school", "123456", "--from", "2025-01-13",
                                 "--to", "2025-01-17", "--format", "json"])
    assert result.exit_code == 0, result.output
    # 2 enrolments; 19 possible; present 15; aea 1; authorised 2; unauthorised 1; late 2
    expected = {
        "enrolments": 2, "possible_sessions": 19, "present_sessions": 15, "aea_sessions": 1,
        "authorised_sessions": 2, "unauthorised_sessions": 1, "late_sessions": 2,
        "attendance_pct": 100 * 16 / 19, "absence_pct": 100 * 3 / 19, "authorised_absence_pct": 100 * 2 / 19,
        "unauthorised_absence_pct": 100 * 1 / 19, "persistent_absence_pct": 50.0, "severe_absence_pct": 0.0,
    }
    assert result.output == json.dumps(expected, indent=2) + "\n"
    assert list(json.loads(result.output)) == list(expected)  # key order too


def test_school_report_csv(runner):
    _build()
    result = runner.invoke(args=["report", "school", "--school", "123456", "--from", "2025-01-13",
                                 "--to", "2025-01-17", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()
    assert header.startswith("enrolments,possible_sessions,") and line.startswith("2,19,15,1,2,1,2,")
    assert line.endswith(",50.0,0.0")


def test_default_range_is_this_academic_year_so_far(runner):
    _build()  # January 2025: long before this academic year
    result = runner.invoke(args=["report", "attendance", "--school", "123456"])
    assert result.exit_code == 0
    assert result.output.count("\n") == 1  # the header only
    result = runner.invoke(args=["report", "attendance", "--school", "123456", "--to", "2025-01-17"])
    assert [line.split(",")[0] for line in result.output.splitlines()[1:]] == [UPN_A, UPN_B, "D823200125004"]


def test_bad_input_is_a_clear_error_and_exit_1(runner):
    _build()
    cases = [
        (["--school", "999999"], "no school with URN 999999"),
        (["--school", "123456", "--from", "2025-02-30"], "--from is not a real date"),
        (["--school", "123456", "--to", "17/01/2025"], "--to must be a date as YYYY-MM-DD"),
        (["--school", "123456", "--from", "2025-01-17", "--to", "2025-01-13"], "starts (2025-01-17) after it ends"),
    ]
    for report in ("attendance", "school"):
        for args, message in cases:
            result = runner.invoke(args=["report", report, *args])
            assert result.exit_code == 1, (report, args, result.output)
            assert message in result.output, (report, args, result.output)
            assert "Traceback" not in result.output


def test_one_decimal_rounds_halves_up_exactly():
    assert str(one_decimal_pct(397, 400)) == "99.3"  # 99.25: binary rounding would give 99.2
    assert str(one_decimal_pct(2, 3)) == "66.7"
    assert str(one_decimal_pct(171, 190)) == "90.0"
    assert one_decimal_pct(0, 0) is None
