"""API schemas load what the services take and dump what they return."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from marshmallow import ValidationError

from outreach.interventions import referrals, schemas, services
from tests.factories import make_pupil


def test_intervention_in_loads_and_refuses_bad_input():
    loaded = schemas.InterventionIn().load({"type": "home_visit", "pupil_ids": [1, 2], "occurred_at": "2024-11-12T09:30:00+00:00",
                                            "next_step_date": "2024-11-20"})
    assert loaded["occurred_at"] == datetime(2024, 11, 12, 9, 30, tzinfo=timezone.utc)
    assert loaded["next_step_date"] == date(2024, 11, 20) and loaded["outcome"] is None
    with pytest.raises(ValidationError) as err:
        schemas.InterventionIn().load({"type": "detention", "pupil_ids": [], "occurred_at": "2024-11-12T09:30:00"})
    assert set(err.value.messages) == {"type", "pupil_ids", "occurred_at"}


def test_dump_an_intervention_and_a_referral(school):
    pupil = make_pupil(school)
    row = services.log_intervention(school, type="notice_to_improve", pupil_ids=[pupil.id], recorded_by="Ms Patel",
                                    details={"improvement_weeks": 3})
    out = schemas.InterventionOut().dump(row)
    assert out["type_label"] == "Notice to improve" and out["stage"] == 5 and out["pupil_ids"] == [pupil.id]
    assert out["details"]["improvement_weeks"] == 3 and out["has_letter"] is False
    referral = referrals.draft_referral(school, pupil.id, reason="help", created_by="Ms Patel")
    dumped = schemas.ReferralOut().dump(referral)
    assert dumped["status"] == "draft" and dumped["events"][0]["action"] == "drafted"


def test_rule_settings_schema_applies_the_limits(school):
    data = schemas.RuleSettingsSchema().dump(services.rule_settings(school.id))
    assert data["penalty_sessions"] == 10 and data["penalty_school_weeks"] == 10 and data["parent_texts"] is False
    with pytest.raises(ValidationError) as err:
        schemas.RuleSettingsSchema().load({"penalty_sessions": 0, "drop_points": 80}, partial=True)
    assert set(err.value.messages) == {"penalty_sessions", "drop_points"}
    assert schemas.RuleSettingsSchema().load({"consecutive_days": 4}, partial=True) == {"consecutive_days": 4}
