"""The read side on constructed registers: every expected figure is worked out by hand."""
from datetime import date

import pytest

from outreach.attendance import queries
from outreach.attendance.measures import SessionCounts
from outreach.attendance.queries import PupilFilter
from outreach.core.errors import NotFound, UserError
from outreach.extensions import db
from outreach.schools.models import Trust
from tests.attendance.conftest import refresh, register
from tests.factories import add_marks, make_pupil, make_school

MON = date(2025, 1, 13)  # Monday; the register weeks below start here


def _days(n, pair=("/", "\\")):
    return [pair] * n


def test_pa_and_sa_boundaries_at_school_level():
    school = make_school()
    exactly_10 = make_pupil(school)  # 2 of 20 missed: 10% is persistent absence
    register(exactly_10, MON, [("I", "I")] + _days(9))
    under_10 = make_pupil(school)  # 2 of 21: 9.5%, not persistent
    register(under_10, MON, [("O", "I")] + _days(9) + [("L", "X")])
    exactly_50 = make_pupil(school)  # 10 of 20: severe
    register(exactly_50, MON, _days(5, ("N", "N")) + _days(5))
    under_50 = make_pupil(school)  # 10 of 21: persistent, not severe
    register(under_50, MON, _days(5, ("G", "U")) + _days(5) + [("/", "")])
    refresh(school)

    by_id = {p.pupil_id: p for p in queries.pupil_measures(school.id, MON, date(2025, 1, 31))}
    assert (by_id[exactly_10.id].possible, by_id[exactly_10.id].absent) == (20, 2)
    assert by_id[exactly_10.id].attendance_pct == 90.0 and by_id[exactly_10.id].persistent_absence
    assert (by_id[under_10.id].possible, by_id[under_10.id].absent) == (21, 2)
    assert not by_id[under_10.id].persistent_absence
    assert by_id[exactly_50.id].severe_absence
    assert by_id[under_50.id].persistent_absence and not by_id[under_50.id].severe_absence

    group = queries.school_measures(school.id, MON, date(2025, 1, 31))
    assert group.enrolments == 4
    assert (group.persistent_absence_enrolments, group.severe_absence_enrolments) == (3, 1)
    assert group.persistent_absence_pct == 75.0 and group.severe_absence_pct == 25.0
    assert group.possible == 82 and group.absent == 24
    assert group.absence_pct == 100.0 * 24 / 82
    assert group.authorised == 2 + 1 and group.unauthorised == 1 + 10 + 10
    assert group.late == 5 + 1  # U x5 and one L

    pa = queries.persistent_absence_list(school.id, MON, date(2025, 1, 31))
    assert [p.pupil_id for p in pa] == [exactly_50.id, under_50.id, exactly_10.id]
    assert [p.absent for p in pa] == [10, 10, 2]
    assert [p.pupil_id for p in queries.persistent_absence_list(school.id, MON, date(2025, 1, 31), severe_only=True)] == [exactly_50.id]


def test_enrolment_counts_only_with_a_possible_session_in_the_range():
    school = make_school()
    stayer = make_pupil(school)
    register(stayer, MON, _days(10))
    leaver = make_pupil(school, leaving_date=date(2025, 1, 17))  # marks in week 1 only
    register(leaver, MON, _days(5))
    joiner = make_pupil(school, admission_date=date(2025, 1, 22))  # Z before admission, marks from Wednesday of week 2
    register(joiner, MON, _days(7, ("Z", "Z")) + _days(3))
    not_required = make_pupil(school)  # only X: not of compulsory school age, never possible
    register(not_required, MON, _days(10, ("X", "X")))
    refresh(school)

    week2 = queries.school_measures(school.id, date(2025, 1, 20), date(2025, 1, 24))
    assert week2.enrolments == 2  # the stayer and the joiner
    assert week2.possible == 10 + 6
    ids = {p.pupil_id for p in queries.pupil_measures(school.id, date(2025, 1, 20), date(2025, 1, 24))}
    assert ids == {stayer.id, joiner.id}
    # Monday and Tuesday of week 2: the joiner has only Z (administrative) marks
    assert queries.school_measures(school.id, date(2025, 1, 20), date(2025, 1, 21)).enrolments == 1
    week1 = queries.school_measures(school.id, MON, date(2025, 1, 17))
    # pupils with no possible session add nothing to a group, not even their X or Z marks
    assert week1.enrolments == 2 and week1.counts.admin == 0 and week1.counts.not_counted == 0


def test_not_counted_and_administrative_codes_are_outside_possible():
    school = make_school()
    pupil = make_pupil(school)
    register(pupil, MON, [("/", "X"), ("Y1", "Y7"), ("Q", "D"), ("#", "#"), ("L", "U")])
    refresh(school)
    (p,) = queries.pupil_measures(school.id, MON, date(2025, 1, 17))
    assert p.counts == SessionCounts(present=2, unauthorised=1, late=2, not_counted=4, admin=3)
    assert p.possible == 3 and p.attendance_pct == 100.0 * 2 / 3


def test_the_code_switch_on_19_august_2024_inside_a_range():
    school = make_school()
    pupil = make_pupil(school)
    # Thu 15 and Fri 16 Aug under the 2006 regulations (J = interview, attending; Y not counted),
    # Mon 19 and Tue 20 Aug under the 2024 regulations (J1 = interview, authorised absence).
    register(pupil, date(2024, 8, 15), [("J", "Y"), ("/", "\\"), ("J1", "Y2"), ("/", "C2")])
    refresh(school)
    want = SessionCounts(present=3, aea=1, authorised=2, not_counted=2)
    for first, last in [(date(2024, 8, 15), date(2024, 8, 20)),  # mid-week to mid-week: marks only
                        (date(2024, 8, 12), date(2024, 8, 25)),  # whole weeks: rollups only
                        (date(2024, 8, 14), date(2024, 8, 25))]:  # an edge, then a whole week
        (p,) = queries.pupil_measures(school.id, first, last)
        assert p.counts == want, (first, last)
    (before,) = queries.pupil_measures(school.id, date(2024, 8, 15), date(2024, 8, 18))
    assert before.counts == SessionCounts(present=2, aea=1, not_counted=1)


def test_edge_week_read_from_marks_when_the_week_has_marks_outside_the_range():
    school = make_school()
    pupil = make_pupil(school)
    register(pupil, MON, _days(5, ("I", "I")))
    add_marks(pupil, [(date(2025, 1, 18), "AM", "/")])  # a Saturday session
    refresh(school)
    # the rollup for the week holds 10 absences and a Saturday attendance; Mon-Fri excludes Saturday
    (p,) = queries.pupil_measures(school.id, MON, date(2025, 1, 17))
    assert (p.possible, p.absent) == (10, 10)


def test_cohort_gap_is_against_the_rest_of_the_school():
    school = make_school()
    fsm = make_pupil(school, fsm=True, sen_status="K", year_group="5")
    register(fsm, MON, [("I", "I"), ("O", "O")] + _days(8))  # 4 of 20: 20%
    clear = make_pupil(school, fsm=False, year_group="5", sex="F")
    register(clear, MON, _days(10))  # 0 of 20
    some = make_pupil(school, fsm=False, year_group="6", eal=True, sex="M")
    register(some, MON, [("M", "M")] + _days(9))  # 2 of 20: 10%, persistent
    refresh(school)

    gaps = queries.cohort_gaps(school.id, MON, date(2025, 1, 24))
    by = {(g.dimension, g.group): g for g in gaps}
    g = by[("fsm", "True")]
    assert g.label == "FSM" and g.enrolments == 1 and g.rest_enrolments == 2
    assert g.absence_pct == 20.0 and g.rest_absence_pct == 5.0
    assert g.absence_gap_pp == 15.0  # against the whole school (10%) it would be 10
    assert g.persistent_absence_pct == 100.0 and g.rest_persistent_absence_pct == 50.0
    assert g.persistent_absence_gap_pp == 50.0
    not_fsm = by[("fsm", "False")]
    assert not_fsm.absence_gap_pp == -15.0
    assert [(g.group, g.label) for g in gaps if g.dimension == "year_group"] == [("5", "Year 5"), ("6", "Year 6")]
    assert by[("year_group", "5")].absence_pct == 10.0 and by[("year_group", "5")].rest_absence_pct == 10.0
    assert [g.label for g in gaps if g.dimension == "sen"] == ["No SEN", "SEN support"]
    assert [g.label for g in gaps if g.dimension == "sex"] == ["Female", "Male", "Not recorded"]
    assert by[("eal", "True")].label == "EAL"


def test_cohort_with_no_rest_has_no_gap():
    school = make_school()
    register(make_pupil(school, fsm=False), MON, _days(2))
    refresh(school)
    (g,) = [g for g in queries.cohort_gaps(school.id, MON, MON) if g.dimension == "fsm"]
    assert g.rest_enrolments == 0 and g.rest_absence_pct is None and g.absence_gap_pp is None


def test_weekly_trend_points_and_cumulative_persistent_absence():
    school = make_school()
    a = make_pupil(school)
    register(a, MON, _days(5) + _days(5) + [("I", "I"), ("I", "/")] + _days(3))
    b = make_pupil(school)
    register(b, MON, _days(5) + _days(2))  # leaves on Tuesday of week 2
    refresh(school)
    trend = queries.weekly_trend(school.id, date(2025, 1, 15), date(2025, 1, 29))  # Wed to Wed
    assert [(p.week_start, p.start, p.end, p.partial) for p in trend] == [
        (date(2025, 1, 13), date(2025, 1, 15), date(2025, 1, 19), True),
        (date(2025, 1, 20), date(2025, 1, 20), date(2025, 1, 26), False),
        (date(2025, 1, 27), date(2025, 1, 27), date(2025, 1, 29), True),
    ]
    assert [(p.possible, p.absent, p.pupils) for p in trend] == [(12, 0, 2), (14, 0, 2), (6, 3, 1)]
    assert trend[2].absence_pct == 50.0 and trend[2].attendance_pct == 50.0
    # cumulative: a has 3 of 22 (13.6%) by the end; b keeps 0 of 10 after leaving
    assert [p.cumulative_pa_pct for p in trend] == [0.0, 0.0, 50.0]
    assert queries.weekly_trend(school.id, date(2025, 1, 15), date(2025, 1, 29), cumulative=False)[2].cumulative_pa_pct is None
    only_b = queries.weekly_trend(school.id, MON, date(2025, 1, 31), pupil_ids=[b.id])
    assert [p.possible for p in only_b] == [10, 4]


def test_pupil_filters_in_sql_and_in_python_agree():
    school = make_school()
    pupils = [make_pupil(school, fsm=i % 2 == 0, year_group=str(3 + i % 3), reg_group=f"R{i % 2}") for i in range(6)]
    for i, pupil in enumerate(pupils):
        register(pupil, MON, [("I", "/")] * i + _days(6 - i))
    refresh(school)
    rng = (date(2025, 1, 14), date(2025, 1, 20))
    fsm = queries.school_measures(school.id, *rng, pupil_filter=PupilFilter(fsm=True))
    assert fsm.enrolments == 3
    assert fsm.counts == sum((p.counts for p in queries.pupil_measures(school.id, *rng) if p.fsm), SessionCounts())
    year3 = PupilFilter(year_groups=["3"], reg_groups="R0")  # pupils 0 and 3 are in year 3; only 0 in R0
    assert {p.pupil_id for p in queries.pupil_measures(school.id, *rng, pupil_filter=year3)} == {pupils[0].id}
    ids = [p.id for p in pupils[:2]]
    many = ids + list(range(10_000_000, 10_000_000 + queries._SQL_IN_LIMIT + 5))  # long lists filter in Python
    assert queries.pupil_measures(school.id, *rng, pupil_ids=many) == queries.pupil_measures(school.id, *rng, pupil_ids=ids)
    assert queries.weekly_trend(school.id, *rng, pupil_ids=many) == queries.weekly_trend(school.id, *rng, pupil_ids=ids)
    assert queries.pupil_measures(school.id, *rng, pupil_ids=[]) == []


def test_newly_persistent_between_two_dates():
    school = make_school()
    crosses = make_pupil(school)  # week 3: 3 missed of 30 -> 10%
    register(crosses, MON, _days(10) + [("I", "I"), ("I", "/")] + _days(3))
    already = make_pupil(school)  # persistent from the first week
    register(already, MON, [("I", "I")] * 3 + _days(12))
    severe = make_pupil(school)  # 5 of 20 (PA) by week 2, then 10 more: 15 of 30 = 50%
    register(severe, MON, [("O", "O")] * 2 + [("O", "/")] + _days(7) + _days(5, ("N", "N")))
    refresh(school)
    since, until = date(2025, 1, 27), date(2025, 1, 31)
    result = queries.newly_persistent(school.id, since, until, year_start=MON)
    assert [(n.pupil.pupil_id, n.newly_persistent, n.newly_severe) for n in result] == [
        (severe.id, False, True), (crosses.id, True, False)]
    assert result[1].before.possible == 20 and result[1].before.absent == 0
    # since on the first day: everything persistent now is new
    assert {n.pupil.pupil_id for n in queries.newly_persistent(school.id, MON, until, year_start=MON)} == {
        crosses.id, already.id, severe.id}
    with pytest.raises(UserError):
        queries.newly_persistent(school.id, until, since)


def test_trust_comparison_side_by_side():
    trust = Trust(name="Northern Lights Trust")
    db.session.add(trust)
    db.session.flush()
    zeta = make_school(urn="100010", name="Zeta Primary")
    alpha = make_school(urn="100011", name="Alpha Primary")
    other = make_school(urn="100012", name="Elsewhere")
    zeta.trust_id = alpha.trust_id = trust.id
    register(make_pupil(zeta), MON, [("I", "I")] + _days(4))
    register(make_pupil(alpha), MON, _days(5))
    register(make_pupil(other), MON, _days(5, ("I", "I")))
    for s in (zeta, alpha, other):
        refresh(s)
    rows = queries.trust_comparison(trust.id, MON, date(2025, 1, 17))
    assert [(r.name, r.measures.enrolments, r.measures.absent, r.measures.persistent_absence_pct) for r in rows] == [
        ("Alpha Primary", 1, 0, 0.0), ("Zeta Primary", 1, 2, 100.0)]
    with pytest.raises(NotFound):
        queries.trust_comparison(trust.id + 99)


def test_year_end_projection():
    school = make_school()
    regular = make_pupil(school)
    register(regular, MON, [("I", "I")] + _days(4))  # 10 sessions held, 2 missed
    joiner = make_pupil(school)
    register(joiner, date(2025, 1, 16), _days(2))  # 4 sessions
    refresh(school)
    projection = queries.year_end_projection(school.id, as_of=date(2025, 1, 17))
    assert projection.year_start == date(2024, 9, 1)
    assert projection.school_sessions_so_far == 10 and projection.remaining_sessions == 370
    by = {p.pupil.pupil_id: p for p in projection.pupils}
    # (2 + k) * 10 < 10 + 370  ->  k <= 35
    assert by[regular.id].sessions_until_pa == 35 and by[regular.id].days_until_pa == 17
    # (0 + k) * 10 < 4 + 370  ->  k <= 37
    assert by[joiner.id].sessions_until_pa == 37
    assert queries.school_sessions_held(school.id, date(2025, 1, 15), date(2025, 1, 16)) == 4


def test_empty_school_and_empty_range():
    school = make_school()
    group = queries.school_measures(school.id, MON, date(2025, 1, 17))
    assert group.enrolments == 0 and group.attendance_pct is None and group.persistent_absence_pct is None
    assert queries.weekly_trend(school.id, MON, date(2025, 1, 17)) == []
    assert queries.cohort_gaps(school.id, MON, date(2025, 1, 17)) == []
    with pytest.raises(UserError):
        queries.pupil_measures(school.id, date(2025, 1, 17), MON)
