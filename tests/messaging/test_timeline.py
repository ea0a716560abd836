"""Messages and replies on the case timeline: the "messages" and "replies" sources that
outreach/messaging/timeline.py registers with the interventions timeline, on the real database
(the JSON pupil match is done in SQL per dialect, so this runs on SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from outreach.extensions import db
from outreach.interventions import queries
from outreach.messaging import services
from outreach.messaging.compose import OutgoingMessage
from outreach.messaging.models import InboxMessage
from outreach.messaging.staff_services import set_inbox_done
from outreach.messaging.outbox import enqueue
from outreach.schools.models import School
from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401 (fixtures)
from tests.dashboard.world import World, signed_in_client
from tests.factories import make_contact, make_pupil, make_school

SENT = datetime(2024, 11, 11, 8, 40, tzinfo=timezone.utc)


def _text(school: School, contact, pupils, key: str, body: str, *, at: datetime = SENT):
    return enqueue(OutgoingMessage(school_id=school.id, contact_id=contact.id, phone=contact.phone, body=body,
                                   language="en", purpose="first_day_absence", pupil_ids=tuple(p.id for p in pupils),
                                   not_before_utc=at, idempotency_key=key), created_by="Ms Office", commit=True)


def _sent(row, sid: str) -> None:
    """What the sender stores when Twilio accepts a text (the status callbacks then move it on)."""
    row.status, row.twilio_sid, row.sent_at, row.attempts = "sent", sid, SENT, 1
    db.session.commit()


def _case(school: School):
    amira, zain, other = (make_pupil(school, forename=n) for n in ("Amira", "Zain", "Other"))
    mum = make_contact(school, [amira, zain], name="Mrs Khan", phone="+447700900111")
    dad = make_contact(school, [other], name="Mr Jones", phone="+447700900222")
    db.session.commit()
    both = _text(school, mum, [amira, zain], "k1", "Amira and Zain are not in school today.")
    _sent(both, "SMdeliv1")
    services.apply_status_callback("SMdeliv1", "delivered", outbox_id=both.id, now=SENT + timedelta(minutes=1))
    theirs = _text(school, dad, [other], "k2", "Other is not in school today.")
    _sent(theirs, "SMfail2")
    services.apply_status_callback("SMfail2", "undelivered", error_code=30005, outbox_id=theirs.id,
                                   now=SENT + timedelta(minutes=1))
    services.receive_inbound("SMin1", mum.phone, "Amira has a temperature, back tomorrow",
                             now=SENT + timedelta(minutes=20))
    services.receive_inbound("SMin2", dad.phone, "Sorry he overslept", now=SENT + timedelta(minutes=25))
    return amira, zain, other


def test_timeline_shows_messages_about_the_pupil_and_replies_linked_to_them(db) -> None:
    school = make_school()
    amira, zain, other = _case(school)
    events = queries.case_timeline(school.id, amira.id, sources=["messages", "replies"])
    assert [(e.kind, e.title) for e in events] == [
        ("message", "Text to Mrs Khan (delivered): first day absence"),
        ("reply", "Reply from Mrs Khan"),
    ]
    assert events[0].detail == "Amira and Zain are not in school today."
    assert events[0].by == "Ms Office" and events[1].detail == "Amira has a temperature, back tomorrow"
    assert events[1].at == SENT + timedelta(minutes=20)
    # the sibling covered by the same text sees it too; the other family's pupil sees only theirs
    assert [e.kind for e in queries.case_timeline(school.id, zain.id, sources=["messages", "replies"])] == \
        ["message", "reply"]
    theirs = queries.case_timeline(school.id, other.id, sources=["messages", "replies"])
    assert [e.title for e in theirs] == ["Text to Mr Jones (not delivered): first day absence", "Reply from Mr Jones"]
    assert "no longer in use" in theirs[0].detail  # the error explained in words
    assert "Amira" not in " ".join(e.detail or "" for e in theirs)
    # once an officer has dealt with the reply, the timeline says who (the reply itself is the family's)
    [item] = db.session.scalars(select(InboxMessage).where(InboxMessage.phone == "+447700900111"))
    set_inbox_done(school, item.id, True, by="Ms Office")
    [reply] = queries.case_timeline(school.id, amira.id, sources=["replies"])
    assert reply.title == "Reply from Mrs Khan (dealt with by Ms Office)" and reply.by is None


def test_another_schools_messages_are_not_on_the_timeline(db) -> None:
    school, elsewhere = make_school(), make_school(urn="100009", name="Elm School")
    amira, _, _ = _case(school)
    # pupil ids are unique, but a row of another school naming this id must still not show
    stranger = make_contact(elsewhere, [make_pupil(elsewhere)], name="Ms Else", phone="+447700900333")
    db.session.commit()
    enqueue(OutgoingMessage(school_id=elsewhere.id, contact_id=stranger.id, phone=stranger.phone, body="Elsewhere",
                            language="en", purpose="first_day_absence", pupil_ids=(amira.id,), not_before_utc=SENT,
                            idempotency_key="k3"), commit=True)
    assert [e.detail for e in queries.case_timeline(school.id, amira.id, sources=["messages"])] == \
        ["Amira and Zain are not in school today."]
    assert queries.case_timeline(elsewhere.id, amira.id, sources=["replies"]) == []


def test_the_sources_are_registered_at_start_up_and_the_page_shows_them(app: Flask, world: World) -> None:
    assert {"messages", "replies"} <= set(queries.timeline_sources())
    school = world.schools["A"]
    pupil, other = world.pupils["A"][1], world.pupils["A"][2]
    mum = make_contact(school, [pupil], name="Mrs Page", phone="+447700900444")
    db.session.commit()
    _text(school, mum, [pupil], "page1", "Checking in about this morning.", at=datetime.now(timezone.utc))
    services.receive_inbound("SMpage1", mum.phone, "Thanks, all fine now")
    officer = signed_in_client(app, world.email("officer"))
    page = officer.get(f"/schools/{school.urn}/pupils/{pupil.id}/timeline").get_data(as_text=True)
    assert "Text to Mrs Page (waiting to send): first day absence" in page
    assert "Checking in about this morning." in page and "Reply from Mrs Page" in page and "Thanks, all fine now" in page
    elsewhere = officer.get(f"/schools/{school.urn}/pupils/{other.id}/timeline").get_data(as_text=True)
    assert "Mrs Page" not in elsewhere and "Thanks, all fine now" not in elsewhere
