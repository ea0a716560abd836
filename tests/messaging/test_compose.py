"""Audience, contacts and sibling merging: what the compose page shows before anything is sent."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from outreach.attendance import rollups
from outreach.core.errors import UserError
from outreach.extensions import db as _db
from outreach.messaging.compose import (
    AudienceFilter, ContactMode, OutgoingMessage, RecipientReview, compose, days_missed_values, idempotency_key,
    select_pupils,
)
from outreach.messaging.templates import save_template
from tests.factories import add_marks, make_contact, make_pupil, make_school

WEDNESDAY_NOON = datetime(2025, 3, 5, 12, 0, tzinfo=timezone.utc)
TODAY = date(2025, 3, 5)
MUM = "+447700900001"
DAD = "+447700900002"


def never_opted_out(school_id: int, phone: str) -> bool:
    return False


def run(school, pupils=None, template="first_day_absence", **kwargs) -> RecipientReview:
    kwargs.setdefault("episode_key", "absence:2025-03-05")
    kwargs.setdefault("is_opted_out", never_opted_out)
    kwargs.setdefault("values", {"date": "Wednesday 5 March"})
    kwargs.setdefault("now", WEDNESDAY_NOON)
    kwargs.setdefault("on_date", TODAY)
    return compose(school, template, pupils=pupils, **kwargs)


@pytest.fixture()
def family(school_with_templates):
    school = school_with_templates
    amira = make_pupil(school, forename="Amira", surname="Khan", year_group="5")
    yusuf = make_pupil(school, forename="Yusuf", surname="Khan", year_group="3")
    zain = make_pupil(school, forename="Zain", surname="Khan", year_group="1", fsm=True)
    mum = make_contact(school, [amira, yusuf, zain], name="Fatima Khan", phone=MUM)
    return school, amira, yusuf, zain, mum


def test_siblings_get_one_message_naming_each_child(family) -> None:
    school, amira, yusuf, zain, mum = family
    review = run(school, [amira, yusuf])
    assert review.message_count == 1 and review.pupil_count == 2
    message = review.messages[0]
    assert isinstance(message, OutgoingMessage)
    assert message.body.startswith("Hello Fatima Khan, Amira and Yusuf did not arrive at school today (Wednesday 5 March)")
    assert "call 01632 960000" in message.body and "Oak Tree Primary. Reply STOP to opt out" in message.body
    assert (message.school_id, message.contact_id, message.phone) == (school.id, mum.id, MUM)
    assert message.pupil_ids == tuple(sorted((amira.id, yusuf.id)))
    assert (message.purpose, message.language) == ("first_day_absence", "en")
    assert message.sms.segments == 2

    three = run(school, [zain, yusuf, amira])
    assert [m.body.split(" did not")[0] for m in three.messages] == ["Hello Fatima Khan, Amira, Yusuf and Zain"]
    assert "1 message (2 segments) covering 3 pupils" == three.summary()


def test_children_named_eldest_first_and_same_first_names_told_apart(school_with_templates) -> None:
    school = school_with_templates
    older = make_pupil(school, forename="Sam", surname="Lee", date_of_birth=date(2015, 1, 1))
    younger = make_pupil(school, forename="Sam", surname="Kaur", date_of_birth=date(2017, 1, 1))
    baby = make_pupil(school, forename="Ali", surname="Kaur", preferred_forename="Al", date_of_birth=date(2019, 1, 1))
    make_contact(school, [younger, older, baby], name="Jo")
    assert "Sam L., Sam K. and Al did not arrive" in run(school, [baby, younger, older]).messages[0].body


def test_idempotency_key_is_deterministic(family) -> None:
    school, amira, yusuf, _, _ = family
    first = run(school, [amira, yusuf]).messages[0]
    again = run(school, [yusuf, amira], now=WEDNESDAY_NOON + timedelta(hours=2)).messages[0]
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key == idempotency_key("first_day_absence", school.id, MUM, [yusuf.id, amira.id], "absence:2025-03-05")
    assert first.idempotency_key.startswith("first_day_absence:") and len(first.idempotency_key) <= 64
    assert run(school, [amira, yusuf], episode_key="absence:2025-03-06").messages[0].idempotency_key != first.idempotency_key
    assert run(school, [amira]).messages[0].idempotency_key != first.idempotency_key
    with pytest.raises(UserError, match="episode key"):
        run(school, [amira], episode_key=" ")


def test_contact_without_consent_is_excluded_and_the_next_contact_used(family) -> None:
    school, amira, yusuf, _, mum = family
    mum.sms_consent = False
    dad = make_contact(school, [amira], name="Omar Khan", phone=DAD, priority=2)
    review = run(school, [amira, yusuf])
    assert [(m.contact_id, m.pupil_ids) for m in review.messages] == [(dad.id, (amira.id,))]
    assert [(e.reason, e.contact_id, e.pupil_ids) for e in review.contacts_excluded] == [
        ("no_sms_consent", mum.id, tuple(sorted((amira.id, yusuf.id))))]
    assert review.contacts_excluded[0].text == "has not consented to text messages"
    assert [(e.reason, e.pupil_ids) for e in review.pupils_not_reached] == [("no_textable_contact", (yusuf.id,))]
    assert review.pupils_covered == (amira.id,)


def test_first_contact_by_default_all_consenting_contacts_on_request(family) -> None:
    school, amira, _, _, mum = family
    dad = make_contact(school, [amira], name="Omar Khan", phone=DAD, priority=2)
    assert [m.contact_id for m in run(school, [amira]).messages] == [mum.id]
    everyone = run(school, [amira], contact_mode=ContactMode.ALL)
    assert [m.contact_id for m in everyone.messages] == [mum.id, dad.id]
    assert everyone.pupil_count == 1 and everyone.message_count == 2


def test_unreachable_numbers_are_excluded_with_reasons(family) -> None:
    school, amira, yusuf, zain, mum = family
    mum.phone_invalid_reason = "Twilio 21614: not a mobile number"
    landline = make_contact(school, [yusuf], name="Gran", phone="+442079460000", priority=2)
    nophone = make_contact(school, [zain], name="Uncle", phone=None, priority=2)
    garbled = make_contact(school, [zain], name="Aunt", phone="0770", priority=3)
    review = run(school, [amira, yusuf, zain])
    assert review.messages == ()
    reasons = {(e.contact_id, e.reason, e.detail) for e in review.contacts_excluded}
    assert reasons == {(mum.id, "phone_invalid", "Twilio 21614: not a mobile number"), (landline.id, "not_mobile", None),
                       (nophone.id, "no_phone", None),
                       (garbled.id, "phone_invalid", "not a valid phone number for its country")}
    invalid = next(e for e in review.contacts_excluded if e.reason == "phone_invalid")
    assert invalid.text == "phone number marked invalid: Twilio 21614: not a mobile number"
    assert {e.pupil_ids[0] for e in review.pupils_not_reached} == {amira.id, yusuf.id, zain.id}


def test_opted_out_numbers_are_checked_once_per_phone_and_excluded(family) -> None:
    school, amira, yusuf, _, mum = family
    calls: list[tuple[int, str]] = []

    def opted_out(school_id: int, phone: str) -> bool:
        calls.append((school_id, phone))
        return phone == MUM

    review = run(school, [amira, yusuf], is_opted_out=opted_out)
    assert calls == [(school.id, MUM)]
    assert review.messages == ()
    assert [(e.reason, e.contact_id) for e in review.contacts_excluded] == [("opted_out", mum.id)]


def test_same_phone_under_two_contact_rows_is_one_message(school_with_templates) -> None:
    school = school_with_templates
    amira = make_pupil(school, forename="Amira", surname="Khan")
    bilal = make_pupil(school, forename="Bilal", surname="Ahmed")
    first = make_contact(school, [amira], name="Fatima Khan", phone=MUM)
    make_contact(school, [bilal], name="F Ahmed", phone="07700 900001", priority=1)  # same phone, national form
    review = run(school, [amira, bilal])
    assert review.message_count == 1
    assert review.messages[0].contact_id == first.id
    assert review.messages[0].phone == MUM
    assert "Amira and Bilal" in review.messages[0].body


def test_contact_language_with_english_fallback(family) -> None:
    school, amira, yusuf, zain, mum = family
    save_template(school, name="first_day_absence", purpose="first_day_absence", language="pl",
                  body="Dzień dobry {parent_name}, {child_names} nie ma dziś w szkole ({date}). Reply STOP to opt out")
    mum.preferred_language = "pl"
    other = make_pupil(school, forename="Sana", surname="Ali")
    urdu = make_contact(school, [other], name="Hina Ali", phone=DAD, language="ur")
    review = run(school, [amira, yusuf, other])
    by_contact = {m.contact_id: m for m in review.messages}
    assert by_contact[mum.id].language == "pl"
    assert by_contact[mum.id].body.startswith("Dzień dobry Fatima Khan, Amira i Yusuf nie ma dziś")
    assert by_contact[mum.id].sms.encoding.value == "UCS-2"
    assert by_contact[urdu.id].language == "en"
    assert by_contact[urdu.id].body.startswith("Hello Hina Ali, Sana did not arrive")
    assert review.language_fallbacks == (urdu.id,)


def test_per_child_values_are_merged_for_siblings(family) -> None:
    school, amira, yusuf, zain, _ = family
    values = {"since_date": "1 September"}
    review = run(school, [amira, yusuf], template="attendance_concern", values=values,
                 pupil_values={amira.id: {"days_missed": "6"}, yusuf.id: {"days_missed": "4"}})
    assert "Amira and Yusuf missed 6 and 4 days of school since 1 September." in review.messages[0].body
    same = run(school, [amira, yusuf], template="attendance_concern", values=values,
               pupil_values={amira.id: {"days_missed": "3"}, yusuf.id: {"days_missed": "3"}})
    assert "Amira and Yusuf missed 3 days" in same.messages[0].body
    with pytest.raises(UserError) as missing:
        run(school, [amira, yusuf], template="attendance_concern", values={},
            pupil_values={amira.id: {"days_missed": "6"}})
    assert "{days_missed}" in missing.value.message and "{since_date}" in missing.value.message
    assert f"{{days_missed}}: no value for pupil id(s) {yusuf.id}" in missing.value.details


def test_days_missed_from_rollups(family) -> None:
    school, amira, yusuf, _, _ = family
    monday = date(2025, 3, 3)
    add_marks(amira, [(monday, "AM", "O"), (monday, "PM", "O"), (monday + timedelta(1), "AM", "I"),
                      (monday + timedelta(1), "PM", "/")])
    add_marks(yusuf, [(monday, "AM", "/"), (monday, "PM", "/")])
    rollups.refresh(_db.session, school.id, monday, monday + timedelta(4))
    assert days_missed_values(school.id, [amira.id, yusuf.id], date(2025, 3, 3), TODAY) == {
        amira.id: {"days_missed": "1.5"}, yusuf.id: {"days_missed": "0"}}


def test_quiet_hours_defer_the_message(family) -> None:
    school, amira, *_ = family
    saturday_night = datetime(2025, 3, 29, 21, 0, tzinfo=timezone.utc)
    message = run(school, [amira], now=saturday_night).messages[0]
    assert message.not_before_utc == datetime(2025, 3, 31, 7, 0, tzinfo=timezone.utc)  # Monday 08:00 BST
    assert run(school, [amira]).messages[0].not_before_utc == WEDNESDAY_NOON
    later = run(school, [amira], send_after=datetime(2025, 3, 5, 19, 30, tzinfo=timezone.utc)).messages[0]
    assert later.not_before_utc == datetime(2025, 3, 5, 19, 30, tzinfo=timezone.utc)


def test_pupils_not_on_roll_or_without_contacts_are_reported(family) -> None:
    school, amira, *_ = family
    leaver = make_pupil(school, forename="Lara", surname="Gone", leaving_date=date(2025, 2, 1))
    make_contact(school, [leaver], name="Mrs Gone", phone=DAD)
    alone = make_pupil(school, forename="Noor", surname="Solo")
    review = run(school, [amira, leaver, alone])
    assert review.pupils_covered == (amira.id,)
    assert {(e.reason, e.pupil_ids) for e in review.pupils_not_reached} == {
        ("not_on_roll", (leaver.id,)), ("no_contact", (alone.id,))}


def test_pupils_of_another_school_are_refused(family) -> None:
    school, amira, *_ = family
    other = make_school(urn="100002", name="Elm Academy")
    stranger = make_pupil(other, forename="Eve", surname="Else")
    with pytest.raises(UserError, match="not at this school"):
        run(school, [amira, stranger])


def test_missing_school_phone_is_a_clear_error(family) -> None:
    school, amira, *_ = family
    school.contact_phone = None
    with pytest.raises(UserError) as missing:
        run(school, [amira])
    assert any("the school has no contact phone number" in d for d in missing.value.details)


def test_audience_filters(family) -> None:
    school, amira, yusuf, zain, _ = family
    yusuf.eal, yusuf.sen_status, yusuf.reg_group = True, "K", "3B"
    _db.session.flush()
    ids = lambda f: [p.id for p in select_pupils(school, f, TODAY)]  # noqa: E731
    assert ids(AudienceFilter()) == [amira.id, yusuf.id, zain.id]
    assert ids(AudienceFilter(year_groups=frozenset({"5", "1"}))) == [amira.id, zain.id]
    assert ids(AudienceFilter(fsm=True)) == [zain.id]
    assert ids(AudienceFilter(eal=True, sen_statuses=frozenset({"K"}))) == [yusuf.id]
    assert ids(AudienceFilter(reg_groups=frozenset({"3B"}))) == [yusuf.id]
    review = run(school, audience=AudienceFilter(year_groups=frozenset({"5", "3"})))
    assert review.message_count == 1 and "Amira and Yusuf" in review.messages[0].body
    with pytest.raises(UserError, match="not both"):
        run(school, [amira], audience=AudienceFilter())


def test_persistent_absence_list(family) -> None:
    school, amira, yusuf, zain, _ = family
    days = [date(2025, 3, 3) + timedelta(d) for d in range(5)]
    add_marks(amira, [(d, s, "O" if d == days[0] and s == "AM" else "/") for d in days for s in ("AM", "PM")])  # 1 of 10: PA
    add_marks(yusuf, [(d, s, "/") for d in days for s in ("AM", "PM")])
    add_marks(zain, [(d, s, "I" if d == days[0] and s == "AM" else "/") for d in days for s in ("AM", "PM")]
              + [(d + timedelta(7), s, "/") for d in days for s in ("AM", "PM")])  # 1 of 20: not PA
    rollups.refresh(_db.session, school.id, days[0], days[-1] + timedelta(7))
    on = date(2025, 3, 14)
    assert [p.id for p in select_pupils(school, AudienceFilter(persistent_absence=True), on)] == [amira.id]
    assert [p.id for p in select_pupils(school, AudienceFilter(persistent_absence=False), on)] == [yusuf.id, zain.id]
