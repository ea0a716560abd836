"""Interventions data in the dashboard's test world (tests/dashboard/world.py): a task, an
intervention and a referral at school A (visible to the officer, head and trust lead) and the
same at school C (another trust: the officer of A must get 404s for them), plus a contact
shared by two siblings at A."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from outreach.core.timeutil import london_today
from outreach.extensions import db
from outreach.interventions import letters, referrals, services
from tests.dashboard.world import World
from tests.factories import link_contact, make_contact


def add_interventions(world: World) -> dict[str, Any]:
    out: dict[str, Any] = {}
    today = london_today()
    for key in ("A", "C"):
        school = world.schools[key]
        pupil = world.pupils[key][1]
        task = services.create_task(school.id, pupil.id, "first_day_contact", f"day:{today.isoformat()}",
                                    summary="Absent today with no reason given (N) and no contact logged yet",
                                    episode_start=today)
        db.session.commit()
        row = services.log_intervention(school, type="home_visit", pupil_ids=[pupil.id], recorded_by="Ms Patel",
                                        occurred_at=datetime.now(timezone.utc) - timedelta(days=2),
                                        outcome="nobody home", next_step="call tomorrow",
                                        next_step_date=today)
        ref = referrals.draft_referral(school, pupil.id, reason="Mornings are hard at home", created_by="Ms Patel")
        out[key] = {"task": task, "intervention": row, "referral": ref, "pupil": pupil}
    a = world.schools["A"]
    out["letter"], _ = letters.send_letter(a, "attendance_concern", [world.pupils["A"][1].id], sender="Ms Patel")
    accepted = referrals.draft_referral(a, world.pupils["A"][3].id, reason="Worries at home", created_by="Ms Patel")
    referrals.record_consent(a.id, accepted.id, given=True, by_whom="Mr Ali (father)", method="phone", recorded_by="Ms Patel")
    referrals.submit(a.id, accepted.id, by="Ms Patel", to="County early help hub")
    referrals.decide(a.id, accepted.id, accepted=True, by="Ms Patel", lead_practitioner="Sam Reid")
    out["accepted"], out["review"] = accepted, accepted.reviews[0]
    mum = make_contact(a, name="Ms Khan")
    link_contact(world.pupils["A"][1], mum, priority=1)
    link_contact(world.pupils["A"][2], mum, priority=1)
    db.session.commit()
    out["contact"] = mum
    out["today"] = today
    out["yesterday"] = today - timedelta(days=1)
    out["first_review"] = today + timedelta(days=14)
    out["date"] = date
    return out
