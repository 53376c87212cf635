"""Signed one-click links in the traveler's e-mail: "this is a work trip" / "this is a holiday".

A link carries who, which trip, which answer and until when, signed with HMAC-SHA256 under a secret
only the service knows. Nothing is stored when the link is made; the signature is the proof. A link
that was altered, is malformed or has expired is refused (the route shows a friendly page).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from chalicelib.models import Purpose

ANSWERS = (Purpose.WORK, Purpose.HOLIDAY)
Problem = Literal["malformed", "tampered", "expired"]


class LinkError(ValueError):
    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class TripAnswer:
    employee_id: str
    trip_id: str
    purpose: Purpose
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def sign(answer: TripAnswer, secret: bytes) -> str:
    """The token for one answer; put it in a URL path as is (URL-safe, no padding)."""
    if answer.purpose not in ANSWERS:
        raise ValueError("a traveler can answer only work or holiday")
    doc = {
        "e": answer.employee_id,
        "t": answer.trip_id,
        "p": answer.purpose.value,
        "x": int(answer.expires_at.timestamp()),
    }
    payload = _b64(json.dumps(doc, separators=(",", ":")).encode())
    return f"{payload}.{_mac(payload, secret)}"


def verify(token: str, secret: bytes, now: datetime) -> TripAnswer:
    """The answer a valid token carries, or LinkError saying what is wrong with it."""
    payload, _, mac = token.partition(".")
    if not payload or not mac:
        raise LinkError("malformed", "this link is incomplete")
    if not hmac.compare_digest(mac, _mac(payload, secret)):
        raise LinkError("tampered", "this link has been changed or was not issued by coverwatch")
    try:
        doc = json.loads(_unb64(payload))
        answer = TripAnswer(
            employee_id=str(doc["e"]),
            trip_id=str(doc["t"]),
            purpose=Purpose(doc["p"]),
            expires_at=datetime.fromtimestamp(int(doc["x"]), UTC),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkError("malformed", "this link cannot be read") from exc
    if answer.purpose not in ANSWERS:
        raise LinkError("malformed", "this link does not carry an answer")
    if now >= answer.expires_at:
        raise LinkError("expired", f"this link expired on {answer.expires_at:%Y-%m-%d}")
    return answer
