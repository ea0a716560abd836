"""The messaging pages through the test client on a real database: outbox, message detail and
cancel, compose with its review and idempotent confirm, inbox, templates, opt-outs; who may
see and who may change (heads and trust leads read, officers and admins write)."""
from __future__ import annotations

import io
import re
from html import unescape
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from outreach.core.timeutil import LONDON, london_today, to_london
from outreach.extensions import db
from outreach.messaging.compose import OutgoingMessage
from outreach.messaging.gateways import ConsoleGateway
from outreach.messaging.models import InboxMessage, MessageTemplate, OutboxMessage
from outreach.messaging.outbox import enqueue_many
from outreach.messaging.quiet_hours import next_allowed_send
from outreach.messaging.quiet_hours_settings import policy_for_school, set_quiet_hours
from outreach.messaging.sender import send_due
from outreach.messaging.services import receive_inbound
from outreach.messaging.templates import ensure_default_templates
from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401 (fixtures)
from tests.dashboard.world import World, csrf_token, signed_in_client
from tests.factories import make_contact
from tests.messaging.families import DAD, GRAN, MUM, add_families



@pytest.fixture()
def officer(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.email("officer"))


@pytest.fixture()
def head(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.email("head"))


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def text_of(response: Any) -> str:
    """The page's visible text with tags removed and spaces collapsed (for readable asserts)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html(response))).split())


def post(client: FlaskClient, url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kw: Any) -> Any:
    token = csrf_token(client, "/account")
    if isinstance(data, list):
        return client.post(url, data=MultiDict([("csrf_token", token)] + data), **kw)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kw)


def rows(school_id: int | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if school_id is not None:
        stmt = stmt.where(OutboxMessage.school_id == school_id)
    return list(db.session.scalars(stmt))


def message(school, n: int, *, phone: str, status: str = "scheduled", purpose: str = "general",
            due: datetime | None = None, **fields: Any) -> OutboxMessage:
    row = enqueue_many([OutgoingMessage(school_id=school.id, contact_id=fields.pop("contact_id", None), phone=phone,  # type: ignore[arg-type]
                                        body=f"Message {n} from {school.name}. Reply STOP to opt out", language="en",
                                        purpose=purpose, pupil_ids=tuple(fields.pop("pupil_ids", ())),
                                        not_before_utc=due or datetime.now(timezone.utc) + timedelta(hours=1),
                                        idempotency_key=f"test:{school.id}:{n}")])[0]
    row.status = status
    for key, value in fields.items():
        setattr(row, key, value)
    db.session.commit()
    return row


# --- outbox -----------------------------------------------------------------------------------

def test_outbox_lists_filters_and_counts_in_words(world: World, officer: FlaskClient) -> None:
    a, b = world.schools["A"], world.schools["B"]
    mum = make_contact(a, world.pupils["A"][:1], name="Fatima Khan", phone=MUM)
    message(a, 1, phone=MUM, contact_id=mum.id, purpose="first_day_absence")
    message(a, 2, phone=DAD, status="delivered", purpose="general")
    message(a, 3, phone=DAD, status="failed", purpose="general", error_code=21614)
    message(a, 4, phone=GRAN, status="blocked", due=datetime(2025, 3, 30, 9, tzinfo=timezone.utc))
    message(b, 5, phone=MUM)  # another school's: never on A's page

    page = officer.get(f"/schools/{a.urn}/messages")
    assert page.status_code == 200
    text = text_of(page)
    for words in ("Waiting to send 1", "Delivered 1", "Failed 1", "Blocked 1", "All 4", "Fatima Khan", "07700 900001"):
        assert words in text, words
    assert "Message 5" not in text and "Message 1 from Ash Primary" in text

    failed = text_of(officer.get(f"/schools/{a.urn}/messages?status=failed"))
    assert "Message 3" in failed and "Message 2" not in failed and "error 21614" in failed
    assert "Delivered 1" in failed  # the tabs keep counting every status under the other filters
    by_purpose = text_of(officer.get(f"/schools/{a.urn}/messages?purpose=first_day_absence"))
    assert "Message 1" in by_purpose and "Message 2" not in by_purpose and "All 1" in by_purpose
    by_phone = text_of(officer.get(f"/schools/{a.urn}/messages?phone=07700+900002"))
    assert "Message 2" in by_phone and "Message 3" in by_phone and "Message 1" not in by_phone
    last_digits = text_of(officer.get(f"/schools/{a.urn}/messages?phone=003"))
    assert "Message 4" in last_digits and "All 1" in last_digits
    # Due dates are London days: 30 March 2025 (the clock change) 09:00 UTC is 10:00 BST that day.
    dated = text_of(officer.get(f"/schools/{a.urn}/messages?from=2025-03-30&to=2025-03-30"))
    assert "Message 4" in dated and "30 Mar 2025, 10:00" in dated and "All 1" in dated
    assert "Message 4" not in text_of(officer.get(f"/schools/{a.urn}/messages?from=2025-03-31"))


def test_outbox_pages_and_bad_filters_say_why(world: World, officer: FlaskClient) -> None:
    a = world.schools["A"]
    now = datetime.now(timezone.utc)
    for n in range(55):
        message(a, n, phone=f"+4477009{n:05d}", due=now + timedelta(minutes=n))
    first, second = officer.get(f"/schools/{a.urn}/messages"), officer.get(f"/schools/{a.urn}/messages?page=2")
    assert "Page 1 of 2 (55 in all)" in text_of(first) and "Message 54 " in text_of(first)
    assert "Message 0 " in text_of(second) and "Message 54 " not in text_of(second)
    for query, words in (("status=sending-ish", "unknown status"), ("from=2025-13-01", "From must be a date"),
                         ("from=2025-03-02&to=2025-03-01", "the From date is after the To date"),
                         ("phone=abc", "by its digits")):
        response = officer.get(f"/schools/{a.urn}/messages?{query}")
        assert response.status_code == 400, query
        assert words.lower() in text_of(response).lower(), query


def test_read_roles_see_masked_numbers_and_no_write_controls(world: World, head: FlaskClient) -> None:
    a = world.schools["A"]
    row = message(a, 1, phone=MUM)
    text = text_of(head.get(f"/schools/{a.urn}/messages"))
    assert "•••••••••001" in text and "07700 900001" not in text and MUM not in text
    assert "Compose a message" not in text
    detail = head.get(f"/schools/{a.urn}/messages/{row.id}")
    assert detail.status_code == 200 and "Cancel this message" not in html(detail)
    assert head.get(f"/schools/{a.urn}/messages/compose").status_code == 403
    assert post(head, f"/schools/{a.urn}/messages/{row.id}/cancel").status_code == 403
    assert db.session.get(OutboxMessage, row.id).status == "scheduled"


def test_message_detail_explains_the_error_and_shows_attempts(world: World, officer: FlaskClient) -> None:
    a, b = world.schools["A"], world.schools["B"]
    pupil = world.pupils["A"][0]
    row = message(a, 1, phone=MUM, status="undelivered", error_code=30003, attempts=3, twilio_sid="SM" + "a" * 32,
                  superseded_sids=["SM" + "b" * 32], twilio_status="undelivered", pupil_ids=[pupil.id],
                  error_message="Twilio reported undelivered (30003)")
    text = text_of(officer.get(f"/schools/{a.urn}/messages/{row.id}"))
    assert "Not delivered" in text and "Attempts 3" in text and "SM" + "a" * 32 in text and "SM" + "b" * 32 in text
    assert "30003 : The handset was unreachable" in text
    assert f"{pupil.forename} {pupil.surname}" in text
    other = message(b, 2, phone=MUM)
    # B's message through A's address, and ids that do not exist: the same 404.
    assert officer.get(f"/schools/{a.urn}/messages/{other.id}").status_code == 404
    assert officer.get(f"/schools/{a.urn}/messages/99999999").status_code == 404
    assert officer.get(f"/schools/{a.urn}/messages/{2**40}").status_code == 404


def test_cancel_a_scheduled_message_but_never_one_on_its_way(app: Flask, world: World, officer: FlaskClient) -> None:
    a = world.schools["A"]
    waiting = message(a, 1, phone=MUM)
    response = post(officer, f"/schools/{a.urn}/messages/{waiting.id}/cancel", follow_redirects=True)
    assert "The message is cancelled and will not be sent." in text_of(response)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, waiting.id).status == "cancelled"
    again = post(officer, f"/schools/{a.urn}/messages/{waiting.id}/cancel", follow_redirects=True)
    assert again.status_code == 200 and "Cancelled" in text_of(again)  # a second cancel is harmless

    set_quiet_hours(a, "none", "")
    due = message(a, 2, phone=DAD, due=datetime.now(timezone.utc) - timedelta(minutes=1))
    app.config["SMS_GATEWAY"] = "console"
    report = send_due(app, gateway=ConsoleGateway(io.StringIO()), max_seconds=10)
    assert report.sent == 1
    refused = post(officer, f"/schools/{a.urn}/messages/{due.id}/cancel", follow_redirects=True)
    assert "Not cancelled: this message cannot be cancelled: it is sent." in text_of(refused)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, due.id).status == "sent"


def test_cancel_without_csrf_token_changes_nothing(world: World, officer: FlaskClient) -> None:
    a = world.schools["A"]
    row = message(a, 1, phone=MUM)
    assert officer.post(f"/schools/{a.urn}/messages/{row.id}/cancel").status_code == 400
    assert db.session.get(OutboxMessage, row.id).status == "scheduled"


# --- compose ----------------------------------------------------------------------------------

@pytest.fixture()
def families(world: World) -> dict[str, Any]:
    return add_families(world)


def review_args(**extra: Any) -> list[tuple[str, str]]:
    args = [("template", "first_day_absence"), ("year", "5"), ("year", "3"), ("v_date", "Wednesday 5 March")]
    return args + [(k, v) for k, v in extra.items()]


def test_compose_review_shows_counts_exclusions_siblings_and_samples(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    start = officer.get(f"/schools/{a.urn}/messages/compose")
    assert start.status_code == 200 and "first_day_absence" in html(start)
    form = officer.get(f"/schools/{a.urn}/messages/compose?template=first_day_absence")
    assert 'name="v_date"' in html(form) and 'name="year"' in html(form) and 'value="5K"' in html(form)

    response = officer.get(f"/schools/{a.urn}/messages/compose/review", query_string=review_args())
    assert response.status_code == 200, text_of(response)[:2000]
    text = text_of(response)
    assert "2 messages (one per phone)" in text  # the Khans (merged) and the Nowaks
    assert "3 pupils covered" in text and "1 sibling message" in text
    assert "3 pupils not reached" in text and "3 contacts left out" in text
    assert "Hello Fatima Khan, Amira and Yusuf did not arrive at school today (Wednesday 5 March)" in text
    assert "Sam Shaw" in text and "Has not consented to text messages" in text
    assert "Pat Reid" in text and "Replied STOP" in text
    assert "Lee Ode" in text and "Phone number marked invalid" in text
    assert "1 contact will get the English text" in text  # no Polish version of the template
    assert "Year groups: 3, 5" in text
    assert rows() == [] or all(r.purpose != "first_day_absence" for r in rows())  # a review writes nothing


def test_confirm_enqueues_once_even_when_confirmed_twice(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    review = officer.get(f"/schools/{a.urn}/messages/compose/review", query_string=review_args())
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html(review))
    data = [(k, v) for k, v in fields if k != "csrf_token"]
    assert ("fingerprint", "") not in data and any(k == "fingerprint" for k, _ in data)

    sent = post(officer, f"/schools/{a.urn}/messages/compose/send", data, follow_redirects=True)
    assert "2 messages added to the outbox." in text_of(sent)
    first = [r for r in rows(a.id) if r.purpose == "first_day_absence"]
    assert len(first) == 2 and {r.status for r in first} == {"scheduled"}
    assert all(r.created_by == "officer@example.org" for r in first)
    khan = next(r for r in first if r.phone == MUM)
    assert sorted(khan.pupil_ids) == sorted([families["amira"].id, families["yusuf"].id])

    again = post(officer, f"/schools/{a.urn}/messages/compose/send", data, follow_redirects=True)
    assert "already in the outbox from an earlier confirm: nothing new was added" in text_of(again)
    assert len([r for r in rows(a.id) if r.purpose == "first_day_absence"]) == 2


def test_confirm_refuses_when_recipients_changed_since_the_review(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    review = officer.get(f"/schools/{a.urn}/messages/compose/review", query_string=review_args())
    data = [(k, v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html(review))
            if k != "csrf_token"]
    receive_inbound("SM" + "1" * 32, DAD, "stop")  # the Polish dad opts out meanwhile
    changed = post(officer, f"/schools/{a.urn}/messages/compose/send", data)
    assert changed.status_code == 409
    text = text_of(changed)
    assert "The recipients changed" in text and "1 message (one per phone)" in text
    assert not [r for r in rows(a.id) if r.purpose == "first_day_absence"]
    forged = [(k, "0" * 24 if k == "fingerprint" else v) for k, v in data]
    assert post(officer, f"/schools/{a.urn}/messages/compose/send", forged).status_code == 409
    assert not [r for r in rows(a.id) if r.purpose == "first_day_absence"]


def test_review_says_when_quiet_hours_hold_messages_back(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    tomorrow = london_today() + timedelta(days=1)
    late = f"{tomorrow.isoformat()}T21:30"
    text = text_of(officer.get(f"/schools/{a.urn}/messages/compose/review", query_string=review_args(send_at=late)))
    asked = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 21, 30, tzinfo=LONDON)
    expected = to_london(next_allowed_send(asked.astimezone(timezone.utc), policy_for_school(a.id)))
    assert expected.hour == 8
    assert f"From {expected:%A} {expected.day} {expected:%B %Y} at 08:00 UK time, held back by the school's quiet hours" in text


def test_compose_errors_are_shown_and_nothing_is_sent(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    url = f"/schools/{a.urn}/messages/compose/review"
    missing = officer.get(url, query_string=[("template", "first_day_absence"), ("v_date", "")])
    assert missing.status_code == 400 and "{date}: give a value" in text_of(missing)
    unknown = officer.get(url, query_string=[("template", "no_such_thing")])
    assert unknown.status_code == 400 and "no such template at this school" in text_of(unknown).lower()
    past = officer.get(url, query_string=review_args(send_at="2020-01-01T09:00"))
    assert past.status_code == 400 and "that time has passed" in text_of(past)
    concern = officer.get(url, query_string=[("template", "attendance_concern"), ("since", "tomorrow")])
    assert concern.status_code == 400 and "is not a date" in text_of(concern)
    bad_tri = officer.get(url, query_string=review_args(fsm="maybe"))
    assert bad_tri.status_code == 400 and "choose any, yes or no" in text_of(bad_tri)
    assert rows(a.id) == []


def test_attendance_concern_fills_days_missed_from_the_registers(families: dict[str, Any], officer: FlaskClient) -> None:
    a = families["school"]
    since = london_today() - timedelta(days=30)
    response = officer.get(f"/schools/{a.urn}/messages/compose/review",
                           query_string=[("template", "attendance_concern"), ("year", "3"), ("since", since.isoformat())])
    assert response.status_code == 200, text_of(response)[:1500]
    assert f"Yusuf missed 0 days of school since {since.day} {since:%B}" in text_of(response)


# --- inbox ------------------------------------------------------------------------------------

def test_inbox_links_replies_to_contacts_and_pupils_and_marks_done(world: World, officer: FlaskClient,
                                                                   head: FlaskClient) -> None:
    a = world.schools["A"]
    pupil = world.pupils["A"][0]
    make_contact(a, [pupil], name="Fatima Khan", phone=MUM)
    db.session.commit()
    receive_inbound("SM" + "2" * 32, MUM, "She has a dentist appointment, back after lunch")
    receive_inbound("SM" + "3" * 32, "+447700900099", "who is this?")  # unknown number: no school's inbox
    page = officer.get(f"/schools/{a.urn}/messages/inbox")
    text = text_of(page)
    assert "Fatima Khan" in text and "dentist appointment" in text and f"{pupil.forename} {pupil.surname}" in text
    assert "who is this" not in text and "New 1" in text
    item = db.session.scalar(select(InboxMessage).where(InboxMessage.school_id == a.id))
    assert post(head, f"/schools/{a.urn}/messages/inbox/{item.id}", {"action": "done"}).status_code == 403
    done = post(officer, f"/schools/{a.urn}/messages/inbox/{item.id}", {"action": "done"}, follow_redirects=True)
    assert "Marked as done." in text_of(done) and "No new replies." in text_of(done)
    db.session.expire_all()
    stored = db.session.get(InboxMessage, item.id)
    assert (stored.status, stored.handled_by) == ("done", "officer@example.org") and stored.handled_at is not None
    assert "done by officer@example.org" in text_of(officer.get(f"/schools/{a.urn}/messages/inbox?status=done"))
    undo = post(officer, f"/schools/{a.urn}/messages/inbox/{item.id}", {"action": "new"}, follow_redirects=True)
    assert "dentist appointment" in text_of(undo)
    other = world.schools["B"]
    assert post(officer, f"/schools/{other.urn}/messages/inbox/{item.id}", {"action": "done"}).status_code == 404


def test_head_reads_the_inbox_without_buttons(world: World, head: FlaskClient) -> None:
    a = world.schools["A"]
    make_contact(a, world.pupils["A"][:1], name="Fatima Khan", phone=MUM)
    db.session.commit()
    receive_inbound("SM" + "4" * 32, MUM, "Thank you")
    page = head.get(f"/schools/{a.urn}/messages/inbox")
    assert page.status_code == 200 and "Thank you" in text_of(page) and "Mark done" not in text_of(page)
    assert "•••••••••001" in text_of(page)


# --- templates --------------------------------------------------------------------------------

def test_templates_list_edit_preview_and_placeholder_errors(world: World, officer: FlaskClient) -> None:
    a = world.schools["A"]
    empty = officer.get(f"/schools/{a.urn}/messages/templates")
    assert "No templates yet." in text_of(empty)
    added = post(officer, f"/schools/{a.urn}/messages/templates/defaults", follow_redirects=True)
    assert "5 default templates added." in text_of(added) and "first_day_absence" in text_of(added)

    url = f"/schools/{a.urn}/messages/templates/general"
    bad = post(officer, url, {"language": "en", "body": "Hello {parent_name}, about {chlid_names} {", "action": "save"})
    assert bad.status_code == 400
    text = text_of(bad)
    assert "did you mean {child_names}" in text and "{chlid_names}" in text
    general = db.session.scalar(select(MessageTemplate).where(MessageTemplate.school_id == a.id, MessageTemplate.name == "general"))
    assert "chlid" not in general.variant("en").body  # nothing saved

    curly = "Hello {parent_name}, it’s about {child_names}. Reply STOP to opt out"
    shown = post(officer, url, {"language": "en", "body": curly, "action": "preview"})
    text = text_of(shown)
    assert shown.status_code == 200 and "Preview (not saved)" in text and "UCS-2" in text and "forces Unicode" in text
    assert "Hello Ms Khan, it’s about Amira and Yusuf" in text
    db.session.expire_all()
    assert "it’s" not in db.session.get(MessageTemplate, general.id).variant("en").body

    polish = post(officer, url, {"language": "pl", "body": "Dzień dobry {parent_name}. Reply STOP to opt out", "action": "save"},
                  follow_redirects=True)
    assert "Saved the pl version of 'general'." in text_of(polish) and "Dzień dobry" in text_of(polish)
    db.session.expire_all()
    assert db.session.get(MessageTemplate, general.id).variant("pl") is not None
    deleted = post(officer, url, {"language": "pl", "action": "delete"}, follow_redirects=True)
    assert "Deleted the pl version" in text_of(deleted)
    refused = post(officer, url, {"language": "en", "action": "delete"}, follow_redirects=True)
    assert "Not deleted" in text_of(refused)


def test_new_template_is_checked_and_names_are_unique(world: World, officer: FlaskClient, head: FlaskClient) -> None:
    a = world.schools["A"]
    url = f"/schools/{a.urn}/messages/templates/new"
    assert officer.get(url).status_code == 200 and head.get(url).status_code == 403
    body = "Hello {parent_name}, trip on {date}. {school_name}. Reply STOP to opt out"
    saved = post(officer, url, {"name": "trip_reminder", "purpose": "general", "body": body}, follow_redirects=True)
    assert "Template 'trip_reminder' saved." in text_of(saved)
    duplicate = post(officer, url, {"name": "trip_reminder", "purpose": "general", "body": body})
    assert duplicate.status_code == 400 and "already has a template called" in text_of(duplicate)
    wrong = post(officer, url, {"name": "walk", "purpose": "general", "body": "Pick up at {stop_name}"})
    assert wrong.status_code == 400 and "{stop_name}" in text_of(wrong) and 'value="walk"' in html(wrong)
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate).where(MessageTemplate.school_id == a.id)) == 1
    assert head.get(f"/schools/{a.urn}/messages/templates/trip_reminder").status_code == 200
    assert post(head, f"/schools/{a.urn}/messages/templates/trip_reminder", {"body": "x", "language": "en"}).status_code == 403
    assert officer.get(f"/schools/{a.urn}/messages/templates/nope").status_code == 404


# --- opt-outs and overview --------------------------------------------------------------------

def test_opt_outs_list_numbers_of_this_school_masked_for_read_roles(world: World, officer: FlaskClient,
                                                                    head: FlaskClient) -> None:
    a, c = world.schools["A"], world.schools["C"]
    make_contact(a, world.pupils["A"][:1], name="Fatima Khan", phone=MUM)
    make_contact(c, world.pupils["C"][:1], name="Cedar Parent", phone=DAD)
    db.session.commit()
    receive_inbound("SM" + "5" * 32, MUM, "Stop")
    receive_inbound("SM" + "6" * 32, DAD, "UNSUBSCRIBE")  # a parent at another trust's school
    text = text_of(officer.get(f"/schools/{a.urn}/messages/opt-outs"))
    assert "07700 900001" in text and "Fatima Khan" in text and "STOP" in text
    assert "900002" not in text and "Cedar Parent" not in text
    masked = text_of(head.get(f"/schools/{a.urn}/messages/opt-outs"))
    assert "•••••••••001" in masked and "07700 900001" not in masked
    assert "Fatima Khan" in text_of(officer.get(f"/schools/{a.urn}/messages/opt-outs?phone=0770090000"))
    assert "No opted-out number matches." in text_of(officer.get(f"/schools/{a.urn}/messages/opt-outs?phone=123456"))


def test_messages_entry_in_the_bar_and_overview(app: Flask, world: World, officer: FlaskClient, head: FlaskClient) -> None:
    a = world.schools["A"]
    make_contact(a, world.pupils["A"][:1], name="Fatima Khan", phone=MUM)
    db.session.commit()
    receive_inbound("SM" + "7" * 32, MUM, "Can we talk?")
    message(a, 1, phone=MUM, status="failed")
    overview = officer.get("/messages")
    text = text_of(overview)
    assert overview.status_code == 200 and "Ash Primary 1 new replies at Ash Primary 0 1 problems" in text and "Birch Academy 0 0 0" in text
    nav = re.search(r'<nav class="site-nav".*?</nav>', html(overview), re.S).group(0)
    assert "Messages" in re.findall(r">([A-Z][a-z]+(?: [a-z]+)*)</a>", nav)  # the full order: tests/dashboard/test_pages.py
    assert 'aria-current="page">Messages' in nav
    single = head.get("/messages")
    assert single.status_code == 302 and single.headers["Location"].endswith(f"/schools/{a.urn}/messages")
    assert officer.get("/schools/100003/messages").status_code == 404  # another trust's school


def test_persistent_and_severe_absence_filters_read_the_registers(families: dict[str, Any], officer: FlaskClient) -> None:
    """Amira misses 6 of 10 sessions (severe, and so persistent), Yusuf 1 of 10 (persistent only)."""
    from outreach.attendance import rollups
    from outreach.core.timeutil import academic_year_start
    from tests.factories import add_marks

    a, amira, yusuf = families["school"], families["amira"], families["yusuf"]
    today = london_today()
    start = academic_year_start(today)
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    days = [monday + timedelta(days=i) for i in range(5)]
    if days[-1] > today:
        pytest.skip("the first week of the academic year has not finished yet")
    sessions = [(d, s) for d in days for s in ("AM", "PM")]
    add_marks(amira, [(d, s, "O" if i < 6 else "/") for i, (d, s) in enumerate(sessions)])
    add_marks(yusuf, [(d, s, "O" if i < 1 else "/") for i, (d, s) in enumerate(sessions)])
    rollups.refresh(db.session, a.id, days[0], days[-1])
    db.session.commit()
    url = f"/schools/{a.urn}/messages/compose/review"
    severe = text_of(officer.get(url, query_string=review_args(sa="yes")))
    assert "Hello Fatima Khan, Amira did not arrive" in severe and "1 pupil covered" in severe
    assert "Severely absent (50% or more this year)" in severe
    persistent = text_of(officer.get(url, query_string=review_args(pa="yes")))
    assert "Amira and Yusuf did not arrive" in persistent
    persistent_not_severe = text_of(officer.get(url, query_string=review_args(pa="yes", sa="no")))
    assert "Hello Fatima Khan, Yusuf did not arrive" in persistent_not_severe


def test_a_bad_language_code_is_a_clear_400(world: World, officer: FlaskClient) -> None:
    a = world.schools["A"]
    ensure_default_templates(a)
    response = officer.get(f"/schools/{a.urn}/messages/templates/general?language=<b>x</b>")
    assert response.status_code == 400 and "must be a code such as en, pl" in text_of(response)
    assert "<b>x" not in html(response)
    refused = post(officer, f"/schools/{a.urn}/messages/templates/general",
                   {"language": "english please", "body": "Hi {parent_name}. Reply STOP to opt out"})
    assert refused.status_code == 400
    assert officer.get(f"/schools/{a.urn}/messages/templates/general?language=PL").status_code == 200


def test_admin_sees_replies_from_unknown_numbers_and_passes_one_to_a_school(app: Flask, world: World,
                                                                            officer: FlaskClient) -> None:
    a = world.schools["A"]
    receive_inbound("SM" + "5" * 32, "+447700900099", "This is Jade's mum, new phone. She is ill today")
    receive_inbound("SM" + "6" * 32, "+447700900098", "sorry, wrong person")
    assert officer.get("/messages/unmatched").status_code == 403
    assert "unknown numbers" not in text_of(officer.get("/messages"))
    admin = signed_in_client(app, world.email("admin"))
    assert "2 new replies from unknown numbers" in text_of(admin.get("/messages"))
    page = text_of(admin.get("/messages/unmatched"))
    assert "Jade's mum" in unescape(page) and "sorry, wrong person" in page and "+447700900099" in page
    jade, wrong = sorted(db.session.scalars(select(InboxMessage).where(InboxMessage.school_id.is_(None))),
                         key=lambda i: i.phone, reverse=True)
    done = post(admin, f"/messages/unmatched/{wrong.id}", {"action": "done"}, follow_redirects=True)
    assert "Marked as done." in text_of(done) and "sorry, wrong person" not in text_of(done)
    moved = post(admin, f"/messages/unmatched/{jade.id}", {"action": "school", "urn": a.urn}, follow_redirects=True)
    assert f"Passed to {a.name}" in text_of(moved) and "No new replies from unknown numbers." in text_of(moved)
    inbox = text_of(officer.get(f"/schools/{a.urn}/messages/inbox"))
    assert "new phone" in inbox and "passed on by admin@example.org" in inbox
    # Once at a school it is that school's: no longer the administrator's to move or mark.
    assert post(admin, f"/messages/unmatched/{jade.id}", {"action": "done"}).status_code == 404
    assert post(admin, f"/messages/unmatched/{wrong.id}", {"action": "school", "urn": "99999999"}).status_code == 404
    assert post(admin, f"/messages/unmatched/{wrong.id}", {"action": "shred"}).status_code == 400
