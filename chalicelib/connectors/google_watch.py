"""Google Calendar push channels (``events.watch``): open, renew before expiry, stop.

Why: a channel makes Google tell coverwatch that a calendar changed, so a sync runs minutes after a
trip is booked instead of at the next scheduled scan. Google has no renewal call: a channel lives until
its ``expiration`` and is replaced by opening a new one (new id, new secret) and stopping the old one
with ``channels.stop``. The new channel is opened first, so no change falls into a gap; the overlap
means a change may be announced twice, which costs one extra incremental sync at most.

Each channel gets a random secret token that Google echoes in ``X-Goog-Channel-Token``. Only its
SHA-256 digest is stored (``Channel.secret_sha256``); the webhook compares digests in constant time.
Google's ``resourceId`` is kept because ``channels.stop`` needs it, and Google's ``expiration`` is
trusted over the one asked for (Google may shorten it).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from chalicelib.connectors.base import ConnectorError
from chalicelib.connectors.channel_secrets import secret_digest
from chalicelib.connectors.google import RATE_LIMIT_REASONS, error_reasons, retry_after_seconds
from chalicelib.models import Channel, Connection, SourceKind

logger = logging.getLogger(__name__)

_SOURCE = "google"
DEFAULT_TTL = timedelta(days=7)
"""What coverwatch asks for; Google answers with the expiry it grants."""
RENEW_BEFORE = timedelta(days=1)
"""Renew a channel once it expires within this margin (leaves a day of scheduler runs to do it)."""


class ChannelStore(Protocol):
    def put_channel(self, channel: Channel) -> None: ...
    def delete_channel(self, channel_id: str) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _new_id() -> str:
    return str(uuid.uuid4())


def _error(action: str, exc: Exception) -> ConnectorError:
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        rate_limited = status == 403 and bool(error_reasons(exc) & RATE_LIMIT_REASONS)
        retryable = rate_limited or status == 429 or status >= 500
        hinted = retry_after_seconds(exc.resp.get("retry-after"))
        return ConnectorError(
            _SOURCE,
            f"{action} failed: HTTP {status}",
            retry_after=(60 if hinted is None else hinted) if retryable else None,
            permanent=not retryable,
        )
    if isinstance(exc, RefreshError):
        return ConnectorError(
            _SOURCE, f"{action} failed: Google refused a token ({exc.args[0]})", permanent=True
        )
    return ConnectorError(_SOURCE, f"{action} failed: {type(exc).__name__}", retry_after=60)


_CALL_ERRORS = (HttpError, RefreshError, TransportError, OSError, httplib2.HttpLib2Error)


@dataclass
class GoogleChannels:
    """Opens, renews and stops watch channels on the calendars of ``Connection``s."""

    services: Callable[[str], Any]
    """User e-mail → calendar v3 service acting as that user (``google_auth.GoogleServices``)."""
    store: ChannelStore
    address: str
    """The public HTTPS URL of the webhook route (``/v1/webhooks/google``)."""
    ttl: timedelta = DEFAULT_TTL
    clock: Callable[[], datetime] = field(default=_now)
    new_secret: Callable[[], str] = field(default=_new_secret)
    new_id: Callable[[], str] = field(default=_new_id)

    def open(self, connection: Connection) -> Channel:
        """Start a channel on ``connection``'s calendar and store it."""
        token = self.new_secret()
        asked = self.clock() + self.ttl
        body = {
            "id": self.new_id(),
            "type": "web_hook",
            "address": self.address,
            "token": token,
            "expiration": str(int(asked.timestamp() * 1000)),
        }
        service = self.services(connection.account)
        try:
            answer = service.events().watch(calendarId=connection.calendar_id, body=body).execute()
        except _CALL_ERRORS as exc:
            raise _error(f"watching the calendar of {connection.id}", exc) from None
        expiration = answer.get("expiration")
        expires_at = datetime.fromtimestamp(int(expiration) / 1000, UTC) if expiration else asked
        channel = Channel(
            id=str(answer.get("id") or body["id"]),
            source=SourceKind.GOOGLE,
            connection_id=connection.id,
            secret_sha256=secret_digest(token),
            expires_at=expires_at,
            resource_id=answer.get("resourceId"),
        )
        self.store.put_channel(channel)
        logger.info("opened Google channel %s for %s until %s", channel.id, connection.id, expires_at)
        return channel

    def stop(self, channel: Channel, connection: Connection) -> None:
        """Stop ``channel`` at Google and forget it; a channel Google no longer knows is just forgotten."""
        service = self.services(connection.account)
        try:
            service.channels().stop(body={"id": channel.id, "resourceId": channel.resource_id}).execute()
        except HttpError as exc:
            if int(exc.resp.status) != 404:
                raise _error(f"stopping channel {channel.id}", exc) from None
            logger.info("Google channel %s was already gone", channel.id)
        except _CALL_ERRORS as exc:
            raise _error(f"stopping channel {channel.id}", exc) from None
        self.store.delete_channel(channel.id)

    def due(self, channel: Channel, margin: timedelta = RENEW_BEFORE) -> bool:
        return channel.expires_at - margin <= self.clock()

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        """Open the successor first, then stop ``channel``; a failed stop only leaves it to expire."""
        successor = self.open(connection)
        try:
            self.stop(channel, connection)
        except ConnectorError as exc:
            logger.warning("old Google channel %s not stopped (%s); it expires by itself", channel.id, exc)
            self.store.delete_channel(channel.id)
        return successor

    def renew_if_due(
        self, channel: Channel, connection: Connection, margin: timedelta = RENEW_BEFORE
    ) -> Channel:
        return self.renew(channel, connection) if self.due(channel, margin) else channel
