"""Words for the messaging pages: outbox statuses, Twilio error codes, masked numbers. Pure.

Officers read these, not engineers: a status is said as what it means for the family ("Not
delivered"), and an error code as what to do about it. Kept apart from the templates so the
wording can be tested and reused by the API and the digest.
"""
from __future__ import annotations

from dataclasses import dataclass

from outreach.messaging.delivery import BAD_NUMBER_CODES, RETRY_CODES, UNSUBSCRIBED_CODE


@dataclass(frozen=True)
class StatusLabel:
    word: str  # short, for tables and filters
    meaning: str  # one sentence, for the detail page and the filter's help
    tone: str  # ok | wait | bad | off: the tag's colour


STATUS_LABELS: dict[str, StatusLabel] = {
    "scheduled": StatusLabel("Waiting to send", "Stored and due to go at the time shown (quiet hours already applied); it can still be cancelled.", "wait"),
    "queued": StatusLabel("Sending", "The sender has picked it up and is handing it to Twilio.", "wait"),
    "sent": StatusLabel("Sent", "Twilio accepted it; the phone network has not yet confirmed delivery.", "wait"),
    "delivered": StatusLabel("Delivered", "The phone network confirmed it reached the handset.", "ok"),
    "undelivered": StatusLabel("Not delivered", "The network could not deliver it (see the error below).", "bad"),
    "failed": StatusLabel("Failed", "It could not be sent (see the error below); it will not be tried again.", "bad"),
    "cancelled": StatusLabel("Cancelled", "Cancelled before it was sent.", "off"),
    "blocked": StatusLabel("Blocked", "Not sent because the number replied STOP (opted out of texts).", "off"),
}

# Twilio error codes an officer may meet, in words (https://www.twilio.com/docs/api/errors).
_EXPLANATIONS: dict[int, str] = {
    20429: "Twilio was busy (too many requests); the sender tries again later.",
    21211: "The number is not a valid phone number. Correct the contact's number in the MIS.",
    21214: "The number cannot be reached. Check the contact's number.",
    21408: "Texts to this number's country are not enabled for the school's account.",
    21610: "The family replied STOP to the school's sending number; Twilio will not deliver to it until they text START.",
    21612: "Twilio cannot route a text to this number.",
    21614: "The number is not a mobile (a landline cannot receive texts). Ask the family for a mobile number.",
    30003: "The handset was unreachable (switched off or no signal); the sender tries again later.",
    30004: "The recipient has blocked texts from this sender, or their network did.",
    30005: "The number is unknown or no longer in use. Ask the family for their current number.",
    30006: "The number is a landline or on a network that cannot receive texts.",
    30007: "The phone network filtered the text as possible spam. Plain, personal wording helps.",
    30008: "The network did not say why the text was not delivered; it may succeed later.",
}


def status_label(status: str) -> StatusLabel:
    return STATUS_LABELS.get(status, StatusLabel(status.capitalize(), "", "off"))


def explain_error(code: int | None) -> str | None:
    """What an error code means and what to do, or None without a code."""
    if code is None:
        return None
    if code in _EXPLANATIONS:
        return _EXPLANATIONS[code]
    if code in BAD_NUMBER_CODES:
        return f"Twilio says the number cannot be texted: {BAD_NUMBER_CODES[code]}."
    if code in RETRY_CODES:
        return "A temporary problem; the sender tries again later."
    if code == UNSUBSCRIBED_CODE:
        return _EXPLANATIONS[21610]
    if 500 <= code < 600:
        return f"Twilio had a fault (HTTP {code}); the sender tries again later."
    return f"Twilio error {code}: see twilio.com/docs/api/errors/{code}."


def mask_phone(phone: str | None, visible: int = 3) -> str:
    """'+447700900123' -> '•••••••••123': enough to match a number a family reads out, not
    enough to text it. For roles that only read (heads, trust leads)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= visible:
        return "•" * len(digits)
    return "•" * (len(digits) - visible) + digits[-visible:]
