"""Properties: figures read from rollups (plus marks for edge days) equal a recomputation from
the marks themselves with ``measures.count_marks``, for arbitrary ranges, on both engines."""
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from outreach.attendance import queries
from outreach.attendance.codes import codes_in_force
from outreach.attendance.measures import SessionCounts, count_marks
from outreach.core.timeutil import week_start
from outreach.extensions import db
from tests.attendance.conftest import refresh
from tests.factories import add_marks, make_pupil, make_school

FIRST, LAST = date(2024, 7, 29), date(2024, 9, 29)  # spans the code switch on 19 Aug 2024

weekday = st.dates(FIRST, LAST).filter(lambda d: d.weekday() < 5)
any_day = st.dates(FIRST, LAST)  # weekends too: Saturday school, and the edge-week probe


def _mark(day_session):
    day, session = day_session
    return st.sampled_from(codes_in_force(day)).map(lambda code: (day, session, code))


pupil_marks = st.lists(st.tuples(st.one_of(weekday, weekday, any_day), st.sampled_from(["AM", "PM"])).flatmap(_mark),
                       max_size=30, unique_by=lambda m: (m[0], m[1]))
ranges = st.tuples(st.dates(FIRST - timedelta(days=6), LAST + timedelta(days=6)),
                   st.integers(0, 70)).map(lambda t: (t[0], t[0] + timedelta(days=t[1])))


def _in(marks, first, last):
    return [(d, c) for d, _s, c in marks if first <= d <= last]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(registers=st.lists(pupil_marks, min_size=1, max_size=4), rng=ranges)
def test_range_figures_equal_a_recomputation_from_marks(registers, rng):
    try:
        _check(registers, *rng)
    finally:
        db.session.rollback()


def _check(registers, first, last):
    school = make_school(urn="100555")
    expected: dict[int, SessionCounts] = {}
    all_marks = {}
    for marks in registers:
        pupil = make_pupil(school)
        add_marks(pupil, marks)
        all_marks[pupil.id] = marks
        counts = count_marks(_in(marks, first, last))
        if counts.possible > 0:
            expected[pupil.id] = counts
    refresh(school)

    pupils = queries.pupil_measures(school.id, first, last)
    assert {p.pupil_id: p.counts for p in pupils} == expected
    for p in pupils:
        assert p.possible == p.present + p.aea + p.authorised + p.unauthorised
        assert p.persistent_absence == (p.absent * 10 >= p.possible)

    group = queries.school_measures(school.id, first, last)
    total = sum(expected.values(), SessionCounts())
    assert group.counts == total
    assert group.enrolments == len(expected)
    assert group.persistent_absence_enrolments == sum(c.persistent_absence for c in expected.values())
    assert group.severe_absence_enrolments == sum(c.severe_absence for c in expected.values())
    assert group.possible == group.present + group.aea + group.authorised + group.unauthorised

    trend = queries.weekly_trend(school.id, first, last)
    by_week: dict = {}
    for marks in all_marks.values():
        for d, c in _in(marks, first, last):
            by_week.setdefault(week_start(d), []).append((d, c))
    want = {w: count_marks(items) for w, items in by_week.items()}
    assert {p.week_start: p.counts for p in trend} == {w: c for w, c in want.items() if c.possible > 0}
    assert sum((p.counts for p in trend), SessionCounts()).possible == total.possible
    if trend:
        assert trend[-1].cumulative_pa_pct == group.persistent_absence_pct
        assert trend[-1].cumulative_sa_pct == group.severe_absence_pct
    for point in trend:  # each week: PA and SA of enrolments on sums from the range start to its end
        so_far = [count_marks(_in(marks, first, point.end)) for marks in all_marks.values()]
        enrolled = [c for c in so_far if c.possible > 0]
        assert point.cumulative_pa_pct == 100.0 * sum(c.persistent_absence for c in enrolled) / len(enrolled)
        assert point.cumulative_sa_pct == 100.0 * sum(c.severe_absence for c in enrolled) / len(enrolled)
    for point in trend:
        assert first <= point.start <= point.end <= last
        pupils_that_week = sum(
            count_marks([(d, c) for d, c in _in(marks, point.start, point.end)]).possible > 0
            for marks in all_marks.values())
        assert point.pupils == pupils_that_week
