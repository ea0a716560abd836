"""Clock entry points and the supportive parent texts rules may propose."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from outreach.core.errors import UserError
from outreach.extensions import db
from outreach.interventions import jobs, services
from outreach.interventions.models import RuleMessage, Task
from outreach.messaging.templates import ensure_default_templates
from outreach.registers.models import ImportBatch
from tests.factories import make_contact, make_pupil, make_school
from tests.interventions.builders import absent_on, school_days, write_register

EVENING = datetime(2024, 11, 13, 18, 0, tzinfo=timezone.utc)


def _pa_family(school):
    older = make_pupil(school, forename="Amira", date_of_birth=date(2016, 1, 1))
    younger = make_pupil(school, forename="Yusuf", date_of_birth=date(2018, 1, 1))
    make_contact(school, [older, younger], name="Ms Khan", phone="+447700900123")
    days = school_days(date(2024, 11, 4), date(2024, 11, 13))
    write_register(school, {older: absent_on(days[:6], "I"), younger: absent_on(days[:5], "I")}, end=days[-1])
    return older, younger


def _texts_on(school, **extra):
    ensure_default_templates(school)
    services.update_rule_settings(school, {"parent_texts": True, **extra}, "Ms Patel")


def test_evaluate_all_runs_every_school_and_is_idempotent(school):
    other = make_school(urn="100002", name="Elm Academy")
    for s in (school, other):
        pupil = make_pupil(s)
        write_register(s, {pupil: absent_on(school_days(date(2024, 11, 11), date(2024, 11, 13)), "N")}, end=date(2024, 11, 13))
    first = jobs.evaluate_all(EVENING)
    assert set(first) == {school.id, other.id} and all(n > 0 for n in first.values())
    assert jobs.evaluate_all(EVENING) == {school.id: 0, other.id: 0}


def test_evaluate_after_import_checks_the_batch_belongs_to_the_school(school):
    other = make_school(urn="100002")
    batch = ImportBatch(school_id=other.id, file_name="x.csv", format="long", status="completed")
    db.session.add(batch)
    db.session.commit()
    with pytest.raises(UserError):
        jobs.evaluate_after_import(school.id, batch.id, EVENING)
    assert jobs.evaluate_after_import(other.id, batch.id, EVENING).school_id == other.id


def test_parent_text_gives_days_missed_to_one_family_once(school):
    older, younger = _pa_family(school)
    _texts_on(school)
    result = services.evaluate_rules(school, date(2024, 11, 13), now=EVENING.replace(hour=21))
    assert {t.rule for t in result.created} >= {"persistent_absence"}
    assert len(result.messages) == 1
    message = result.messages[0]
    assert sorted(message.pupil_ids) == sorted([older.id, younger.id])
    assert "Amira and Yusuf missed 6 and 5 days of school since 1 September" in message.body
    pending = services.pending_parent_texts(school.id)
    assert "%" not in message.body
    assert pending[0][1].not_before_utc == datetime(2024, 11, 14, 8, 0, tzinfo=timezone.utc)  # after quiet hours
    assert [m.idempotency_key for _, m in pending] == [message.idempotency_key]
    assert services.mark_texts_enqueued([pending[0][0]]) == 1
    assert services.pending_parent_texts(school.id) == []


def test_parent_texts_respect_the_cooldown_per_contact(school):
    older, younger = _pa_family(school)
    _texts_on(school, parent_text_cooldown_days=14)
    services.evaluate_rules(school, date(2024, 11, 13), now=EVENING)
    # a new episode for the same family a week later: a task, but no second text within 14 days
    days = school_days(date(2024, 11, 18), date(2024, 11, 20))
    write_register(school, {older: absent_on(days, "O")}, start=days[0], end=days[-1])
    later = services.evaluate_rules(school, days[-1], now=EVENING + timedelta(days=7))
    assert later.created and later.messages == []
    assert db.session.scalar(select(RuleMessage.id).where(RuleMessage.contact_id.is_not(None))) is not None
    assert len(db.session.scalars(select(RuleMessage)).all()) == 1


def test_no_texts_unless_the_school_turns_them_on(school):
    _pa_family(school)
    ensure_default_templates(school)
    result = services.evaluate_rules(school, date(2024, 11, 13), now=EVENING)
    assert result.created and result.messages == []


def test_concurrent_evaluations_make_one_task_per_episode(school):
    pupil = make_pupil(school)
    write_register(school, {pupil: absent_on(school_days(date(2024, 11, 11), date(2024, 11, 13)), "N")}, end=date(2024, 11, 13))
    # a task for the same episode appears between reading and writing (another clock or import did it)
    from outreach.interventions import rules
    finding = rules.first_day_contact(pupil.id, {date(2024, 11, 13): rules.Day(2, 0, 2, 2, 2)},
                                      rules.Calendar((date(2024, 11, 13),)), date(2024, 11, 13), frozenset(), None)
    assert finding is not None
    values = services._task_values(school.id, finding, EVENING)
    assert len(services._insert_tasks([values])) == 1
    assert services._insert_tasks([values, values]) == []  # the unique key keeps the first, nothing fails
    db.session.commit()
    assert len(db.session.scalars(select(Task).where(Task.rule == "first_day_contact")).all()) == 1
