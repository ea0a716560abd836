"""The pure delivery rules: failure classes, backoff, status order, keywords, the token bucket."""
from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.messaging.delivery import (TokenBucket, backoff, classify_failure, keyword, status_after_callback)
from tests.fakes.clock import FakeClock


@pytest.mark.parametrize("status, code, retry", [
    (429, 20429, True), (500, 20500, True), (502, None, True), (503, None, True), (400, 30003, True),
    (400, 21211, False), (400, 21408, False), (400, 21610, False), (400, 21614, False), (400, 21602, False),
    (401, 20003, False),
])
def test_which_failures_are_retried(status, code, retry):
    assert classify_failure(status, code).retry is retry


def test_bad_numbers_and_opt_outs_are_told_apart():
    assert "21211" in classify_failure(400, 21211).bad_number
    assert "21614" in classify_failure(400, 21614).bad_number
    unsubscribed = classify_failure(400, 21610)
    assert unsubscribed.opted_out and unsubscribed.bad_number is None
    assert classify_failure(400, 21602).bad_number is None  # our request was wrong, not the number


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 30).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert backoff(20, 30, cap_seconds=3600) == timedelta(hours=1)
    assert backoff(0) == timedelta(0)


@pytest.mark.parametrize("current, reported, expected", [
    ("sent", "delivered", "delivered"), ("queued", "sent", "sent"), ("sent", "undelivered", "undelivered"),
    ("delivered", "sent", None), ("delivered", "undelivered", None), ("undelivered", "delivered", None),
    ("sent", "sending", None), ("sent", "queued", None), ("failed", "delivered", None),
    ("sent", "something-new", None), ("sent", "DELIVERED", "delivered"), ("sent", "read", "delivered"),
    ("blocked", "delivered", None),
])
def test_status_only_moves_forward(current, reported, expected):
    assert status_after_callback(current, reported) == expected


@pytest.mark.parametrize("body, expected", [
    ("STOP", ("opt_out", "STOP")), ("stop", ("opt_out", "STOP")), ("  Stop  ", ("opt_out", "STOP")),
    ("STOP.", ("opt_out", "STOP")), ("'stop!'", ("opt_out", "STOP")), ("stopall", ("opt_out", "STOPALL")),
    ("Unsubscribe", ("opt_out", "UNSUBSCRIBE")), ("cancel", ("opt_out", "CANCEL")), ("END", ("opt_out", "END")),
    ("quit", ("opt_out", "QUIT")), ("Revoke", ("opt_out", "REVOKE")), ("optout", ("opt_out", "OPTOUT")),
    ("START", ("opt_in", "START")), ("unstop", ("opt_in", "UNSTOP")), ("Yes", ("opt_in", "YES")),
    ("help", ("help", "HELP")), ("HELP?", ("help", "HELP")),
    ("stop please", None), ("please stop", None), ("STOP IT", None), ("", None), ("   ", None),
    ("stopp", None), ("Sam is ill", None), ("opt out", None),
])
def test_keywords(body, expected):
    assert keyword(body) == expected


def test_token_bucket_paces_to_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(21):
        bucket.acquire()
        times.append(clock.now)
    assert times[0] == 100.0
    assert times[-1] - times[0] == pytest.approx(2.0)  # 20 intervals of 0.1 s


def test_token_bucket_does_not_bank_idle_time_beyond_its_capacity():
    clock = FakeClock()
    bucket = TokenBucket(10.0, capacity=3, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 60  # idle for a minute
    start = clock.now
    for _ in range(3):
        bucket.acquire()
    assert clock.now == start  # a burst of 3 is allowed
    bucket.acquire()
    assert clock.now == pytest.approx(start + 0.1)  # then back to the rate


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan")])
def test_token_bucket_refuses_a_nonsense_rate(rate):
    with pytest.raises(ValueError):
        TokenBucket(rate)
