"""The pure parts behind the messaging pages: the compose form's checks and episode key, wall
times across the clock changes, phone searches, masking and the words for statuses and errors."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from outreach.core.errors import UserError
from outreach.messaging.compose import ContactMode
from outreach.messaging.compose_form import ComposeRequest, london_wall_time, parse_compose, review_fingerprint
from outreach.messaging.labels import STATUS_LABELS, explain_error, mask_phone, status_label
from outreach.messaging.models import OUTBOX_STATUSES
from outreach.messaging.queries import london_midnight_utc, phone_digits

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=timezone.utc)
TEMPLATES = {"first_day_absence": "first_day_absence", "attendance_concern": "attendance_concern",
             "walk": "walking_bus_schedule"}


def parse(**args: str | list[str]) -> ComposeRequest:
    lists = {k: v if isinstance(v, list) else [v] for k, v in args.items()}
    return parse_compose(lists, purpose_of=TEMPLATES, timezone=LONDON, now=NOW)


def test_a_full_request_round_trips_through_its_form_arguments() -> None:
    req = parse(template="first_day_absence", year=["5", "3", "5"], reg=["5K"], sen=["K"], fsm="yes", eal="no",
                pa="yes", sa="no", contacts="all", v_date="Wednesday 5 March", send_at="2025-03-06T09:30")
    assert req.year_groups == ("3", "5") and req.contact_mode is ContactMode.ALL
    assert req.audience.fsm is True and req.audience.eal is False and req.audience.persistent_absence is True
    assert req.send_at == datetime(2025, 3, 6, 9, 30, tzinfo=LONDON)
    lists: dict[str, list[str]] = {}
    for key, value in req.as_args():
        lists.setdefault(key, []).append(value)
    assert parse_compose(lists, purpose_of=TEMPLATES, timezone=LONDON, now=NOW) == req
    assert req.audience_description() == ["Year groups: 3, 5", "Registration groups: 5K", "SEN: SEN support",
                                          "Free school meals", "Not: english as an additional language",
                                          "Persistently absent (10% or more this year)",
                                          "Not: severely absent (50% or more this year)"]


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(UserError) as caught:
        parse(template="walk", v_date="", v_route_name="x" * 101, v_stop_name="{oops}", send_at="2024-01-01T10:00")
    details = caught.value.details
    assert "{date}: give a value (it appears in the message)" in details
    assert "{route_name}: at most 100 characters" in details
    assert "{stop_name}: braces cannot be sent" in details
    assert "{pickup_time}: give a value (it appears in the message)" in details
    assert any("that time has passed" in d for d in details)


@pytest.mark.parametrize("args, words", [
    ({}, "choose a template"),
    ({"template": "Robert'); DROP"}, "no such template"),
    ({"template": "first_day_absence", "v_date": "x", "fsm": "perhaps"}, "the audience filters need fixing"),
    ({"template": "first_day_absence", "v_date": "x", "contacts": "some"}, "cannot be prepared"),
    ({"template": "first_day_absence", "v_date": "x", "sen": "Z"}, "cannot be prepared"),
    ({"template": "first_day_absence", "v_date": "x", "year": "<script>"}, "cannot be prepared"),
    ({"template": "attendance_concern"}, "cannot be prepared"),
    ({"template": "attendance_concern", "since": "2025-03-06"}, "cannot be prepared"),
    ({"template": "first_day_absence", "v_date": "x", "send_at": "2027-01-01T10:00"}, "cannot be prepared"),
])
def test_bad_compose_arguments_are_refused(args: dict[str, str], words: str) -> None:
    with pytest.raises(UserError) as caught:
        parse(**args)
    assert words in caught.value.message


def test_days_missed_is_not_asked_for_but_counted_from_a_date() -> None:
    req = parse(template="attendance_concern", since="2024-09-01")
    assert req.values == () and req.since == date(2024, 9, 1)


def test_episode_key_is_stable_for_the_same_review_and_changes_with_it() -> None:
    req = parse(template="first_day_absence", year=["5"], v_date="Wednesday 5 March")
    key = req.episode_key("7:2025-03-01T10:00:00", date(2025, 3, 5))
    assert key == parse(template="first_day_absence", year=["5"], v_date="Wednesday  5 March").episode_key(
        "7:2025-03-01T10:00:00", date(2025, 3, 5))  # the same words, spaced differently
    assert key.startswith("page:") and len(key) == 37
    others = {
        parse(template="first_day_absence", year=["4"], v_date="Wednesday 5 March").episode_key("7:2025-03-01T10:00:00", date(2025, 3, 5)),
        parse(template="first_day_absence", year=["5"], v_date="Thursday 6 March").episode_key("7:2025-03-01T10:00:00", date(2025, 3, 5)),
        req.episode_key("7:2025-03-04T16:00:00", date(2025, 3, 5)),  # the template was edited
        req.episode_key("7:2025-03-01T10:00:00", date(2025, 3, 6)),  # another day
    }
    assert key not in others and len(others) == 4
    assert review_fingerprint(["b", "a"]) == review_fingerprint(["a", "b"]) != review_fingerprint(["a"])


def test_times_typed_on_the_wall_clock_across_the_clock_changes() -> None:
    # 30 March 2025: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist and means 02:30 BST.
    gap = london_wall_time(datetime(2025, 3, 30, 1, 30), LONDON)
    assert gap.astimezone(timezone.utc) == datetime(2025, 3, 30, 1, 30, tzinfo=timezone.utc)
    assert gap.astimezone(LONDON).hour == 2
    assert london_wall_time(datetime(2025, 3, 30, 9, 0), LONDON).astimezone(timezone.utc).hour == 8  # BST
    # 26 October 2025: 01:30 happens twice; the first (BST) pass is meant.
    twice = london_wall_time(datetime(2025, 10, 26, 1, 30), LONDON)
    assert twice.astimezone(timezone.utc) == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)
    assert london_wall_time(datetime(2025, 10, 27, 9, 0), LONDON).astimezone(timezone.utc).hour == 9  # GMT
    assert london_midnight_utc(date(2025, 3, 31)) == datetime(2025, 3, 30, 23, 0, tzinfo=timezone.utc)
    assert london_midnight_utc(date(2025, 10, 27)) == datetime(2025, 10, 27, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed, digits", [
    ("07700 900123", "447700900123"), ("+44 7700 900123", "447700900123"), ("0044 7700", "447700"),
    ("900123", "900123"), ("(0)7700-900", "447700900"), ("", None), ("abc", None),
])
def test_phone_search_digits(typed: str, digits: str | None) -> None:
    assert phone_digits(typed) == digits


def test_masked_numbers() -> None:
    assert mask_phone("+447700900123") == "•" * 10 + "123"
    assert "7700" not in mask_phone("+447700900123") and mask_phone(None) == "" and mask_phone("12") == "••"


def test_every_status_has_words_and_errors_are_explained() -> None:
    assert set(STATUS_LABELS) == set(OUTBOX_STATUSES)
    assert status_label("undelivered").word == "Not delivered" and status_label("blocked").tone == "off"
    assert "switched off" in explain_error(30003)
    assert "not a mobile" in explain_error(21614)
    assert "START" in explain_error(21610)
    assert "tries again" in explain_error(503)
    assert "twilio.com/docs/api/errors/12345" in explain_error(12345)
    assert explain_error(None) is None
