"""The sender against the fake Twilio, through the real ``twilio`` client over loopback HTTP."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.messaging.gateways import ConsoleGateway, SendRequest, TwilioGateway, gateway_for
from outreach.messaging.jobs import enqueue_rule_texts, send_due_messages
from outreach.messaging.models import OptOut, OutboxMessage
from outreach.messaging.outbox import enqueue
from outreach.messaging.quiet_hours_settings import set_quiet_hours
from outreach.messaging.sender import Sender, SenderSettings, send_due
from outreach.schools.models import Contact
from tests.factories import make_contact, make_pupil
from tests.messaging.conftest import PUBLIC_BASE, enqueue_test_messages, outgoing


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_due_messages_are_sent_once_with_sid_and_status_callback(app, open_school, twilio_config, fake_twilio):
    ids = enqueue_test_messages(open_school, 5)
    report = send_due_messages()
    assert (report.claimed, report.sent) == (5, 5)
    sent = fake_twilio.sent()
    assert len(sent) == 5
    by_body = {m.body: m for m in sent}
    for row in rows():
        remote = by_body[row.body]
        assert row.status == "sent" and row.twilio_sid == remote.sid and row.attempts == 1
        assert remote.to == row.phone and remote.from_ == fake_twilio.from_number
        assert remote.status_callback == f"{PUBLIC_BASE}/webhooks/twilio/status/{row.id}"
    assert sorted(r.id for r in rows()) == sorted(ids)
    # A second pass finds nothing due and sends nothing.
    assert send_due_messages().claimed == 0
    assert len(fake_twilio.sent()) == 5


def test_messaging_service_sid_is_used_when_configured(app, open_school, twilio_config, fake_twilio):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = "MG" + "a" * 32
    enqueue_test_messages(open_school, 1)
    send_due_messages()
    (remote,) = fake_twilio.sent()
    assert remote.messaging_service_sid == "MG" + "a" * 32


def test_future_and_blocked_rows_are_not_sent(app, open_school, twilio_config, fake_twilio):
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    enqueue_test_messages(open_school, 2, not_before=later, prefix="later")
    db.session.add(OptOut(phone="+447700900000", keyword="STOP"))
    db.session.commit()
    enqueue_test_messages(open_school, 1, prefix="now")  # phone +447700900000: opted out at enqueue
    assert send_due_messages().claimed == 0
    assert fake_twilio.sent() == []
    statuses = sorted(r.status for r in rows())
    assert statuses == ["blocked", "scheduled", "scheduled"]


def test_opt_out_after_enqueue_is_checked_again_at_send_time(app, open_school, twilio_config, fake_twilio):
    enqueue_test_messages(open_school, 2)
    db.session.add(OptOut(phone="+447700900001", keyword="STOP"))  # arrives after the rows were made
    db.session.commit()
    report = send_due_messages()
    assert (report.sent, report.blocked) == (1, 1)
    assert [m.to for m in fake_twilio.sent()] == ["+447700900000"]
    assert {r.phone: r.status for r in rows()} == {"+447700900000": "sent", "+447700900001": "blocked"}


def test_duplicate_enqueue_makes_one_row_and_one_text(app, open_school, twilio_config, fake_twilio):
    message = outgoing(open_school, 1)[0]
    first = enqueue(message, commit=True)
    second = enqueue(message, commit=True)
    assert first.id == second.id
    send_due_messages()
    send_due_messages()
    assert len(rows()) == 1 and len(fake_twilio.sent()) == 1


@pytest.mark.parametrize("failure", [{"status": 429}, {"status": 500}, {"status": 503}, {"code": 30003}])
def test_transient_failures_are_retried_with_backoff(app, open_school, twilio_config, fake_twilio, failure):
    enqueue_test_messages(open_school, 1)
    fake_twilio.fail_next(2, **failure)
    start = datetime.now(timezone.utc)
    first = send_due_messages(now=start)
    assert (first.retried, first.sent) == (1, 0)
    (row,) = rows()
    assert row.status == "scheduled" and row.attempts == 1
    # Twilio's own code for the failure (20429 too many requests, 20500 server error, 30003).
    assert row.error_code == {429: 20429, 500: 20500, 503: 20500}.get(failure.get("status"), failure.get("code"))
    assert abs((row.next_attempt_at.replace(tzinfo=timezone.utc) - start).total_seconds() - 30) < 1
    # Not due again until the backoff has passed.
    assert send_due_messages(now=start + timedelta(seconds=29)).claimed == 0
    second = send_due_messages(now=start + timedelta(seconds=31))
    assert second.retried == 1
    (row,) = rows()
    assert row.attempts == 2
    assert abs((row.next_attempt_at.replace(tzinfo=timezone.utc) - (start + timedelta(seconds=31))).total_seconds() - 60) < 1
    third = send_due_messages(now=start + timedelta(seconds=92))
    assert third.sent == 1
    (row,) = rows()
    assert row.status == "sent" and row.attempts == 3 and row.error_code is None
    assert len(fake_twilio.sent()) == 1


def test_retries_stop_after_max_attempts(app, open_school, twilio_config, fake_twilio):
    enqueue_test_messages(open_school, 1)
    fake_twilio.fail_next(10, status=500)
    moment = datetime.now(timezone.utc)
    for _ in range(4):  # SMS_MAX_ATTEMPTS is 4 in these tests
        send_due_messages(now=moment)
        moment += timedelta(hours=2)
    (row,) = rows()
    assert row.status == "failed" and row.attempts == 4
    assert send_due_messages(now=moment).claimed == 0


@pytest.mark.parametrize("code", [21211, 21614, 21408])
def test_bad_numbers_fail_without_retry_and_mark_the_contact(app, open_school, twilio_config, fake_twilio, code):
    pupil = make_pupil(open_school)
    contact = make_contact(open_school, [pupil], phone="+447700900555")
    other = make_contact(open_school, [], name="Same phone, other record", phone="+447700900555")
    db.session.commit()
    enqueue_test_messages(open_school, 1, phone="+447700900555", contact_id=contact.id, prefix="a")
    later = datetime.now(timezone.utc) + timedelta(minutes=30)
    enqueue_test_messages(open_school, 1, phone="+447700900555", contact_id=contact.id, prefix="b", not_before=later)
    fake_twilio.fail_number("+447700900555", code)
    report = send_due_messages()
    assert (report.failed, report.retried) == (1, 0)
    first, second = rows()
    assert first.status == "failed" and first.error_code == code and first.attempts == 1
    assert second.status == "failed" and "invalid" in second.error_message  # not sent into the same error
    db.session.expire_all()
    assert str(code) in db.session.get(Contact, contact.id).phone_invalid_reason
    assert db.session.get(Contact, other.id).phone_invalid_reason is not None
    assert send_due_messages(now=datetime.now(timezone.utc) + timedelta(days=1)).claimed == 0
    assert fake_twilio.sent() == []


def test_unsubscribed_number_21610_is_recorded_as_an_opt_out(app, open_school, twilio_config, fake_twilio):
    contact = make_contact(open_school, [], phone="+447700900556")
    db.session.commit()
    enqueue_test_messages(open_school, 1, phone="+447700900556", contact_id=contact.id)
    fake_twilio.fail_number("+447700900556", 21610)
    assert send_due_messages().failed == 1
    (row,) = rows()
    assert row.status == "failed" and row.error_code == 21610
    assert db.session.get(OptOut, "+447700900556") is not None
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).phone_invalid_reason is None  # the number is fine; the family said stop


def test_quiet_hours_defer_a_directly_enqueued_row(app, school, twilio_config, fake_twilio):
    set_quiet_hours(school, "20:00-08:00", "sun")
    # Tuesday 1 December 2026, 21:30 London (GMT): quiet until 08:00 on Wednesday.
    evening = datetime(2026, 12, 1, 21, 30, tzinfo=timezone.utc)
    enqueue_test_messages(school, 1, not_before=evening - timedelta(minutes=5))
    report = send_due_messages(now=evening)
    assert (report.deferred, report.sent) == (1, 0)
    (row,) = rows()
    assert row.status == "scheduled" and row.attempts == 0
    assert row.not_before.replace(tzinfo=timezone.utc) == datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
    assert send_due_messages(now=datetime(2026, 12, 2, 8, 0, 30, tzinfo=timezone.utc)).sent == 1


@pytest.mark.parametrize("now, expected", [
    # Saturday 28 March 2026 21:00 GMT -> Monday 30 March 08:00 BST (07:00 UTC): Sunday closed, clocks go forward.
    (datetime(2026, 3, 28, 21, 0, tzinfo=timezone.utc), datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)),
    # Saturday 24 October 2026 20:30 BST (19:30 UTC) -> Monday 26 October 08:00 GMT (08:00 UTC).
    (datetime(2026, 10, 24, 19, 30, tzinfo=timezone.utc), datetime(2026, 10, 26, 8, 0, tzinfo=timezone.utc)),
])
def test_sender_deferral_across_the_clock_changes(app, school, twilio_config, fake_twilio, now, expected):
    set_quiet_hours(school, "20:00-08:00", "sun")
    enqueue_test_messages(school, 1, not_before=now - timedelta(minutes=1))
    assert send_due_messages(now=now).deferred == 1
    (row,) = rows()
    assert row.not_before.replace(tzinfo=timezone.utc) == expected
    assert send_due_messages(now=expected - timedelta(seconds=1)).claimed == 0
    assert send_due_messages(now=expected).sent == 1


def test_a_reply_to_an_inbound_text_is_not_held_by_quiet_hours(app, school, twilio_config, fake_twilio):
    set_quiet_hours(school, "20:00-08:00", "sun")
    evening = datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc)
    (row_id,) = enqueue_test_messages(school, 1, not_before=evening)
    db.session.get(OutboxMessage, row_id).reply_to_sid = "SM" + "b" * 32
    db.session.commit()
    assert send_due_messages(now=evening).sent == 1


def test_rate_limit_is_honoured(app, open_school, twilio_config, fake_twilio):
    app.config["SMS_RATE_PER_SECOND"] = 20.0
    enqueue_test_messages(open_school, 40)
    started = time.monotonic()
    report = send_due_messages()
    elapsed = time.monotonic() - started
    assert report.sent == 40
    times = fake_twilio.create_times
    # 40 at 20 per second: the first is free, the other 39 wait 1/20 s each, less what the
    # limiter's bucket may catch up after a slow first request (a quarter second: 5 at 20/s).
    catch_up = 20 * 0.25
    assert elapsed >= (39 - catch_up) / 20 * 0.97
    span = times[-1] - times[0]
    assert (39 - catch_up) / span <= 20 * 1.05
    # No second-long window at the gateway holds more than the rate (RateLimiter).
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 20


def test_throttled_pass_hands_back_the_rest_of_the_batch(app, open_school, twilio_config, fake_twilio):
    app.config["SMS_SENDER_CONCURRENCY"] = 1
    enqueue_test_messages(open_school, 5)
    fake_twilio.fail_next(1, status=429)
    report = send_due_messages()
    assert report.throttled and report.retried == 1 and report.released == 4
    assert {r.status for r in rows()} == {"scheduled"}
    assert [r.attempts for r in rows()] == [1, 0, 0, 0, 0]
    assert send_due_messages().sent == 4


def test_no_answer_is_reconciled_not_resent(app, open_school, twilio_config, fake_twilio):
    """A timeout after Twilio accepted the message: the row stays queued, and the next pass finds
    the message at Twilio instead of sending it again."""
    app.config["SMS_HTTP_TIMEOUT_SECONDS"] = 0.3
    app.config["SMS_SENDER_CONCURRENCY"] = 1
    enqueue_test_messages(open_school, 1)
    fake_twilio.delay_seconds = 1.0
    start = datetime.now(timezone.utc)
    report = send_due_messages(now=start)
    assert report.unknown == 1
    (row,) = rows()
    assert row.status == "queued" and row.claimed_by is None and row.twilio_sid is None
    fake_twilio.delay_seconds = 0
    app.config["SMS_HTTP_TIMEOUT_SECONDS"] = 5.0
    time.sleep(0.8)  # let the fake finish answering the abandoned request
    assert send_due_messages(now=start + timedelta(seconds=10)).claimed == 0  # backoff not over
    again = send_due_messages(now=start + timedelta(seconds=31))
    assert again.reconciled == 1 and again.sent == 0
    (row,) = rows()
    (remote,) = fake_twilio.sent()
    assert row.status == "sent" and row.twilio_sid == remote.sid


def test_reconcile_sends_when_the_gateway_never_got_it(app, open_school, twilio_config, fake_twilio):
    """A claim by a sender that died before its request: after the lease, the row is sent."""
    (row_id,) = enqueue_test_messages(open_school, 1)
    start = datetime.now(timezone.utc)
    row = db.session.get(OutboxMessage, row_id)
    row.status, row.claimed_by, row.claimed_at, row.attempts = "queued", "elsewhere:1:dead", start, 1
    db.session.commit()
    assert send_due_messages(now=start + timedelta(seconds=60)).claimed == 0  # the lease still holds
    report = send_due_messages(now=start + timedelta(seconds=601))
    assert (report.reconciled, report.sent) == (0, 1)
    (row,) = rows()
    assert row.status == "sent" and row.attempts == 2
    assert len(fake_twilio.sent()) == 1


def test_reconcile_ignores_an_identical_text_another_row_owns(app, open_school, twilio_config, fake_twilio):
    """Two rows with the same phone and body (two days' identical reminders): the SID the first
    owns is never taken for the second."""
    first = enqueue(outgoing(open_school, 1, prefix="same")[0], commit=True)
    send_due_messages()
    second_msg = outgoing(open_school, 1, prefix="same")[0]
    second_msg = type(second_msg)(**{**second_msg.__dict__, "idempotency_key": "same:again"})
    second = enqueue(second_msg, commit=True)
    start = datetime.now(timezone.utc)
    row = db.session.get(OutboxMessage, second.id)
    row.status, row.claimed_by, row.claimed_at, row.attempts = "queued", "elsewhere:1:dead", start, 1
    db.session.commit()
    report = send_due_messages(now=start + timedelta(seconds=601))
    assert (report.reconciled, report.sent) == (0, 1)
    db.session.expire_all()
    a, b = db.session.get(OutboxMessage, first.id), db.session.get(OutboxMessage, second.id)
    assert a.twilio_sid != b.twilio_sid and len(fake_twilio.sent()) == 2


def test_reconcile_of_two_identical_orphans_takes_the_one_sid_once(app, open_school, twilio_config, fake_twilio):
    """A dead sender left two queued rows with the same phone and body; the gateway got one of
    them. The restarted sender's questions about one number go one after another, each excluding
    the SIDs already matched: one row takes the SID, the other is sent, nothing twice."""
    first = enqueue(outgoing(open_school, 1, prefix="twin")[0], commit=True)
    twin_msg = outgoing(open_school, 1, prefix="twin")[0]
    twin = enqueue(type(twin_msg)(**{**twin_msg.__dict__, "idempotency_key": "twin:again"}), commit=True)
    start = datetime.now(timezone.utc)
    for row_id in (first.id, twin.id):
        row = db.session.get(OutboxMessage, row_id)
        row.status, row.claimed_by, row.claimed_at, row.attempts = "queued", "elsewhere:1:dead", start, 1
    db.session.commit()
    gateway_for(app).send(SendRequest(outbox_id=first.id, phone=first.phone, body=first.body))  # accepted, unrecorded
    report = send_due_messages(now=start + timedelta(seconds=601))
    assert (report.reconciled, report.sent) == (1, 1)
    db.session.expire_all()
    a, b = db.session.get(OutboxMessage, first.id), db.session.get(OutboxMessage, twin.id)
    assert {a.status, b.status} == {"sent"}
    assert {a.twilio_sid, b.twilio_sid} == {m.sid for m in fake_twilio.sent()} and len(fake_twilio.sent()) == 2


def test_two_senders_never_take_the_same_row(app, open_school, twilio_config, fake_twilio):
    enqueue_test_messages(open_school, 6)
    gateway = gateway_for(app)
    one = Sender(gateway, SenderSettings.from_app(app))
    two = Sender(gateway, SenderSettings.from_app(app))
    now = datetime.now(timezone.utc)
    first = one._claim(now, 4)
    second = two._claim(now, 4)
    assert len(first) == 4 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}


def test_gateway_choice(app, twilio_config):
    assert isinstance(gateway_for(app), TwilioGateway)
    app.config["TWILIO_AUTH_TOKEN"] = None
    assert isinstance(gateway_for(app), ConsoleGateway)


def test_console_gateway_prints_and_records_sent(app, open_school, capsys):
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)
    enqueue_test_messages(open_school, 2)
    report = send_due(app)
    assert report.sent == 2
    out = capsys.readouterr().out
    assert "msg 0: Oak Tree Primary" in out and "+447700900001" in out
    assert all(r.status == "sent" and r.twilio_sid.startswith("LOCAL") for r in rows())


def test_enqueue_rule_texts_moves_proposed_texts_into_the_outbox(app, open_school):
    from outreach.interventions.models import RuleMessage

    pupil = make_pupil(open_school)
    contact = make_contact(open_school, [pupil], phone="+447700900777")
    db.session.add(RuleMessage(school_id=open_school.id, contact_id=contact.id, phone="+447700900777",
                               body="We missed Sam today.", language="en", purpose="attendance_concern",
                               pupil_ids=[pupil.id], rules=["first_day"], not_before=datetime.now(timezone.utc),
                               idempotency_key="rules:test:1"))
    db.session.commit()
    assert enqueue_rule_texts() == 1
    assert enqueue_rule_texts() == 0
    (row,) = rows()
    assert (row.idempotency_key, row.phone, row.pupil_ids, row.status) == ("rules:test:1", "+447700900777", [pupil.id], "scheduled")
    assert db.session.scalar(select(RuleMessage.enqueued_at)) is not None
