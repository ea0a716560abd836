from datetime import date

import pytest
from hypothesis import given, strategies as st

from outreach.attendance.codes import (REGULATIONS_2006, REGULATIONS_2024, SWITCH_2024, Category,
                                       UnknownCode, classify)
from outreach.attendance.measures import (SessionCounts, count_marks, is_persistent_absence,
                                          is_severe_absence, sessions_until_persistent_absence)

BEFORE = date(2024, 8, 18)
AFTER = SWITCH_2024

EXPECTED_2024 = {
    Category.PRESENT: "/ \\ L", Category.AEA: "K V P W B",
    Category.AUTHORISED: "C C1 C2 M J1 S T R I E", Category.UNAUTHORISED: "G N O U",
    Category.NOT_COUNTED: "X Q Y1 Y2 Y3 Y4 Y5 Y6 Y7", Category.ADMIN: "D Z #",
}
EXPECTED_2006 = {
    Category.PRESENT: "/ \\ L", Category.AEA: "B J P V W",
    Category.AUTHORISED: "C E H I M R S T", Category.UNAUTHORISED: "G N O U",
    Category.NOT_COUNTED: "X Y", Category.ADMIN: "Z D #",
}


@pytest.mark.parametrize("category,codes", EXPECTED_2024.items())
def test_every_2024_code_has_its_category(category, codes):
    for code in codes.split():
        assert classify(code, AFTER) is category, code


@pytest.mark.parametrize("category,codes", EXPECTED_2006.items())
def test_every_2006_code_has_its_category(category, codes):
    for code in codes.split():
        assert classify(code, BEFORE) is category, code


def test_tables_hold_exactly_the_listed_codes():
    assert set(REGULATIONS_2024.codes) == {c for codes in EXPECTED_2024.values() for c in codes.split()}
    assert set(REGULATIONS_2006.codes) == {c for codes in EXPECTED_2006.values() for c in codes.split()} | {"F"}


def test_switch_on_19_august_2024_j_and_y():
    assert classify("J", BEFORE) is Category.AEA
    with pytest.raises(UnknownCode):
        classify("J", AFTER)
    assert classify("J1", AFTER) is Category.AUTHORISED
    with pytest.raises(UnknownCode):
        classify("J1", BEFORE)
    assert classify("Y", BEFORE) is Category.NOT_COUNTED
    with pytest.raises(UnknownCode):
        classify("Y", AFTER)
    for code in ("Y1", "Y7", "K", "C1", "C2", "Q"):
        with pytest.raises(UnknownCode):
            classify(code, BEFORE)
    with pytest.raises(UnknownCode):
        classify("H", AFTER)  # authorised holiday went in 2024


def test_f_only_until_2013():
    assert classify("F", date(2013, 8, 31)) is Category.AUTHORISED
    with pytest.raises(UnknownCode):
        classify("F", date(2013, 9, 1))


def test_unknown_code_message_names_date_and_table():
    with pytest.raises(UnknownCode, match="2024 regulations.*2025-01-06"):
        classify("A", date(2025, 1, 6))


def test_counts_use_the_table_of_each_marks_date():
    counts = count_marks([(BEFORE, "J"), (AFTER, "J1"), (AFTER, "L"), (AFTER, "U"), (AFTER, "Y4"), (AFTER, "#")])
    assert counts == SessionCounts(present=1, aea=1, authorised=1, unauthorised=1, late=2, not_counted=1, admin=1)
    assert counts.possible == 4


@pytest.mark.parametrize("absent,possible,pa,sa", [
    (10, 100, True, False),   # exactly 10%: attendance 90.0% is persistent absence
    (9, 100, False, False),
    (1, 10, True, False),     # early in the year one session can make a pupil PA
    (19, 200, False, False),  # 9.5% does not round up
    (50, 100, True, True),    # exactly 50%
    (49, 100, True, False),
    (0, 0, False, False),     # no possible sessions: no flag
    (1, 9, True, False),
    (111, 1111, False, False),  # 9.99%: rounds to 10.0% but is not persistent absence
])
def test_pa_and_sa_boundaries_in_whole_numbers(absent, possible, pa, sa):
    assert is_persistent_absence(absent, possible) is pa
    assert is_severe_absence(absent, possible) is sa


def test_attendance_90_point_0_is_pa():
    counts = SessionCounts(present=171, authorised=19)
    assert round(counts.attendance_pct, 1) == 90.0 and counts.persistent_absence


@given(st.lists(st.sampled_from(sorted(REGULATIONS_2024.codes)), max_size=60))
def test_possible_is_sum_of_counted_categories(codes):
    counts = count_marks([(AFTER, c) for c in codes])
    counted = [c for c in codes if classify(c, AFTER).in_possible]
    assert counts.possible == len(counted) == counts.present + counts.aea + counts.authorised + counts.unauthorised
    assert counts.late == sum(c in ("L", "U") for c in codes)
    assert counts.possible + counts.not_counted + counts.admin == len(codes)


@given(st.integers(0, 300), st.integers(0, 60), st.integers(0, 300))
def test_sessions_until_pa_is_the_exact_margin(present, absent, remaining):
    counts = SessionCounts(present=present, authorised=absent)
    k = sessions_until_persistent_absence(counts, remaining)
    total = counts.possible + remaining
    if total == 0:
        return
    if k >= 0:
        assert not is_persistent_absence(absent + k, total)
    assert is_persistent_absence(absent + k + 1, total)
