"""The pure demo generator: determinism, calendar, codes, enrolment, people, phones."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import phonenumbers
import pytest

from outreach.attendance.codes import REGULATIONS_2024, lookup
from outreach.attendance.measures import count_marks
from outreach.demo.calendar import YEAR_2025_26, YEAR_2026_27, YEARS, DayKind
from outreach.demo.generate import DemoData, drama_number, generate, LONDON
from outreach.schools.phones import is_drama_number, to_e164
from outreach.schools.upn import upn_problem

# Tuesday 1 December 2026, 11:00 in London: after the morning register.
NOW = datetime(2026, 12, 1, 11, 0, tzinfo=LONDON)
TODAY = NOW.date()
SCALE = 0.25


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(7, scale=SCALE, now=NOW)


def test_same_seed_same_demo_and_another_seed_another(demo: DemoData) -> None:
    again = generate(7, scale=SCALE, now=NOW)
    assert again.digest() == demo.digest()
    assert [len(s.marks) for s in again.schools] == [len(s.marks) for s in demo.schools]
    assert generate(8, scale=SCALE, now=NOW).digest() != demo.digest()


def test_calendars_have_190_pupil_days_and_5_inset_days() -> None:
    for year in YEARS:
        assert len(year.pupil_days()) == 190, year.label
        assert len(year.open_days()) - len(year.pupil_days()) == 5, year.label
        assert all(d.weekday() < 5 for d in year.open_days())
    assert YEAR_2025_26.kind(date(2025, 12, 25)) is DayKind.CLOSED  # Christmas
    assert YEAR_2025_26.kind(date(2026, 4, 6)) is DayKind.CLOSED  # Easter Monday
    assert YEAR_2025_26.kind(date(2026, 5, 4)) is DayKind.CLOSED  # early May bank holiday
    assert YEAR_2025_26.kind(date(2025, 10, 29)) is DayKind.CLOSED  # half term
    assert YEAR_2025_26.kind(date(2025, 9, 1)) is DayKind.INSET
    assert YEAR_2026_27.kind(date(2026, 9, 3)) is DayKind.PUPIL


def test_three_schools_of_the_right_shape(demo: DemoData) -> None:
    phases = {s.spec.key: s.spec.phase for s in demo.schools}
    assert phases == {"primary": "primary", "secondary": "secondary", "special": "special"}
    targets = {"primary": 300, "secondary": 1200, "special": 150}
    for school in demo.schools:
        on_roll = school.on_roll(TODAY)
        assert 0.85 * targets[school.spec.key] * SCALE <= on_roll <= 1.15 * targets[school.spec.key] * SCALE
        assert school.spec.urn.isdigit() and len(school.spec.urn) == 6
        assert len(school.spec.estab) == 4
    years = {s.spec.key: sorted({p.year_group for p in s.pupils}, key=lambda y: 0 if y == "R" else int(y)) for s in demo.schools}
    assert years["primary"] == ["R", "1", "2", "3", "4", "5", "6"]
    assert years["secondary"] == ["7", "8", "9", "10", "11"]


def test_every_mark_is_a_valid_code_on_its_date_under_the_2024_table(demo: DemoData) -> None:
    pairs = {(day, code) for school in demo.schools for _, day, _, code in school.marks}
    for day, code in pairs:
        assert lookup(code, day).code == code  # raises UnknownCode otherwise
    used = {code for _, code in pairs}
    assert used <= set(REGULATIONS_2024.codes)
    # The patterns the demo promises are all there.
    assert {"/", "\\", "L", "U", "I", "M", "G", "O", "N", "#", "V", "C"} <= used


def test_registers_are_complete_and_follow_the_calendar(demo: DemoData) -> None:
    for school in demo.schools:
        by_pupil_day: dict[tuple[int, date], list[str]] = defaultdict(list)
        for i, day, session, code in school.marks:
            by_pupil_day[(i, day)].append(session)
            assert day <= TODAY
            cal = YEAR_2025_26 if day <= YEAR_2025_26.end else YEAR_2026_27
            kind = cal.kind(day)
            assert kind is not DayKind.CLOSED, (day, code)  # nothing on holidays and weekends
            assert (code == "#") == (kind is DayKind.INSET), (day, code)
        for (i, day), sessions in by_pupil_day.items():
            assert sorted(sessions) == (["AM"] if day == TODAY else ["AM", "PM"]), (i, day)
        # Every pupil on roll has marks for every open day of their enrolment.
        for i, pupil in enumerate(school.pupils):
            expected = [d for d in YEAR_2025_26.open_days() + YEAR_2026_27.open_days()
                        if d <= TODAY and pupil.admission_date <= d and (pupil.leaving_date is None or d <= pupil.leaving_date)]
            got = sorted(d for (j, d) in by_pupil_day if j == i)
            assert got == expected, pupil.upn


def test_joiners_and_leavers_have_no_marks_outside_their_enrolment(demo: DemoData) -> None:
    joiners = leavers = 0
    for school in demo.schools:
        first, last = {}, {}
        for i, day, _, _ in school.marks:
            first[i] = min(first.get(i, day), day)
            last[i] = max(last.get(i, day), day)
        for i, pupil in enumerate(school.pupils):
            assert pupil.leaving_date is None or pupil.admission_date <= pupil.leaving_date
            if i in first:
                assert first[i] >= pupil.admission_date
                assert pupil.leaving_date is None or last[i] <= pupil.leaving_date
            if date(2025, 9, 4) <= pupil.admission_date <= TODAY and pupil.admission_date != date(2026, 9, 3):
                joiners += 1
            if pupil.leaving_date is not None and pupil.leaving_date not in (date(2026, 7, 17), date(2026, 6, 26)):
                leavers += 1
    assert joiners >= 3 and leavers >= 3


def test_last_years_leavers_and_movers_up_keep_their_upn(demo: DemoData) -> None:
    primary, secondary = demo.school("primary"), demo.school("secondary")
    year6_left = {p.upn: p for p in primary.pupils if p.year_group == "6" and p.leaving_date == date(2026, 7, 17)}
    assert year6_left
    moved = [p for p in secondary.pupils if p.upn in year6_left]
    assert moved and all(p.year_group == "7" and p.admission_date == date(2026, 9, 3) for p in moved)
    assert all(p.date_of_birth == year6_left[p.upn].date_of_birth for p in moved)


def test_upns_are_valid_and_unique_per_school(demo: DemoData) -> None:
    for school in demo.schools:
        upns = [p.upn for p in school.pupils]
        assert len(upns) == len(set(upns))
        assert all(upn_problem(u) is None for u in upns)


def test_dates_of_birth_match_year_groups(demo: DemoData) -> None:
    for school in demo.schools:
        for p in school.pupils:
            nc = 0 if p.year_group == "R" else int(p.year_group)
            start = 2025 if p.leaving_date is not None and p.leaving_date <= date(2026, 8, 31) else 2026
            # A pupil in year N in the year starting 1 Sep Y was born between 1 Sep Y-5-N and 31 Aug Y-4-N.
            assert date(start - 5 - nc, 9, 1) <= p.date_of_birth <= date(start - 4 - nc, 8, 31), p


def test_cohort_shares_near_national_figures(demo: DemoData) -> None:
    mainstream = [p for s in demo.schools if s.spec.phase != "special" for p in s.pupils]
    n = len(mainstream)
    assert 0.18 <= sum(p.fsm for p in mainstream) / n <= 0.34
    assert 0.09 <= sum(p.sen_status == "K" for p in mainstream) / n <= 0.20
    assert 0.01 <= sum(p.sen_status == "E" for p in mainstream) / n <= 0.08
    assert 0.13 <= sum(p.eal for p in mainstream) / n <= 0.31
    assert all(p.sen_status == "E" for p in demo.school("special").pupils)


def test_absence_figures_and_gaps_resemble_national_ones(demo: DemoData) -> None:
    """A generator-level check (the database-level one is in test_load.py)."""
    last_year = YEAR_2025_26
    for school in demo.schools:
        per: dict[int, list] = defaultdict(list)
        for i, day, _, code in school.marks:
            if day <= last_year.end:
                per[i].append((day, code))
        counts = {i: count_marks(m) for i, m in per.items()}
        fsm = [c for i, c in counts.items() if school.pupils[i].fsm]
        rest = [c for i, c in counts.items() if not school.pupils[i].fsm]
        rate = lambda cs: sum(c.absent for c in cs) / sum(c.possible for c in cs)  # noqa: E731
        assert rate(fsm) > 1.3 * rate(rest), school.spec.key
        assert any(c.persistent_absence for c in counts.values())


def test_unexplained_absences_wait_for_a_reason(demo: DemoData) -> None:
    days = [d for d in YEAR_2026_27.pupil_days() if d <= TODAY]
    recent, older = set(days[-6:]), set(days[-21:-6])
    n_codes = Counter()
    for school in demo.schools:
        for _, day, session, code in school.marks:
            if code == "N":
                assert day > YEAR_2025_26.end  # last year's were all recoded
                n_codes["today" if day == TODAY else "recent" if day in recent else "older" if day in older else "old"] += 1
    assert n_codes["today"] >= 1 and n_codes["recent"] >= 5
    assert 1 <= n_codes["older"] < n_codes["recent"]
    assert n_codes["old"] == 0


def test_todays_morning_appears_only_after_ten_london_time() -> None:
    early = generate(7, scale=0.05, now=datetime(2026, 12, 1, 9, 59, tzinfo=LONDON))
    assert all(day < date(2026, 12, 1) for s in early.schools for _, day, _, _ in s.marks)
    # Summer time: 09:30 UTC on 22 October 2026 is 10:30 in London, so the morning is in...
    bst = generate(7, scale=0.05, now=datetime(2026, 10, 22, 9, 30, tzinfo=timezone.utc))
    assert {(d, s) for sch in bst.schools for _, d, s, _ in sch.marks if d == date(2026, 10, 22)} == {(date(2026, 10, 22), "AM")}
    # ...and after the clocks go back, 09:30 UTC on 2 November is 09:30 in London: not yet.
    gmt = generate(7, scale=0.05, now=datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc))
    assert max(d for sch in gmt.schools for _, d, _, _ in sch.marks) == date(2026, 10, 23)  # the Friday before half term
    # A Saturday: no marks for it, and Friday complete.
    weekend = generate(7, scale=0.05, now=datetime(2026, 11, 28, 12, 0, tzinfo=LONDON))
    fri = [(s) for sch in weekend.schools for _, d, s, _ in sch.marks if d == date(2026, 11, 27)]
    assert "PM" in fri and max(d for sch in weekend.schools for _, d, _, _ in sch.marks) == date(2026, 11, 27)


def test_refuses_dates_before_the_demo_years() -> None:
    with pytest.raises(ValueError):
        generate(1, scale=0.05, now=datetime(2026, 8, 1, 12, 0))
    with pytest.raises(ValueError):
        generate(1, scale=0, now=NOW)


def test_contacts_phones_only_from_the_drama_range(demo: DemoData) -> None:
    for school in demo.schools:
        seen = set()
        for c in school.contacts:
            if c.phone is not None:
                assert is_drama_number(phonenumbers.parse(c.phone, None))
                assert to_e164(c.phone) == c.phone
                assert (c.name, c.phone) not in seen
                seen.add((c.name, c.phone))
    assert drama_number(0) == "+447700900000" and drama_number(999) == "+447700900999"
    with pytest.raises(ValueError):
        drama_number(1000)


def test_families_share_contacts_and_languages_vary(demo: DemoData) -> None:
    for school in demo.schools:
        linked = Counter(i for c in school.contacts for i, _, _ in c.links)
        assert set(linked) == set(range(len(school.pupils)))  # every pupil has a contact
        assert max(linked.values()) <= 2
        siblings = [c for c in school.contacts if len(c.links) >= 2]
        assert siblings, school.spec.key
        for c in siblings:  # siblings share a surname with at least one parent link... and a family
            families = {school.pupils[i].family for i, _, _ in c.links}
            assert len(families) == 1
        priorities = {p for c in school.contacts for _, _, p in c.links}
        assert priorities <= {1, 2}
    contacts = [c for s in demo.schools for c in s.contacts]
    languages = Counter(c.preferred_language for c in contacts)
    assert {"pl", "ur", "ro", "ar", "pt"} <= set(languages)
    assert languages["en"] > 0.75 * len(contacts)
    assert 0 < sum(not c.sms_consent for c in contacts) < 0.2 * len(contacts)
    assert any(c.phone is None for c in contacts)


def test_full_scale_numbers_repeat_only_after_a_school_has_used_all_1000() -> None:
    from outreach.demo.generate import _contacts  # the allocation on its own: no marks needed
    from outreach.demo.generate import SCHOOLS, _Family

    family = _Family("Smith", "en", False, False, 0.0,
                     contacts=[("mother", f"Parent {n}", "phone", None, "en", True) for n in range(3)])
    families = [family] * 500  # 1,500 phones wanted
    pupils = [type("P", (), {"family": i})() for i in range(500)]
    phones = [c.phone for c in _contacts(SCHOOLS[1], 1, families, pupils)]  # type: ignore[arg-type]
    assert len(set(phones[:1000])) == 1000 and len(set(phones)) == 1000
