from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from outreach.attendance import rollups
from outreach.attendance.codes import codes_in_force
from outreach.attendance.measures import count_marks
from outreach.attendance.models import PupilWeek
from outreach.core.timeutil import week_start
from outreach.extensions import db
from tests.factories import add_marks, make_pupil, make_school


def _weeks(pupil_id):
    return {w.week_start: w for w in db.session.scalars(select(PupilWeek).where(PupilWeek.pupil_id == pupil_id))}


def test_rollup_classifies_each_mark_by_its_own_date_across_the_switch():
    school = make_school()
    pupil = make_pupil(school)
    # Thu 15 Aug 2024 .. Tue 20 Aug 2024 spans the switch and two weeks
    add_marks(pupil, [
        (date(2024, 8, 15), "AM", "J"), (date(2024, 8, 15), "PM", "Y"),
        (date(2024, 8, 16), "AM", "L"), (date(2024, 8, 16), "PM", "U"),
        (date(2024, 8, 19), "AM", "J1"), (date(2024, 8, 19), "PM", "Y2"),
        (date(2024, 8, 20), "AM", "#"), (date(2024, 8, 20), "PM", "\\"),
    ])
    rollups.refresh(db.session, school.id, date(2024, 8, 15), date(2024, 8, 20))
    weeks = _weeks(pupil.id)
    before, after = weeks[date(2024, 8, 12)], weeks[date(2024, 8, 19)]
    assert (before.present, before.aea, before.unauthorised, before.not_counted, before.late, before.possible) == (1, 1, 1, 1, 2, 3)
    assert (after.present, after.authorised, after.not_counted, after.admin, after.possible) == (1, 1, 1, 1, 2)


dates = st.dates(min_value=date(2024, 7, 1), max_value=date(2024, 10, 31)).filter(lambda d: d.weekday() < 5)


def _valid_code(day):
    return st.sampled_from(codes_in_force(day))


marks_strategy = st.lists(
    st.tuples(dates, st.sampled_from(["AM", "PM"])).flatmap(lambda ds: _valid_code(ds[0]).map(lambda c: (ds[0], ds[1], c))),
    max_size=40, unique_by=lambda m: (m[0], m[1]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(marks=marks_strategy)
def test_rollups_equal_a_recomputation_from_marks(marks):
    # hypothesis runs many examples in one test: each works inside a transaction rolled back after it
    try:
        _check_rollups_match(marks)
    finally:
        db.session.rollback()


def _check_rollups_match(marks):
    school = make_school(urn="100777")
    pupil = make_pupil(school)
    add_marks(pupil, marks)
    rollups.rebuild(db.session, school.id)
    weeks = _weeks(pupil.id)
    expected: dict = {}
    for day, _session, code in marks:
        expected.setdefault(week_start(day), []).append((day, code))
    assert set(weeks) == set(expected)
    for wk, items in expected.items():
        c = count_marks(items)
        row = weeks[wk]
        assert (row.present, row.aea, row.authorised, row.unauthorised, row.late, row.not_counted, row.admin, row.possible) == (
            c.present, c.aea, c.authorised, c.unauthorised, c.late, c.not_counted, c.admin, c.possible)
