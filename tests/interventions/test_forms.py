"""The pages' form readers, directly (pure: no Flask, no database)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from werkzeug.datastructures import MultiDict

from outreach.core.errors import UserError
from outreach.interventions import forms


def test_uk_times_across_the_clock_changes() -> None:
    problems: list[str] = []
    # 30 March 2025: 01:00 GMT becomes 02:00 BST, so 01:30 never happens.
    assert forms.london_datetime(date(2025, 3, 30), time(1, 30), "the call", problems) is None
    assert "does not exist in UK time" in problems[0]
    assert forms.london_datetime(date(2025, 3, 30), time(0, 59), "x", []) == datetime(2025, 3, 30, 0, 59, tzinfo=timezone.utc)
    assert forms.london_datetime(date(2025, 3, 30), time(2, 0), "x", []) == datetime(2025, 3, 30, 1, 0, tzinfo=timezone.utc)
    # 26 October 2025: 01:00-01:59 happens twice; the first (BST) is meant.
    assert forms.london_datetime(date(2025, 10, 26), time(1, 30), "x", []) == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)
    assert forms.london_datetime(date(2025, 10, 26), time(2, 30), "x", []) == datetime(2025, 10, 26, 2, 30, tzinfo=timezone.utc)
    assert forms.london_datetime(date(2025, 7, 1), time(9, 0), "x", []) == datetime(2025, 7, 1, 8, 0, tzinfo=timezone.utc)


def test_when_defaults_to_midday_and_reports_each_problem() -> None:
    assert forms.parse_when("2025-01-15", "", "it", []) == datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)
    problems: list[str] = []
    assert forms.parse_when("15/01/2025", "9am", "it", problems) is None
    assert problems == ["the date of it must be a date (YYYY-MM-DD), got '15/01/2025'", "the time of it must be HH:MM, got '9am'"]
    assert forms.parse_when("", "", "it", []) is None


def test_todays_date_without_a_time_before_midday_is_now_not_the_future() -> None:
    """A first-day call logged at 09:10 with only today's date was refused as "in the future"
    (midday had not come yet): before midday it is the present minute; after it, midday."""
    from outreach.core.timeutil import moment_for_day

    morning = datetime(2026, 12, 2, 9, 10, 42, tzinfo=timezone.utc)  # 09:10 in London (GMT)
    assert moment_for_day(date(2026, 12, 2), morning) == datetime(2026, 12, 2, 9, 10, tzinfo=timezone.utc)
    afternoon = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)
    assert moment_for_day(date(2026, 12, 2), afternoon) == datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    assert moment_for_day(date(2026, 12, 1), morning) == datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    # British Summer Time: 00:30 UTC on 1 July is 01:30 in London, already 1 July there.
    summer_night = datetime(2026, 7, 1, 0, 30, tzinfo=timezone.utc)
    assert moment_for_day(date(2026, 7, 1), summer_night) == summer_night
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: "today" is London's date, not UTC's.
    assert moment_for_day(date(2026, 7, 1), datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)) == datetime(
        2026, 6, 30, 23, 30, tzinfo=timezone.utc)


def test_ids_and_numbers() -> None:
    problems: list[str] = []
    assert forms.parse_ids(["3", "1", "3", "x", "0", "99999999999"], "a pupil id", problems) == [3, 1]
    assert problems == ["a pupil id must be a whole number, got 'x'", "a pupil id must be between 1 and 2147483647",
                        "a pupil id must be between 1 and 2147483647"]
    assert forms.parse_int("7", "weeks", [], lo=1, hi=20) == 7 and forms.parse_int(" ", "weeks", []) is None


def test_intervention_form_gathers_every_problem_at_once() -> None:
    form = MultiDict([("type", "home_visit"), ("pupil_ids", "4"), ("pupil_ids", "nope"), ("occurred_on", "2025-13-01"),
                      ("next_step_date", "soon")])
    with pytest.raises(UserError) as caught:
        forms.intervention_fields(form)
    assert len(caught.value.details) == 3
    good = forms.intervention_fields(MultiDict([("type", "notice_to_improve"), ("pupil_ids", "4"), ("pupil_ids", "5"),
                                                ("occurred_on", "2025-01-15"), ("improvement_weeks", " 4 "),
                                                ("outcome", "  "), ("reference", "")]))
    assert good["pupil_ids"] == [4, 5] and good["details"] == {"improvement_weeks": "4"} and good["outcome"] is None


def test_unticked_switches_mean_off() -> None:
    changes = forms.rule_setting_changes(MultiDict([("monday_friday", "on"), ("drop_points", " 7.5 ")]),
                                         ["monday_friday", "penalty_threshold", "drop_points", "drop_weeks"],
                                         ["monday_friday", "penalty_threshold"])
    assert changes == {"monday_friday": True, "penalty_threshold": False, "drop_points": "7.5"}


def test_letter_form_keeps_only_letter_values() -> None:
    args = forms.letter_fields(MultiDict([("kind", "meeting_invitation"), ("pupil_ids", "2"), ("sender", "Ms Patel"),
                                          ("place", "the hall"), ("school", "sneaky"), ("contact_id", "")]))
    assert args["values"] == {"place": "the hall"} and args["contact_id"] is None and args["pupil_ids"] == [2]
