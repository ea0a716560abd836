"""The dashboard's pure logic, tested directly: list options, sorting, search, CSV cells,
the mark calendar, sparklines and last year's span."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from outreach.core.errors import UserError
from outreach.dashboard import logic


@dataclass
class Row:
    upn: str
    surname: str
    forename: str
    attendance_pct: float | None = 95.0
    absent: int = 0
    preferred_forename: str | None = None
    year_group: str | None = "3"
    reg_group: str | None = "3A"
    fsm: bool = False
    eal: bool = False
    sen_status: str = "N"
    persistent_absence: bool = False
    severe_absence: bool = False


def test_parse_defaults_and_refusals() -> None:
    q = logic.parse_pupil_query({})
    assert (q.sort, q.direction, q.period, q.flag) == ("attendance", "asc", "year", "")
    assert logic.parse_pupil_query({"sort": "absent"}).direction == "desc"
    with pytest.raises(UserError) as exc:
        logic.parse_pupil_query({"sort": "x", "flag": "y", "year": "15", "include_left": "yes"})
    assert set(exc.value.details) == {"sort", "flag", "year"}


def test_sort_links_flip_and_defaults_drop_out() -> None:
    q = logic.parse_pupil_query({"sort": "name"})
    assert q.sort_link("name") == {"sort": "name", "order": "desc"}
    assert q.sort_link("attendance") == {}  # the default sort needs no arguments
    flipped = logic.parse_pupil_query({"sort": "name", "order": "desc"})
    assert flipped.sort_link("name") == {"sort": "name"}
    assert flipped.aria_sort("name") == "descending" and flipped.aria_sort("upn") is None


def test_sorting_is_stable_by_name_and_puts_unknown_figures_last() -> None:
    rows = [Row("A3", "Young", "Zed", 80.0), Row("A1", "adams", "Bea", 80.0), Row("A2", "Brown", "Cal", None),
            Row("A4", "Able", "Dee", 99.0)]
    asc = logic.sort_rows(rows, logic.parse_pupil_query({}))
    assert [r.upn for r in asc] == ["A1", "A3", "A4", "A2"]
    desc = logic.sort_rows(rows, logic.parse_pupil_query({"order": "desc"}))
    assert [r.upn for r in desc] == ["A4", "A1", "A3", "A2"]  # ties still by name, None still last


def test_matching_search_and_cohorts() -> None:
    row = Row("K823200124001", "O'Neill", "Siobhan", preferred_forename="Shiv", fsm=True, sen_status="E")
    def hit(**args: str) -> bool:
        return logic.matches(row, logic.parse_pupil_query(args))
    assert hit(q="shiv o'neill") and hit(q="Siobhan") and hit(q="k8232") and hit(q="o'neill shiv")
    assert not hit(q="smith")
    assert hit(cohort="fsm") and hit(cohort="sen") and hit(cohort="ehcp") and not hit(cohort="sen_support")
    assert not hit(cohort="not_fsm") and hit(cohort="not_eal") and not hit(flag="pa") and hit(flag="not_pa")
    assert hit(reg="3a") and not hit(year="4")


@pytest.mark.parametrize("value, expected", [("=1+2", "'=1+2"), ("+44 7700", "'+44 7700"), ("-2", "'-2"),
                                             ("@SUM", "'@SUM"), ("Ann", "Ann"), (12, 12), (None, None), (True, True)])
def test_spreadsheet_safe(value: object, expected: object) -> None:
    assert logic.spreadsheet_safe(value) == expected


def test_calendar_months_weeks_codes_and_categories() -> None:
    marks = [(date(2024, 8, 16), "AM", "J"), (date(2024, 9, 2), "AM", "/"), (date(2024, 9, 2), "PM", "N"),
             (date(2024, 9, 3), "AM", "J1"), (date(2024, 9, 4), "AM", "ZZ")]
    months = logic.mark_calendar(date(2024, 8, 1), date(2024, 9, 4), marks)
    assert [m.title for m in months] == ["August 2024", "September 2024"]
    assert all(len(week) == 5 for m in months for week in m.weeks)  # no weekend marks: Mon-Fri
    aug16 = next(c for w in months[0].weeks for c in w if c.day == date(2024, 8, 16))
    assert aug16.am.category == "aea"  # J before 19 August 2024: interview, approved activity
    sept = {c.day: c for w in months[1].weeks for c in w if c.day}
    assert sept[date(2024, 9, 3)].am.category == "authorised"  # J1 under the 2024 table
    assert sept[date(2024, 9, 4)].am.category == "unknown"
    assert sept[date(2024, 9, 2)].describe().startswith("Mon 2 September: AM /: ")
    assert not sept[date(2024, 9, 5)].in_range and sept[date(2024, 9, 4)].in_range
    assert months[1].weeks[0][0].day == date(2024, 9, 2)
    assert months[0].weeks[0][:3] == [logic.CalendarDay(None)] * 3  # 1 Aug 2024 was a Thursday
    weekend = logic.mark_calendar(date(2024, 9, 1), date(2024, 9, 30), [(date(2024, 9, 7), "AM", "/")])
    assert len(weekend[0].weeks[0]) == 7  # a Saturday mark: weekends shown, nothing hidden
    totals = logic.category_totals(marks)
    assert ("unauthorised", "Unauthorised absence", 1) in totals and totals[0][0] == "present"


def test_sparkline_is_labelled_and_handles_gaps() -> None:
    svg = logic.sparkline_svg([95.0, None, 90.0, 97.5], "Ash weekly attendance")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "3 weeks, from 95.0% to 97.5% (lowest 90.0%, highest 97.5%)" in svg
    points = svg.split('points="', 1)[1].split('"', 1)[0].split()
    assert len(points) == 3 and points[1].startswith("79.3,")  # the gap keeps its place on the x axis
    assert "no weeks yet" in logic.sparkline_svg([None, None], "Empty <school>")
    assert "&lt;school&gt;" in logic.sparkline_svg([], "Empty <school>")


def test_same_span_last_year() -> None:
    assert logic.same_span_last_year(date(2026, 9, 1), date(2026, 12, 1)) == (date(2025, 9, 1), date(2025, 12, 1))
    assert logic.same_span_last_year(date(2023, 9, 1), date(2024, 2, 29)) == (date(2022, 9, 1), date(2023, 2, 28))
