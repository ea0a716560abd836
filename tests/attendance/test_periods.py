from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from outreach.attendance.periods import (DateRange, academic_year_range, parse_date, resolve_range, term_of,
                                         term_range, week_segments)
from outreach.core.errors import UserError


@given(st.dates(date(2023, 1, 1), date(2026, 12, 31)), st.integers(0, 120))
def test_week_segments_partition_the_range(start, length):
    rng = DateRange(start, start + timedelta(days=length))
    whole, edges = week_segments(rng)
    covered: list[date] = []
    if whole:
        assert whole[0].weekday() == 0 and whole[1].weekday() == 0 and whole[0] <= whole[1]
        covered += [whole[0] + timedelta(days=i) for i in range((whole[1] - whole[0]).days + 7)]
    for edge in edges:
        # an edge lies inside one Monday-to-Sunday week and is never a whole week
        assert edge.start - timedelta(days=edge.start.weekday()) == edge.end - timedelta(days=edge.end.weekday())
        assert edge.days < 7
        covered += [edge.start + timedelta(days=i) for i in range(edge.days)]
    assert sorted(covered) == [rng.start + timedelta(days=i) for i in range(rng.days)]
    assert len(edges) <= 2


def test_week_segments_examples():
    # Wednesday 3 Sep 2025 to Wednesday 17 Sep 2025: one whole week, two edges
    whole, edges = week_segments(DateRange(date(2025, 9, 3), date(2025, 9, 17)))
    assert whole == (date(2025, 9, 8), date(2025, 9, 8))
    assert [(e.start, e.end) for e in edges] == [(date(2025, 9, 3), date(2025, 9, 7)), (date(2025, 9, 15), date(2025, 9, 17))]
    # exactly one week
    assert week_segments(DateRange(date(2025, 9, 8), date(2025, 9, 14))) == ((date(2025, 9, 8), date(2025, 9, 8)), [])
    # Thursday to the next Tuesday: two edges, no whole week
    whole, edges = week_segments(DateRange(date(2025, 9, 11), date(2025, 9, 16)))
    assert whole is None and len(edges) == 2


def test_terms_and_academic_year():
    assert academic_year_range(date(2025, 3, 1)) == DateRange(date(2024, 9, 1), date(2025, 8, 31), "2024/25")
    start = date(2025, 9, 1)
    assert term_range("autumn", start) == DateRange(date(2025, 9, 1), date(2025, 12, 31), "autumn 2025")
    assert term_range("Spring", start) == DateRange(date(2026, 1, 1), date(2026, 3, 31), "spring 2026")
    assert term_range("summer", start) == DateRange(date(2026, 4, 1), date(2026, 8, 31), "summer 2026")
    assert term_of(date(2026, 4, 1)).label == "summer 2026"
    assert term_of(date(2025, 12, 31)).label == "autumn 2025"
    assert term_of(date(2026, 3, 31)).label == "spring 2026"
    with pytest.raises(UserError):
        term_range("winter", start)


def test_resolve_range_defaults_to_the_academic_year_so_far():
    assert resolve_range(today=date(2026, 2, 10)) == DateRange(date(2025, 9, 1), date(2026, 2, 10))
    assert resolve_range(date_to=date(2024, 12, 31)) == DateRange(date(2024, 9, 1), date(2024, 12, 31))
    assert resolve_range(date(2024, 1, 1), date(2024, 1, 1)).days == 1
    with pytest.raises(UserError, match="after it ends"):
        resolve_range(date(2025, 1, 2), date(2025, 1, 1))


@pytest.mark.parametrize("raw", ["2025-02-30", "2025-13-01", "20250101", "01/02/2025", "", "2025-1-1", "tomorrow"])
def test_parse_date_rejects_what_is_not_a_real_iso_date(raw):
    with pytest.raises(UserError, match="--from"):
        parse_date(raw, "--from")


def test_parse_date_accepts_iso():
    assert parse_date(" 2024-02-29 ", "--to") == date(2024, 2, 29)
