"""Templates: checked on save (nothing written when refused), language fallback, previews, defaults."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.core.errors import NotFound, UserError
from outreach.messaging import placeholders
from outreach.messaging.models import MessageTemplate, MessageTemplateVariant
from outreach.messaging.placeholders import PURPOSES
from outreach.messaging.segments import Encoding
from outreach.messaging.templates import (
    DEFAULT_BODIES, OPT_OUT_LINE, choose_variant, delete_template, delete_variant, ensure_default_templates,
    get_template, list_templates, preview, preview_template, save_template,
)
from tests.factories import make_school

POLISH = "Dzień dobry {parent_name}, {child_names} nie ma dziś w szkole ({date}). Prosimy o odpowiedź. Reply STOP to opt out"


def table_state(db) -> list[tuple]:
    return list(db.session.execute(
        select(MessageTemplate.name, MessageTemplate.purpose, MessageTemplateVariant.language, MessageTemplateVariant.body)
        .join(MessageTemplateVariant).order_by(MessageTemplate.name, MessageTemplateVariant.language)))


def test_defaults_are_created_once_and_never_overwrite_edits(db, school) -> None:
    created = ensure_default_templates(school)
    assert sorted(t.name for t in created) == sorted(PURPOSES)
    save_template(school, name="first_day_absence", purpose="first_day_absence", language="en",
                  body="Hi {parent_name}, {child_names} is not in today. Reply STOP to opt out")
    assert ensure_default_templates(school) == []
    assert get_template(school.id, "first_day_absence").variant("en").body.startswith("Hi {parent_name}")
    assert len(list_templates(school.id)) == len(PURPOSES)


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_default_wording_follows_the_evidence(school, purpose: str) -> None:
    body = DEFAULT_BODIES[purpose]
    assert placeholders.check(body, PURPOSES[purpose].placeholders) == []
    assert body.endswith(OPT_OUT_LINE)
    assert "%" not in body  # days, never a percentage
    result = preview(school, purpose, body)
    assert result.encoding == "GSM-7"
    assert result.segments <= 2
    assert result.warnings == ()
    assert "{" not in result.text


def test_attendance_concern_default_gives_days_missed_and_invites_a_reply(school) -> None:
    text = preview(school, "attendance_concern", DEFAULT_BODIES["attendance_concern"]).text
    assert "missed 6 days of school since 1 September" in text
    assert "Please reply" in text


def test_unknown_placeholder_is_refused_and_nothing_is_saved(db, school_with_templates) -> None:
    school = school_with_templates
    before = table_state(db)
    with pytest.raises(UserError) as refused:
        save_template(school, name="first_day_absence", purpose="first_day_absence", language="en",
                      body="Hello {parent_name}, {unknown} and {pupil_name} missed school. Reply STOP to opt out")
    assert "{unknown}" in refused.value.message and "{pupil_name}" in refused.value.message
    assert any("unknown placeholder {unknown}" in d for d in refused.value.details)
    db.session.rollback()
    assert table_state(db) == before
    with pytest.raises(UserError):
        save_template(school, name="brand_new", purpose="general", language="en", body="Hi {unknown}")
    db.session.rollback()
    assert table_state(db) == before


@pytest.mark.parametrize(("body", "expected"), [
    ("Hello {parent_name", "unmatched opening brace '{' at character 7"),
    ("Hello parent_name}", "unmatched closing brace '}' at character 18"),
    ("Hello {} there", "'{}' at character 7 is not a placeholder"),
    ("Hello { parent_name }", "did you mean {parent_name}?"),
    ("On {date:%d %B}", "did you mean {date}?"),
    ("Hello {Parent_Name}", "is not a placeholder"),
    ("Hello {chlid_names}", "did you mean {child_names}?"),
    ("Hi {days_missed}", "unknown placeholder {days_missed}"),  # not a first-day placeholder
    ("   ", "the message is empty"),
    ("x" * 801, "keep it under 800"),
])
def test_malformed_templates_are_refused_with_a_clear_reason(db, school, body: str, expected: str) -> None:
    with pytest.raises(UserError) as refused:
        save_template(school, name="first_day_absence", purpose="first_day_absence", language="en", body=body)
    assert any(expected in d for d in refused.value.details), refused.value.details
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 0


def test_save_rules(db, school_with_templates) -> None:
    school = school_with_templates
    with pytest.raises(UserError, match="English version"):
        save_template(school, name="new_one", purpose="general", language="pl", body="Dzień dobry {parent_name}")
    with pytest.raises(UserError, match="first day of absence messages, not general"):
        save_template(school, name="first_day_absence", purpose="general", language="pl", body="Hi")
    with pytest.raises(UserError, match="language"):
        save_template(school, name="general", purpose="general", language="Polish!", body="Hi")
    with pytest.raises(UserError, match="template name"):
        save_template(school, name="Bad Name", purpose="general", language="en", body="Hi")
    with pytest.raises(UserError, match="unknown purpose"):
        save_template(school, name="general", purpose="fundraising", language="en", body="Hi")
    variant = save_template(school, name="first_day_absence", purpose="first_day_absence", language="PL", body=POLISH + "\r\n")
    assert variant.language == "pl" and variant.body == POLISH
    with pytest.raises(UserError, match="delete the whole template"):
        delete_variant(school, "first_day_absence", "en")
    delete_variant(school, "first_day_absence", "pl")
    assert get_template(school.id, "first_day_absence").variant("pl") is None
    delete_template(school, "general")
    with pytest.raises(NotFound):
        get_template(school.id, "general")


def test_language_fallback(db, school_with_templates) -> None:
    school = school_with_templates
    save_template(school, name="first_day_absence", purpose="first_day_absence", language="pl", body=POLISH)
    template = get_template(school.id, "first_day_absence")
    assert choose_variant(template, "pl").language == "pl"
    assert choose_variant(template, "PL").language == "pl"
    assert choose_variant(template, "pl-PL").language == "pl"   # regional form falls back to the language
    assert choose_variant(template, "ur").language == "en"      # no Urdu version: English
    assert choose_variant(template, None).language == "en"


def test_templates_belong_to_their_school(db, school_with_templates) -> None:
    other = make_school(urn="100002", name="Elm Academy")
    with pytest.raises(NotFound):
        get_template(other.id, "first_day_absence")
    assert list_templates(other.id) == []


def test_preview_reports_encoding_segments_and_advice(db, school_with_templates) -> None:
    school = school_with_templates
    result = preview_template(school, "first_day_absence")
    assert result.text.startswith("Hello Ms Khan, Amira and Yusuf did not arrive at school today (Monday 3 March)")
    assert "Oak Tree Primary" in result.text and "01632 960000" in result.text
    assert (result.encoding, result.segments) == ("GSM-7", 2)

    curly = preview(school, "general", "Hello {parent_name}, it’s about {child_names}’s trip. " * 2 + OPT_OUT_LINE)
    assert curly.sms.encoding is Encoding.UCS2
    assert curly.sms.unicode_characters == ("’",)
    assert "The curly quote ’ forces Unicode (UCS-2): 2 segments instead of 1." in curly.warnings

    urdu = preview(school, "general", "السلام علیکم {parent_name}، {child_names} کے بارے میں۔ Reply STOP to opt out", language="ur")
    assert urdu.encoding == "UCS-2" and urdu.language == "ur"

    advice = preview(school, "attendance_concern", "{child_names} attendance is 85%.")
    assert any("no opt-out line" in w for w in advice.warnings)
    assert any("not a percentage" in w for w in advice.warnings)

    with pytest.raises(UserError):
        preview(school, "general", "Hi {unknown}")


def test_preview_warns_when_the_school_has_no_phone(db, school_with_templates) -> None:
    school = school_with_templates
    school.contact_phone = None
    db.session.commit()
    assert any("no contact phone number" in w for w in preview_template(school, "general").warnings)


def test_cli_defaults_save_show_and_quiet_hours(db, runner, school) -> None:
    result = runner.invoke(args=["templates", "defaults", "--school", "100001"])
    assert result.exit_code == 0 and "created 5 template(s)" in result.output
    refused = runner.invoke(args=["templates", "save", "--school", "100001", "general", "--purpose", "general",
                                  "--body", "Hi {parent_name} {oops}"])
    assert refused.exit_code == 1
    assert "unknown placeholder {oops}" in refused.output
    saved = runner.invoke(args=["templates", "save", "--school", "100001", "general", "--purpose", "general", "--plain",
                                "--body", "Hi {parent_name}, it’s about {child_names}… Reply STOP to opt out"])
    assert saved.exit_code == 0, saved.output
    assert "Hi Ms Khan, it's about Amira and Yusuf... Reply STOP to opt out" in saved.output
    assert "GSM-7, 1 segment(s)" in saved.output
    shown = runner.invoke(args=["templates", "show", "--school", "100001", "general", "--language", "ro"])
    assert "no ro version" in shown.output
    hours = runner.invoke(args=["templates", "quiet-hours", "--school", "100001", "--days", "sat,sun"])
    assert "No messages 20:00-08:00, nor on Saturday or Sunday" in hours.output
    bad = runner.invoke(args=["templates", "quiet-hours", "--school", "100001", "--hours", "25:00-01:00"])
    assert bad.exit_code == 1 and "24-hour time" in bad.output
