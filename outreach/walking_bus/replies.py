"""Ambassadors' replies by SMS: the inbound handler the messaging webhook dispatches to.

It answers only numbers that belong to an active ambassador (returning None for everyone else,
so other handlers and the officer inbox get them). The words are read by ``reply_parser``."""
from __future__ import annotations

from datetime import date, datetime, timedelta, time

from sqlalchemy import select

from outreach.core.timeutil import to_london
from outreach.extensions import db
from outreach.messaging.inbound import InboundOutcome, InboundSms, register_inbound_handler
from outreach.schools.models import Contact, School
from outreach.walking_bus import messages, services
from outreach.walking_bus.models import Ambassador, RotaAssignment
from outreach.walking_bus.reply_parser import HELP_TEXT, parse
from outreach.walking_bus.times import short_date

HANDLER = "walking_bus"
# A "CANT MON" sent on a Monday after this time means next Monday: this morning's walk is over.
SAME_DAY_CUTOFF = time(12, 0)


def resolve_days(weekdays: tuple[int, ...], relative: tuple[int, ...], received: datetime) -> list[date]:
    """The dates meant: each weekday's next occurrence from today (today itself only before
    midday), and today/tomorrow as they are."""
    local = to_london(received)
    today = local.date()
    out = {today + timedelta(days=n) for n in relative}
    for wd in weekdays:
        ahead = (wd - today.weekday()) % 7
        if ahead == 0 and local.time() >= SAME_DAY_CUTOFF:
            ahead = 7
        out.add(today + timedelta(days=ahead))
    return sorted(out)


def _ambassadors(sms: InboundSms) -> list[Ambassador]:
    contact_ids = list(sms.contact_ids) or list(db.session.scalars(select(Contact.id).where(Contact.phone == sms.phone)))
    if not contact_ids:
        return []
    return list(db.session.scalars(select(Ambassador).where(Ambassador.contact_id.in_(contact_ids), Ambassador.active)
                                   .order_by(Ambassador.id)))


def handle(sms: InboundSms) -> InboundOutcome | None:
    found = _ambassadors(sms)
    if not found:
        return None
    amb = found[0]
    school = db.session.get(School, amb.school_id)
    reply = parse(sms.body)
    base = dict(handler=HANDLER, school_id=school.id, contact_id=amb.contact_id)
    if reply.kind == "unknown":
        return InboundOutcome(reply=HELP_TEXT, to_inbox=True, summary="walking bus reply not understood", **base)
    if reply.kind == "cant":
        days = resolve_days(reply.weekdays, reply.relative_days, sms.received_at)
        result = services.cant_walk(school, amb.id, days, source="sms", now=sms.received_at)
        summary = (f"ambassador cannot walk {', '.join(short_date(d) for d in days)}: "
                   f"{len(result.covered)} covered by a substitute, {len(result.uncovered)} need cover")
        return InboundOutcome(reply=messages.cant_noted(days, len(result.covered), len(result.uncovered)),
                              to_inbox=True, summary=summary, **base)
    today = to_london(sms.received_at).date()
    mine = db.session.scalar(select(RotaAssignment).where(RotaAssignment.ambassador_id == amb.id,
                                                          RotaAssignment.date == today))
    if mine is None:
        return InboundOutcome(reply="Thanks. You are not on the walking bus rota today, so nothing was recorded.",
                              to_inbox=True, summary=f"walking bus {reply.kind} from an ambassador not on today's rota",
                              **base)
    route = services.get_route(school.id, mine.route_id)
    by = f"ambassador {amb.id} by text"
    if reply.kind == "done":
        walk = services.record_arrival(school, route.id, today, by=by, at=sms.received_at, count=reply.count)
        at = to_london(walk.arrived_at).strftime("%H:%M")
        extra = f", {reply.count} children" if reply.count is not None else ""
        return InboundOutcome(reply=f"Thanks! {route.name} checked in at school at {at}{extra}.",
                              summary=f"walking bus arrived{extra}", **base)
    services.record_count(school, route.id, today, reply.count or 0, by=by)
    return InboundOutcome(reply=f"Thanks, {reply.count} children recorded for {route.name} today.",
                          summary="walking bus count recorded", **base)


def register() -> None:
    register_inbound_handler(HANDLER, handle, priority=50)
