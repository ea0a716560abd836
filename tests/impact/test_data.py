"""Impact from real rollups: one programme at one school, and the intervention table across a trust."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from outreach.core.errors import UserError
from outreach.impact import data
from outreach.interventions import queries, services
from tests.factories import make_pupil, make_school
from tests.interventions.builders import present, write_register

START = date(2024, 11, 13)  # a Wednesday


def _school(urn: str, *, helps: bool, participants: int = 6, others: int = 14):
    school = make_school(urn=urn, name=f"School {urn}")
    group = [make_pupil(school, fsm=i % 2 == 0) for i in range(participants)]
    rest = [make_pupil(school, fsm=i % 2 == 0) for i in range(others)]

    def plan_for(in_group: bool):
        def plan(day: date, session: str) -> str:
            if day.weekday() == 0:
                return "I"  # everyone misses Mondays
            if in_group and day.weekday() == 1 and (day < date(2024, 11, 11) or not helps):
                return "O"  # the group also missed Tuesdays, until the programme (where it helps)
            return present(day, session)
        return plan

    plans = {p: plan_for(True) for p in group} | {p: plan_for(False) for p in rest}
    write_register(school, plans, start=date(2024, 9, 9), end=date(2025, 1, 31))
    for p in group:
        services.log_intervention(school, type="home_visit", pupil_ids=[p.id], recorded_by="Ms Patel",
                                  occurred_at=datetime(2024, 11, 13, 11, tzinfo=timezone.utc),
                                  now=datetime(2025, 2, 1, tzinfo=timezone.utc))
    return school, group


def test_measure_programme_recovers_the_effect_from_rollups(db):
    school, group = _school("100001", helps=True)
    result = data.measure_programme(school.id, {p.id: START for p in group}, weeks=4, label="pupils on the walking bus")
    assert result.n == 6 and result.effect == pytest.approx(20.0)
    assert result.summary.startswith("Attendance of the 6 pupils on the walking bus rose 20.0 points more than similar pupils")
    assert all(m.match_level == "fsm+sen" for m in result.matched)


def test_programme_participants_must_be_at_the_school(db):
    school, _ = _school("100001", helps=True, participants=1, others=2)
    other = make_pupil(make_school(urn="100009"))
    with pytest.raises(UserError, match="not at this school"):
        data.measure_programme(school.id, {other.id: START})
    with pytest.raises(UserError, match="1 to 20 school weeks"):
        data.measure_programme(school.id, {other.id: START}, weeks=0)


def test_intervention_table_per_school_and_across_the_trust(db):
    a, _ = _school("100001", helps=True)
    b, _ = _school("100002", helps=False)
    rows = queries.intervention_impact([a.id, b.id], weeks=4, types=["home_visit", "text"])
    got = {(r.school_name, r.type): r.result for r in rows}
    assert set(got) == {("School 100001", "home_visit"), ("School 100002", "home_visit"), ("All schools", "home_visit")}
    assert got[("School 100001", "home_visit")].effect == pytest.approx(20.0)
    assert got[("School 100002", "home_visit")].effect == pytest.approx(0.0)
    assert "changed about the same" in got[("School 100002", "home_visit")].summary
    pooled = got[("All schools", "home_visit")]
    assert pooled.n == 12 and pooled.effect == pytest.approx(10.0)
    assert pooled.ci_low > 0  # schools differ, but together the rise is clear
