"""Quiet hours: deferral to the next allowed instant, across both clock changes."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from outreach.core.errors import UserError
from outreach.messaging.quiet_hours import (
    DEFAULT_POLICY, QuietHoursPolicy, is_allowed, next_allowed_send, wall_time_instants,
)
from outreach.messaging.quiet_hours_settings import clear_quiet_hours, policy_for_school, set_quiet_hours
from tests.factories import make_school

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=LONDON, fold=fold)


@pytest.mark.parametrize(("moment", "expected"), [
    (london(2025, 6, 11, 12, 0), london(2025, 6, 11, 12, 0)),   # Wednesday noon: now
    (london(2025, 6, 11, 19, 59), london(2025, 6, 11, 19, 59)),
    (london(2025, 6, 11, 20, 0), london(2025, 6, 12, 8, 0)),    # quiet from 20:00
    (london(2025, 6, 12, 7, 59), london(2025, 6, 12, 8, 0)),
    (london(2025, 6, 12, 0, 0), london(2025, 6, 12, 8, 0)),
    (london(2025, 6, 14, 20, 30), london(2025, 6, 16, 8, 0)),   # Saturday evening: not Sunday
    (london(2025, 6, 15, 12, 0), london(2025, 6, 16, 8, 0)),    # Sunday noon
    (london(2025, 1, 15, 21, 0), london(2025, 1, 16, 8, 0)),    # winter
])
def test_default_policy(moment: datetime, expected: datetime) -> None:
    result = next_allowed_send(moment)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("saturday_evening", "monday_morning_utc"), [
    # Saturday 21:00 GMT before the March change -> Monday 08:00 BST, which is 07:00 UTC.
    (utc(2025, 3, 29, 21, 0), utc(2025, 3, 31, 7, 0)),
    (utc(2026, 3, 28, 21, 0), utc(2026, 3, 30, 7, 0)),
    # Saturday 21:00 BST before the October change -> Monday 08:00 GMT, which is 08:00 UTC.
    (utc(2025, 10, 25, 20, 0), utc(2025, 10, 27, 8, 0)),
    (utc(2026, 10, 24, 20, 0), utc(2026, 10, 26, 8, 0)),
])
def test_saturday_evening_across_the_clock_change_goes_to_monday_0800_local(saturday_evening, monday_morning_utc) -> None:
    assert saturday_evening.astimezone(LONDON).strftime("%a %H:%M") == "Sat 21:00"
    result = next_allowed_send(saturday_evening)
    assert result == monday_morning_utc
    assert result.astimezone(LONDON).strftime("%a %H:%M") == "Mon 08:00"


@pytest.mark.parametrize(("moment", "expected"), [
    # Without closed days, the next 08:00 is on the day of the change itself.
    (utc(2025, 3, 29, 21, 0), utc(2025, 3, 30, 7, 0)),
    (utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 7, 0)),
    (utc(2025, 10, 25, 20, 0), utc(2025, 10, 26, 8, 0)),
    (utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 8, 0)),
    # both passes of the repeated 01:30 in October
    (london(2025, 10, 26, 1, 30, fold=0), utc(2025, 10, 26, 8, 0)),
    (london(2025, 10, 26, 1, 30, fold=1), utc(2025, 10, 26, 8, 0)),
])
def test_every_day_policy_on_the_day_of_the_change(moment: datetime, expected: datetime) -> None:
    policy = QuietHoursPolicy(closed_days=frozenset())
    assert next_allowed_send(moment, policy) == expected


def test_a_boundary_in_the_march_gap_opens_when_the_clock_jumps() -> None:
    # Quiet until 01:30, which does not exist on 30 March 2025: 01:00 GMT becomes 02:00 BST.
    policy = QuietHoursPolicy(quiet_start=time(22, 0), quiet_end=time(1, 30), closed_days=frozenset())
    assert next_allowed_send(utc(2025, 3, 30, 0, 15), policy) == utc(2025, 3, 30, 1, 0)
    assert next_allowed_send(utc(2026, 3, 29, 0, 15), policy) == utc(2026, 3, 29, 1, 0)


def test_a_boundary_in_the_repeated_october_hour() -> None:
    policy = QuietHoursPolicy(quiet_start=time(1, 30), quiet_end=time(2, 30), closed_days=frozenset())
    # 01:45 BST (quiet); at 02:00 BST the clock goes back to 01:00 GMT, before quiet starts.
    assert next_allowed_send(utc(2025, 10, 26, 0, 45), policy) == utc(2025, 10, 26, 1, 0)
    # 01:35 GMT, the second pass (quiet): allowed again at 02:30 GMT.
    assert next_allowed_send(utc(2025, 10, 26, 1, 35), policy) == utc(2025, 10, 26, 2, 30)
    # Quiet ending at 01:30: the first 01:30 (BST) is when it ends.
    ending = QuietHoursPolicy(quiet_start=time(22, 0), quiet_end=time(1, 30), closed_days=frozenset())
    assert next_allowed_send(utc(2026, 10, 24, 23, 0), ending) == utc(2026, 10, 25, 0, 30)


def test_wall_time_instants_for_missing_and_repeated_times() -> None:
    assert wall_time_instants(datetime(2025, 3, 30).date(), time(1, 30), LONDON) == [utc(2025, 3, 30, 1, 0)]
    assert wall_time_instants(datetime(2025, 10, 26).date(), time(1, 30), LONDON) == [
        utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 1, 30)]
    assert wall_time_instants(datetime(2025, 7, 1).date(), time(8, 0), LONDON) == [utc(2025, 7, 1, 7, 0)]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_allowed_send(datetime(2025, 3, 29, 21, 0))


@pytest.mark.parametrize(("hours", "days", "message"), [
    ("25:00-08:00", "sun", "24-hour time"),
    ("20:00", "sun", "20:00-08:00"),
    ("20:00-08:00", "funday", "unknown day"),
    ("20:00-08:00", "mon,tue,wed,thu,fri,sat,sun", "at least one day"),
])
def test_bad_policies_are_refused(hours: str, days: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QuietHoursPolicy.from_strings(hours, days)


def test_policy_parsing_and_description() -> None:
    policy = QuietHoursPolicy.from_strings("21:30 - 07:15", "Sat, Sunday")
    assert (policy.quiet_start, policy.quiet_end, policy.closed_days) == (time(21, 30), time(7, 15), frozenset({5, 6}))
    assert DEFAULT_POLICY.describe() == "No messages 20:00-08:00, nor on Sunday (Europe/London time)."
    anytime = QuietHoursPolicy.from_strings("none", "")
    assert is_allowed(london(2025, 6, 15, 3, 0), anytime)
    with pytest.raises(ValueError, match="time zone"):
        QuietHoursPolicy(timezone="Europe/Atlantis")


# Quarter hours, often between 00:45 and 02:30 where the clock changes happen.
QUARTERS = st.builds(lambda q: time(q // 4, (q % 4) * 15), st.one_of(st.integers(0, 95), st.integers(3, 10)))
POLICIES = st.builds(
    lambda start, end, days: QuietHoursPolicy(quiet_start=start, quiet_end=end, closed_days=frozenset(days)),
    QUARTERS, QUARTERS, st.sets(st.integers(0, 6), max_size=6))
# Around both changes of 2025 and 2026, and ordinary weeks.
CHANGES = [utc(2025, 3, 30, 1), utc(2025, 10, 26, 1), utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)]
MOMENTS = st.one_of(
    st.builds(lambda change, seconds: change + timedelta(seconds=seconds),
              st.sampled_from(CHANGES), st.integers(-4 * 3600, 4 * 3600)),
    st.datetimes(min_value=datetime(2025, 3, 22), max_value=datetime(2025, 4, 6), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2025, 10, 18), max_value=datetime(2025, 11, 2), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2026, 3, 21), max_value=datetime(2026, 4, 5), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2026, 10, 17), max_value=datetime(2026, 11, 1), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
)


@settings(max_examples=300, deadline=None)
@given(MOMENTS, POLICIES)
def test_next_allowed_send_is_the_first_allowed_instant(moment: datetime, policy: QuietHoursPolicy) -> None:
    result = next_allowed_send(moment, policy)
    assert result >= moment
    assert is_allowed(result, policy)
    assert next_allowed_send(result, policy) == result
    if result > moment:
        assert not is_allowed(result - timedelta(microseconds=1), policy)
        # Every boundary is on a quarter hour in UTC, so no allowed window hides between grid points.
        probe = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)
        while probe < result:
            assert not is_allowed(probe, policy), probe
            probe += timedelta(minutes=15)


# --- per-school settings (database) ---------------------------------------------------------

def test_school_without_settings_uses_the_configured_default(app) -> None:
    school = make_school()
    assert policy_for_school(school.id) == DEFAULT_POLICY
    app.config["OUTREACH_QUIET_HOURS"], app.config["OUTREACH_QUIET_DAYS"] = "19:00-09:00", "sat,sun"
    try:
        assert policy_for_school(school.id) == QuietHoursPolicy(time(19, 0), time(9, 0), frozenset({5, 6}))
    finally:
        app.config["OUTREACH_QUIET_HOURS"], app.config["OUTREACH_QUIET_DAYS"] = "20:00-08:00", "sun"


def test_school_settings_override_and_clear(db) -> None:
    school = make_school()
    set_quiet_hours(school, "21:00-07:30", "sat,sun", updated_by="head")
    policy = policy_for_school(school.id)
    assert (policy.quiet_start, policy.quiet_end, policy.closed_days) == (time(21, 0), time(7, 30), frozenset({5, 6}))
    assert next_allowed_send(utc(2025, 6, 13, 20, 30), policy) == utc(2025, 6, 16, 6, 30)  # Fri 21:30 BST -> Mon 07:30 BST
    with pytest.raises(UserError, match="24-hour time"):
        set_quiet_hours(school, "9pm-7am", "sun")
    db.session.expire_all()
    assert policy_for_school(school.id) == policy  # unchanged by the refused edit
    clear_quiet_hours(school)
    assert policy_for_school(school.id) == DEFAULT_POLICY
