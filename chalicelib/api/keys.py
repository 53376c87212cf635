"""API keys: shown once when created, stored only as a SHA-256 digest, each with scopes and an expiry.

A key reads ``cw_<key id>_<secret>``. The key id is public (it names the key in logs and the audit
trail); the secret is 256 random bits, so a plain SHA-256 digest is as good as a slow password hash
here and keeps verification in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from chalicelib.api.records import DEFAULT_RATE_PER_MINUTE, ApiKey, Scope

PREFIX = "cw"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(
    name: str,
    scopes: frozenset[Scope],
    *,
    now: datetime | None = None,
    expires_at: datetime | None = None,
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
) -> tuple[str, ApiKey]:
    """A fresh key: the plaintext to hand over once, and the record to store."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = ApiKey(
        id=key_id,
        name=name,
        scopes=scopes,
        digest=_digest(secret),
        created_at=now or datetime.now(UTC),
        expires_at=expires_at,
        rate_per_minute=rate_per_minute,
    )
    return f"{PREFIX}_{key_id}_{secret}", record


def split_key(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 12 or not secret:
        return None
    return key_id, secret


def matches(record: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(record.digest, _digest(secret))
