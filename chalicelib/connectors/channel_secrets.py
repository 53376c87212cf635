"""The shared secret of a push channel, kept only as a digest and checked in constant time.

Stdlib only: the webhook routes run in the API function, which must not load the providers' clients.
"""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.models import Channel


def secret_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(channel: Channel, token: str | None) -> bool:
    """True when ``token`` is the secret ``channel`` was opened with (constant-time comparison)."""
    return token is not None and hmac.compare_digest(secret_digest(token), channel.secret_sha256)
