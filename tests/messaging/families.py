"""Families at school A of the dashboard world (tests/dashboard/world.py), for the messaging
pages' tests and browser tests: the Khan siblings (one mum), a child whose only contact has no
SMS consent, one whose contact replied STOP, one with a number the gateway marked invalid, and
a Polish-speaking dad; the school has its phone number and the default templates."""
from __future__ import annotations

from typing import Any

from outreach.extensions import db
from outreach.messaging.services import receive_inbound
from outreach.messaging.templates import ensure_default_templates
from tests.dashboard.world import World
from tests.factories import make_contact, make_pupil

MUM = "+447700900001"
DAD = "+447700900002"
GRAN = "+447700900003"
STOPPED = "+447700900004"


def add_families(world: World) -> dict[str, Any]:
    a = world.schools["A"]
    a.contact_phone = "+441632960000"
    db.session.commit()
    ensure_default_templates(a)
    amira = make_pupil(a, forename="Amira", surname="Khan", year_group="5", reg_group="5K")
    yusuf = make_pupil(a, forename="Yusuf", surname="Khan", year_group="3", reg_group="3B")
    no_consent = make_pupil(a, forename="Nina", surname="Shaw", year_group="5", reg_group="5K")
    stopped = make_pupil(a, forename="Oscar", surname="Reid", year_group="5", reg_group="5K")
    bad = make_pupil(a, forename="Ben", surname="Ode", year_group="5", reg_group="5K")
    polish = make_pupil(a, forename="Zofia", surname="Nowak", year_group="5", reg_group="5K")
    make_contact(a, [amira, yusuf], name="Fatima Khan", phone=MUM)
    make_contact(a, [no_consent], name="Sam Shaw", phone=GRAN, sms_consent=False)
    make_contact(a, [stopped], name="Pat Reid", phone=STOPPED)
    make_contact(a, [bad], name="Lee Ode", phone="+447700900005", phone_invalid_reason="not a mobile number (Twilio 21614)")
    make_contact(a, [polish], name="Piotr Nowak", phone=DAD, language="pl")
    db.session.commit()
    receive_inbound("SM" + "0" * 32, STOPPED, "STOP")
    return {"school": a, "amira": amira, "yusuf": yusuf}
