"""Twilio's webhooks over real HTTP: the fake Twilio signs callbacks for the public URL and posts
them to the app on loopback (as if through a proxy)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.messaging import inbound
from outreach.messaging.jobs import send_due_messages
from outreach.messaging.models import InboundMessage, InboxMessage, OptOut, OutboxMessage
from outreach.schools.models import Contact
from tests.factories import make_contact, make_pupil, make_school
from tests.fakes.twilio_server import twilio_signature
from tests.messaging.conftest import PUBLIC_BASE, enqueue_test_messages

INBOUND = f"{PUBLIC_BASE}/webhooks/twilio/inbound"


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.commit()  # end the read: the live server writes to the same database
    return rows


def one_sent(school, fake) -> tuple[OutboxMessage, str]:
    enqueue_test_messages(school, 1)
    send_due_messages()
    (row,) = outbox()
    db.session.commit()
    return row, row.twilio_sid


# --- status callbacks -------------------------------------------------------------------------

def test_status_callbacks_move_the_row_forward(app, open_school, live_app, fake_twilio):
    row, sid = one_sent(open_school, fake_twilio)
    assert fake_twilio.status_callback(sid, "sent") == 204
    assert outbox()[0].status == "sent"
    assert fake_twilio.status_callback(sid, "delivered") == 204
    (row,) = outbox()
    assert (row.status, row.twilio_status) == ("delivered", "delivered") and row.delivered_at is not None


def test_late_and_out_of_order_callbacks_never_move_a_row_back(app, open_school, live_app, fake_twilio):
    row, sid = one_sent(open_school, fake_twilio)
    assert fake_twilio.status_callback(sid, "delivered") == 204
    for late in ("sent", "queued", "sending", "undelivered", "failed"):
        assert fake_twilio.replay_status_callback(sid, late) == 204
    (row,) = outbox()
    assert row.status == "delivered" and row.error_code is None


def test_replayed_status_callback_has_no_second_effect(app, open_school, live_app, fake_twilio):
    row, sid = one_sent(open_school, fake_twilio)
    fake_twilio.status_callback(sid, "delivered")
    first = outbox()[0]
    fake_twilio.replay_status_callback(sid, "delivered")
    again = outbox()[0]
    assert (again.status, again.delivered_at, again.updated_at) == (first.status, first.delivered_at, first.updated_at)


def test_undelivered_30003_is_retried_with_a_new_message(app, open_school, live_app, fake_twilio):
    row, sid = one_sent(open_school, fake_twilio)
    fake_twilio.status_callback(sid, "undelivered", error_code=30003)
    (row,) = outbox()
    assert row.status == "scheduled" and row.twilio_sid is None and row.superseded_sids == [sid]
    assert row.error_code == 30003 and row.next_attempt_at is not None
    # The old message's late reports change nothing now.
    fake_twilio.replay_status_callback(sid, "undelivered", error_code=30003)
    assert outbox()[0].status == "scheduled"
    later = datetime.now(timezone.utc) + timedelta(seconds=31)
    assert send_due_messages(now=later).sent == 1
    (row,) = outbox()
    assert row.status == "sent" and row.twilio_sid not in (None, sid) and row.attempts == 2
    assert len(fake_twilio.sent()) == 2


def test_undelivered_to_a_landline_marks_the_contact(app, open_school, live_app, fake_twilio):
    contact = make_contact(open_school, [], phone="+447700900000")
    db.session.commit()
    row, sid = one_sent(open_school, fake_twilio)
    fake_twilio.status_callback(sid, "undelivered", error_code=30006)
    (row,) = outbox()
    assert row.status == "undelivered" and row.error_code == 30006
    db.session.expire_all()
    assert "30006" in db.session.get(Contact, contact.id).phone_invalid_reason


def test_callback_before_the_sender_saved_the_sid_still_finds_the_row(app, open_school, live_app, fake_twilio):
    """The sender died between Twilio's answer and its commit; the callback URL names the row."""
    (row_id,) = enqueue_test_messages(open_school, 1)
    from outreach.messaging.gateways import SendRequest, gateway_for

    row = db.session.get(OutboxMessage, row_id)
    row.status, row.claimed_by, row.claimed_at, row.attempts = "queued", "dead:1:x", datetime.now(timezone.utc), 1
    db.session.commit()
    result = gateway_for(app).send(SendRequest(row_id, row.phone, row.body,
                                               f"{PUBLIC_BASE}/webhooks/twilio/status/{row_id}"))
    fake_twilio.status_callback(result.sid, "delivered")
    (row,) = outbox()
    assert (row.status, row.twilio_sid) == ("delivered", result.sid)
    # And the reconciler, later, has nothing to do: the row is no longer queued.
    assert send_due_messages(now=datetime.now(timezone.utc) + timedelta(hours=1)).claimed == 0
    assert len(fake_twilio.sent()) == 1


# --- signatures -------------------------------------------------------------------------------

def test_forged_or_missing_signature_is_refused(app, client, open_school, twilio_config, fake_twilio):
    params = {"MessageSid": "SM" + "1" * 32, "From": "+447700900123", "Body": "STOP"}
    assert client.post("/webhooks/twilio/inbound", data=params).status_code == 403
    forged = twilio_signature("not-the-token", INBOUND, params)
    assert client.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": forged}).status_code == 403
    # Signed for another URL (e.g. the app's own host rather than the public one).
    wrong_url = twilio_signature(fake_twilio.auth_token, "http://localhost/webhooks/twilio/inbound", params)
    assert client.post("/webhooks/twilio/inbound", data=params,
                       headers={"X-Twilio-Signature": wrong_url}).status_code == 403
    # A good signature over different parameters (tampered body).
    good = twilio_signature(fake_twilio.auth_token, INBOUND, params)
    tampered = dict(params, Body="START")
    assert client.post("/webhooks/twilio/inbound", data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    status_params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    assert client.post("/webhooks/twilio/status/1", data=status_params).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert db.session.get(OptOut, "+447700900123") is None
    # The genuine request is accepted.
    assert client.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": good}).status_code == 200
    assert db.session.get(OptOut, "+447700900123") is not None


def test_webhooks_refuse_everything_without_an_auth_token(app, client, twilio_config, fake_twilio):
    params = {"MessageSid": "SM" + "1" * 32, "From": "+447700900123", "Body": "hi"}
    good = twilio_signature(fake_twilio.auth_token, INBOUND, params)
    app.config["TWILIO_AUTH_TOKEN"] = None
    assert client.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": good}).status_code == 403


# --- inbound: opt-out words, opt-in, HELP, the inbox ---------------------------------------------

@pytest.mark.parametrize("body", ["STOP", "stop", " Stop ", "STOP.", "StopAll", "UNSUBSCRIBE", "cancel", "End",
                                  "QUIT", "revoke", "OPTOUT", "\nstop!\n"])
def test_opt_out_words(app, open_school, live_app, fake_twilio, body):
    contact = make_contact(open_school, [], phone="+447700900000")
    db.session.commit()
    later = datetime.now(timezone.utc) + timedelta(hours=3)
    enqueue_test_messages(open_school, 2, phone="+447700900000", not_before=later, contact_id=contact.id)
    _, status = fake_twilio.inbound(INBOUND, "+447700900000", body)
    assert status == 200
    db.session.expire_all()
    assert db.session.get(OptOut, "+447700900000") is not None
    assert {r.status for r in outbox()} == {"blocked"}
    assert send_due_messages(now=later + timedelta(minutes=1)).claimed == 0


@pytest.mark.parametrize("body", ["START", "start", "Unstop", "yes"])
def test_opt_in_words_allow_sending_again(app, open_school, live_app, fake_twilio, body):
    fake_twilio.inbound(INBOUND, "+447700900000", "STOP")
    db.session.expire_all()
    assert db.session.get(OptOut, "+447700900000") is not None
    db.session.commit()
    fake_twilio.inbound(INBOUND, "+447700900000", body)
    db.session.expire_all()
    assert db.session.get(OptOut, "+447700900000") is None
    db.session.commit()
    enqueue_test_messages(open_school, 1)
    assert send_due_messages().sent == 1


def test_a_sentence_containing_stop_goes_to_the_inbox(app, open_school, live_app, fake_twilio):
    make_contact(open_school, [], phone="+447700900000")
    db.session.commit()
    fake_twilio.inbound(INBOUND, "+447700900000", "Please stop texting me on Fridays")
    db.session.expire_all()
    assert db.session.get(OptOut, "+447700900000") is None
    assert db.session.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_help_is_answered_with_the_school_contact_details(app, open_school, live_app, fake_twilio):
    open_school.contact_email = "office@oaktree.example"
    make_contact(open_school, [], phone="+447700900000")
    db.session.commit()
    sid, status = fake_twilio.inbound(INBOUND, "+447700900000", "help")
    assert status == 200
    (reply,) = outbox()
    assert reply.reply_to_sid == sid and reply.phone == "+447700900000" and reply.purpose == "help_reply"
    assert "Oak Tree Primary" in reply.body and "01632 960000" in reply.body and "office@oaktree.example" in reply.body
    assert "STOP" in reply.body
    assert send_due_messages().sent == 1
    assert [m.to for m in fake_twilio.sent()] == ["+447700900000"]


def test_unknown_reply_goes_to_the_inbox_of_each_school_with_contact_and_pupils(app, open_school, live_app, fake_twilio):
    other = make_school(urn="100002", name="Elm High")
    p1, p2 = make_pupil(open_school), make_pupil(open_school)
    p3 = make_pupil(other)
    c1 = make_contact(open_school, [p1, p2], phone="+447700900000")
    c2 = make_contact(other, [p3], phone="+447700900000")
    db.session.commit()
    sid, status = fake_twilio.inbound(INBOUND, "+447700900000", "Sam is ill today, back Monday")
    assert status == 200
    db.session.expire_all()
    items = {i.school_id: i for i in db.session.scalars(select(InboxMessage))}
    assert set(items) == {open_school.id, other.id}
    assert (items[open_school.id].contact_id, items[open_school.id].pupil_ids) == (c1.id, sorted([p1.id, p2.id]))
    assert (items[other.id].contact_id, items[other.id].pupil_ids) == (c2.id, [p3.id])
    assert items[open_school.id].body == "Sam is ill today, back Monday" and items[open_school.id].status == "new"
    assert db.session.scalar(select(InboundMessage.kind)) == "inbox"


def test_reply_from_an_unknown_number_goes_to_the_unassigned_inbox(app, live_app, fake_twilio):
    fake_twilio.inbound(INBOUND, "+447700900321", "who is this?")
    db.session.expire_all()
    (item,) = db.session.scalars(select(InboxMessage))
    assert item.school_id is None and item.contact_id is None and item.pupil_ids == []


def test_replayed_inbound_webhook_has_no_second_effect(app, open_school, live_app, fake_twilio):
    make_contact(open_school, [], phone="+447700900000")
    db.session.commit()
    sid, _ = fake_twilio.inbound(INBOUND, "+447700900000", "HELP")
    fake_twilio.inbound(INBOUND, "+447700900000", "HELP", sid=sid)
    sid2, _ = fake_twilio.inbound(INBOUND, "+447700900000", "running late")
    fake_twilio.inbound(INBOUND, "+447700900000", "running late", sid=sid2)
    assert fake_twilio.callback_results == [200, 200, 200, 200]
    assert len(outbox()) == 1  # one HELP answer
    assert db.session.scalar(select(func.count()).select_from(InboxMessage)) == 1
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 2


def test_registered_handler_claims_a_reply_and_answers_through_the_outbox(app, open_school, live_app, fake_twilio):
    pupil = make_pupil(open_school)
    contact = make_contact(open_school, [pupil], phone="+447700900000")
    db.session.commit()
    seen = []

    def ambassador(sms: inbound.InboundSms):
        seen.append(sms)
        if sms.body.strip().upper() != "YES WALK":
            return None
        return inbound.InboundOutcome(handler="walking_bus", reply="Thanks, see you at 8:15.", summary="confirmed",
                                      school_id=open_school.id, contact_id=contact.id, pupil_ids=(pupil.id,))

    inbound.register_inbound_handler("test_ambassador", ambassador)
    try:
        sid, _ = fake_twilio.inbound(INBOUND, "+447700900000", "yes walk")
        fake_twilio.inbound(INBOUND, "+447700900000", "something else")
    finally:
        inbound._HANDLERS[:] = [h for h in inbound._HANDLERS if h[1] != "test_ambassador"]
    assert seen[0].school_ids == (open_school.id,) and seen[0].contact_ids == (contact.id,)
    (reply,) = outbox()
    assert (reply.body, reply.reply_to_sid, reply.pupil_ids) == ("Thanks, see you at 8:15.", sid, [pupil.id])
    kinds = dict(db.session.execute(select(InboundMessage.body, InboundMessage.kind)).all())
    assert kinds == {"yes walk": "handler", "something else": "inbox"}
    assert db.session.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_handler_can_also_send_to_the_inbox(app, open_school, live_app, fake_twilio):
    pupil = make_pupil(open_school)
    make_contact(open_school, [pupil], phone="+447700900000")
    db.session.commit()

    def puzzled(sms):
        return inbound.InboundOutcome(handler="walking_bus", to_inbox=True, summary="not understood",
                                      school_id=open_school.id, pupil_ids=(pupil.id,))

    inbound.register_inbound_handler("test_puzzled", puzzled)
    try:
        fake_twilio.inbound(INBOUND, "+447700900000", "maybe tomorrow?")
    finally:
        inbound._HANDLERS[:] = [h for h in inbound._HANDLERS if h[1] != "test_puzzled"]
    db.session.expire_all()
    (item,) = db.session.scalars(select(InboxMessage))
    assert (item.handler, item.summary, item.pupil_ids) == ("walking_bus", "not understood", [pupil.id])


def test_missing_fields_are_a_clear_400_not_a_500(app, client, twilio_config, fake_twilio):
    params = {"Body": "hi"}
    sig = twilio_signature(fake_twilio.auth_token, INBOUND, params)
    response = client.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 400
