"""Message templates: saving (checked), choosing a language variant, previewing, defaults.

Every template has a purpose, which fixes the placeholders it may use (``placeholders.PURPOSES``),
and an English variant, which contacts whose language has no variant receive. A body is checked
when it is saved: an unknown placeholder or a malformed brace is refused with an error naming
each one, and nothing is written. Previews render sample values and say what the text costs:
encoding, segments, and which characters forced Unicode.

The default English templates follow what the evidence says works with families (see
``../shared/domain/attendance.md``): the number of days missed rather than a percentage, plain
and supportive words, short, an invitation to reply, and an easy way to opt out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

import phonenumbers
from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.extensions import db
from outreach.messaging import placeholders
from outreach.messaging.models import MessageTemplate, MessageTemplateVariant
from outreach.messaging.placeholders import PURPOSES, Purpose
from outreach.messaging.segments import SegmentInfo, analyse
from outreach.schools.models import School

FALLBACK_LANGUAGE = "en"
MAX_BODY_CHARACTERS = 800  # about 5 GSM segments before values; Twilio refuses over 1,600
LONG_MESSAGE_SEGMENTS = 3
OPT_OUT_LINE = "Reply STOP to opt out"
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")

# Defaults per purpose (English). Wording avoids verb agreement ("missed", "did not arrive") so
# it reads right for one child or for siblings merged into one message.
DEFAULT_BODIES: dict[str, str] = {
    "first_day_absence": (
        "Hello {parent_name}, {child_names} did not arrive at school today ({date}) and we have not "
        "heard why. Please reply or call {school_phone} so we know all is well. {school_name}. "
        + OPT_OUT_LINE
    ),
    "attendance_concern": (
        "Hello {parent_name}, {child_names} missed {days_missed} days of school since {since_date}. "
        "Every day counts and we would like to help. Please reply or call {school_phone} for a chat. "
        "{school_name}. " + OPT_OUT_LINE
    ),
    "walking_bus_schedule": (
        "Hello {parent_name}, walking bus on {date}: {child_names} will be collected from {stop_name} "
        "at {pickup_time} ({route_name} route). Reply if plans change. {school_name}. " + OPT_OUT_LINE
    ),
    "parent_group_invite": (
        "Hello {parent_name}, you are warmly invited to {group_name} on {date} at {time}, {place}. "
        "Reply to let us know if you can come. {school_name}. " + OPT_OUT_LINE
    ),
    "general": (
        "Hello {parent_name}, {school_name} would like a word about {child_names}. Please reply or "
        "call {school_phone}. " + OPT_OUT_LINE
    ),
}
assert set(DEFAULT_BODIES) == set(PURPOSES)


@dataclass(frozen=True)
class Preview:
    """A rendered body and what it costs to send."""

    text: str
    language: str
    sms: SegmentInfo
    warnings: tuple[str, ...]

    @property
    def encoding(self) -> str:
        return self.sms.encoding.value

    @property
    def segments(self) -> int:
        return self.sms.segments

    @property
    def explanation(self) -> str:
        return self.sms.explain()


def get_purpose(key: str) -> Purpose:
    try:
        return PURPOSES[key]
    except KeyError:
        raise UserError(f"unknown purpose {key!r}", details=[f"purposes: {', '.join(PURPOSES)}"]) from None


def normalise_language(language: str | None) -> str:
    """'PL' -> 'pl', 'pt_BR' -> 'pt-br'; empty means English."""
    return (language or FALLBACK_LANGUAGE).strip().lower().replace("_", "-") or FALLBACK_LANGUAGE


def normalise_body(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def check_body(purpose: Purpose, body: str) -> list[str]:
    """Every reason ``body`` cannot be saved for ``purpose``, as messages (empty: it can)."""
    body = normalise_body(body)
    if not body:
        return ["the message is empty"]
    problems = [p.message for p in placeholders.check(body, purpose.placeholders)]
    if len(body) > MAX_BODY_CHARACTERS:
        problems.append(f"the message is {len(body)} characters; keep it under {MAX_BODY_CHARACTERS} "
                        "(short messages are read and cost less)")
    return problems


def _validate(purpose: Purpose, body: str) -> None:
    problems = check_body(purpose, body)
    if problems:
        unknown = [p for p in placeholders.check(normalise_body(body), purpose.placeholders) if p.kind == "unknown"]
        headline = (f"the template uses {', '.join(p.text for p in unknown)}, which '{purpose.label}' templates cannot fill"
                    if unknown and len(unknown) == len(problems) else "the template cannot be saved")
        raise UserError(headline, details=problems)


def get_template(school_id: int, name: str) -> MessageTemplate:
    template = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.school_id == school_id, MessageTemplate.name == name))
    if template is None:
        raise NotFound(f"no message template called {name!r} at this school")
    return template


def list_templates(school_id: int) -> list[MessageTemplate]:
    return list(db.session.scalars(select(MessageTemplate).where(MessageTemplate.school_id == school_id)
                                   .order_by(MessageTemplate.purpose, MessageTemplate.name)))


def save_template(school: School, *, name: str, purpose: str, language: str, body: str,
                  updated_by: str | None = None) -> MessageTemplateVariant:
    """Create or replace one language variant of a template, after checking it. A new template
    must start with its English variant (the fallback). Commits; on any error nothing changes."""
    name = name.strip().lower()
    if not _NAME_RE.match(name):
        raise UserError(f"template name {name!r} must be 2-60 lower-case letters, digits or _, starting with a letter")
    spec = get_purpose(purpose)
    language = normalise_language(language)
    if not _LANGUAGE_RE.match(language):
        raise UserError(f"language {language!r} must be a language code such as en, pl, ur, ro or pt-br")
    body = normalise_body(body)
    _validate(spec, body)
    template = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.school_id == school.id, MessageTemplate.name == name))
    if template is None:
        if language != FALLBACK_LANGUAGE:
            raise UserError(f"write the English version of {name!r} first: contacts whose language has no "
                            "version of a template receive the English one")
        template = MessageTemplate(school_id=school.id, name=name, purpose=spec.key)
        db.session.add(template)
    elif template.purpose != spec.key:
        raise UserError(f"template {name!r} is for {PURPOSES[template.purpose].label.lower()} messages, "
                        f"not {spec.label.lower()}")
    variant = template.variant(language)
    if variant is None:
        variant = MessageTemplateVariant(school_id=school.id, language=language, body=body, updated_by=updated_by)
        template.variants.append(variant)
    else:
        variant.body, variant.updated_by = body, updated_by
    db.session.commit()
    return variant


def delete_variant(school: School, name: str, language: str) -> None:
    """Remove one translation. The English variant goes only with the whole template."""
    template = get_template(school.id, name)
    language = normalise_language(language)
    if language == FALLBACK_LANGUAGE:
        raise UserError("the English version is the fallback for every other language: delete the whole template instead")
    variant = template.variant(language)
    if variant is None:
        raise NotFound(f"template {name!r} has no {language!r} version")
    template.variants.remove(variant)
    db.session.commit()


def delete_template(school: School, name: str) -> None:
    db.session.delete(get_template(school.id, name))
    db.session.commit()


def choose_variant(template: MessageTemplate, language: str | None) -> MessageTemplateVariant:
    """The variant for ``language``: exact ('pt-br'), then its base language ('pt'), then English."""
    wanted = normalise_language(language)
    for code in (wanted, wanted.split("-")[0], FALLBACK_LANGUAGE):
        variant = template.variant(code)
        if variant is not None:
            return variant
    raise UserError(f"template {template.name!r} has no English version to fall back on")


def format_school_phone(raw: str | None) -> str | None:
    """The school's number as parents dial it (national format for UK numbers)."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return raw
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 44 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def school_values(school: School) -> dict[str, str]:
    """Placeholder values that come from the school itself."""
    values = {"school_name": school.name}
    phone = format_school_phone(school.contact_phone)
    if phone:
        values["school_phone"] = phone
    return values


def preview_warnings(purpose: Purpose, body: str, sms: SegmentInfo, school: School | None = None) -> list[str]:
    warnings: list[str] = []
    if school is not None and "school_phone" in placeholders.placeholders_in(body) and not school.contact_phone:
        warnings.append("the school has no contact phone number: add one, or messages using {school_phone} cannot be sent")
    if sms.is_unicode:
        warnings.append(sms.explain())
    if sms.segments > LONG_MESSAGE_SEGMENTS:
        warnings.append(f"long message: {sms.segments} segments each; short messages are read and cost less")
    if "STOP" not in body:
        warnings.append(f"no opt-out line: end with '{OPT_OUT_LINE}' (keep the word STOP in translations)")
    if purpose.key == "attendance_concern" and "%" in body:
        warnings.append("give days missed, not a percentage: families underestimate absence given as a percentage")
    return warnings


def preview(school: School, purpose: str, body: str, language: str = FALLBACK_LANGUAGE,
            values: Mapping[str, str] | None = None) -> Preview:
    """Render ``body`` with sample values (overridden by the school's own and by ``values``) and
    report encoding, segments and advice. Raises UserError as ``save_template`` would."""
    spec = get_purpose(purpose)
    body = normalise_body(body)
    _validate(spec, body)
    merged = {**placeholders.SAMPLE_VALUES, **school_values(school), **(values or {})}
    text = placeholders.render(body, merged)
    sms = analyse(text)
    return Preview(text=text, language=normalise_language(language), sms=sms,
                   warnings=tuple(preview_warnings(spec, body, sms, school)))


def preview_template(school: School, name: str, language: str = FALLBACK_LANGUAGE) -> Preview:
    template = get_template(school.id, name)
    variant = choose_variant(template, language)
    return preview(school, template.purpose, variant.body, variant.language)


def ensure_default_templates(school: School) -> list[MessageTemplate]:
    """Create the default English template for each purpose the school lacks (named after the
    purpose). Templates the school already has, edited or not, are left alone. Returns the ones
    created; commits."""
    existing = set(db.session.scalars(select(MessageTemplate.name).where(MessageTemplate.school_id == school.id)))
    created = []
    for key, body in DEFAULT_BODIES.items():
        if key in existing:
            continue
        template = MessageTemplate(school_id=school.id, name=key, purpose=key)
        template.variants.append(MessageTemplateVariant(school_id=school.id, language=FALLBACK_LANGUAGE,
                                                        body=body, updated_by="default"))
        db.session.add(template)
        created.append(template)
    db.session.commit()
    return created
