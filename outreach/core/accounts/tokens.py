"""API token format: a high-entropy secret shown once; only its SHA-256 is stored.

The token has 256 bits of randomness, so a fast hash is enough (no argon2: nothing to
brute-force) and lookups are a single indexed equality.
"""
from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "otk_"  # recognisable in secret scanners and logs
PREFIX_SHOWN = 10  # "otk_" and six characters: enough to tell tokens apart in lists


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
