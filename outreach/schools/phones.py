"""Phone numbers: stored in E.164, parsed with libphonenumber (UK numbers by default)."""
from __future__ import annotations

import phonenumbers


def to_e164(raw: str, region: str = "GB") -> str:
    """Return ``raw`` as E.164, raising ValueError with a reason a person can act on."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc.args[0] if exc.args else 'unreadable'})") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number (wrong length)")
    if not (phonenumbers.is_valid_number(number) or is_drama_number(number)):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164, None)
    if is_drama_number(number):  # the drama range is a mobile range (07700 900xxx)
        return True
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def is_drama_number(number: phonenumbers.PhoneNumber) -> bool:
    """Ofcom's range reserved for drama (07700 900000-900999): libphonenumber calls it invalid,
    but demo data and tests use it precisely because no real person owns one."""
    national = str(number.national_number)
    return number.country_code == 44 and national.startswith("7700900") and len(national) == 10
