"""Unique Pupil Numbers: a check letter then 12 characters (DfE "UPN and former UPN" guidance).

Permanent UPNs are a check letter and 12 digits; temporary UPNs end in a letter in place of the
last digit. The check letter is sum(digit x weight) for weights 2..13 over positions 2..13, mod 23,
indexing ``ABCDEFGHJKLMNPQRTUVWXYZ``. For a temporary UPN the final letter counts as its index in
that alphabet, as the DfE specification says.
"""
from __future__ import annotations

import re

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_RE = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")


def check_letter(body: str) -> str:
    """Check letter for the 12 characters after it (11 digits then a digit or letter)."""
    if len(body) != 12:
        raise ValueError("a UPN body has 12 characters")
    total = 0
    for weight, char in zip(range(2, 14), body):
        value = int(char) if char.isdigit() else CHECK_ALPHABET.index(char)
        total += value * weight
    return CHECK_ALPHABET[total % 23]


def normalise_upn(raw: str) -> str:
    return raw.strip().upper()


def upn_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid UPN, or None when it is."""
    upn = normalise_upn(raw)
    if len(upn) != 13:
        return f"a UPN has 13 characters, this has {len(upn)}"
    if not _UPN_RE.match(upn):
        return "a UPN is a check letter, 11 digits, then a digit (or a letter for a temporary UPN)"
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"check letter should be {expected}"
    return None


def is_temporary(upn: str) -> bool:
    return normalise_upn(upn)[-1].isalpha()


def make_upn(la: int, estab: int, year: int, serial: int) -> str:
    """Build a valid permanent UPN (used by demo data and tests)."""
    body = f"{la:03d}{estab:04d}{year % 100:02d}{serial:03d}"
    return check_letter(body) + body
