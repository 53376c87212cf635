"""Graph change-notification subscriptions on a mailbox's events: create, renew, recreate, delete.

Why: with a subscription Graph tells coverwatch when a calendar changes, so a trip booked today is
assessed today instead of at the next scheduled scan. Graph keeps an Outlook-events subscription for
at most 10,080 minutes (7 days) and may drop it earlier, so subscriptions are renewed before they
expire and recreated when Graph says one was removed.

Each subscription gets a fresh random ``clientState``. Graph repeats it in every notification; only
its SHA-256 digest is stored (in a Channel whose id is the subscription id), so the webhook can check
a notification without the table holding the secret itself.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from chalicelib.connectors.base import ConnectorError
from chalicelib.connectors.channel_secrets import secret_digest
from chalicelib.connectors.graph import GRAPH_BASE, GraphHttp, trim_fraction
from chalicelib.models import Channel, Connection, SourceKind

MAX_LIFETIME = timedelta(minutes=10080)
DEFAULT_LIFETIME = timedelta(minutes=10070)
"""Just under Graph's maximum, so that clock skew never makes Graph refuse the expiry."""
CHANGE_TYPES = "created,updated,deleted"
_SOURCE = "graph"
log = logging.getLogger(__name__)


class ChannelStore(Protocol):
    def put_channel(self, channel: Channel) -> None: ...
    def get_channel(self, channel_id: str) -> Channel | None: ...
    def delete_channel(self, channel_id: str) -> None: ...


def due_for_renewal(channel: Channel, now: datetime, margin: timedelta = timedelta(days=1)) -> bool:
    """True when ``channel`` expires within ``margin`` (a scheduler renews those)."""
    return channel.expires_at - now <= margin


class GraphSubscriptions:
    """Manages subscriptions for one Graph app; the notification URLs are the webhook routes."""

    def __init__(
        self,
        http: GraphHttp,
        store: ChannelStore,
        *,
        notification_url: str,
        lifecycle_url: str,
        graph_base: str = GRAPH_BASE,
        lifetime: timedelta = DEFAULT_LIFETIME,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not timedelta(minutes=1) <= lifetime <= MAX_LIFETIME:
            raise ValueError("a Graph events subscription lives between 1 and 10,080 minutes")
        self._http = http
        self._store = store
        self._notification_url = notification_url
        self._lifecycle_url = lifecycle_url
        self._base = graph_base.rstrip("/")
        self._lifetime = lifetime
        self._now = now

    def create(self, connection: Connection) -> Channel:
        """Subscribe to the connection's mailbox events and store the Channel."""
        client_state = secrets.token_urlsafe(48)  # Graph allows up to 128 characters
        body = {
            "changeType": CHANGE_TYPES,
            "notificationUrl": self._notification_url,
            "lifecycleNotificationUrl": self._lifecycle_url,
            "resource": f"users/{connection.account}/events",
            "expirationDateTime": self._expiry(),
            "clientState": client_state,
        }
        answer = self._send("POST", f"{self._base}/subscriptions", body)
        if answer is None:
            raise ConnectorError(_SOURCE, f"mailbox {connection.account!r} not found", permanent=True)
        channel = Channel(
            id=_field(answer, "id"),
            source=SourceKind.GRAPH,
            connection_id=connection.id,
            secret_sha256=secret_digest(client_state),
            expires_at=_expires(answer),
        )
        self._store.put_channel(channel)
        log.info("graph subscription %s created for %s", channel.id, connection.id)
        return channel

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        """Extend ``channel``; when Graph no longer knows it, create a new subscription instead."""
        answer = self._send("PATCH", self._url(channel.id), {"expirationDateTime": self._expiry()})
        if answer is None:
            log.info("graph subscription %s is gone; recreating it", channel.id)
            return self.recreate(channel, connection)
        renewed = channel.model_copy(update={"expires_at": _expires(answer)})  # trust Graph's expiry
        self._store.put_channel(renewed)
        return renewed

    def recreate(self, channel: Channel, connection: Connection) -> Channel:
        """Replace a removed subscription: forget the old Channel, create and store a new one."""
        self._store.delete_channel(channel.id)
        return self.create(connection)

    def delete(self, channel: Channel) -> None:
        """Unsubscribe (a subscription Graph no longer knows is fine) and forget the Channel."""
        self._http.call("DELETE", self._url(channel.id))
        self._store.delete_channel(channel.id)

    def _url(self, subscription_id: str) -> str:
        return f"{self._base}/subscriptions/{quote(subscription_id, safe='')}"

    def _expiry(self) -> str:
        return (self._now() + self._lifetime).astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _send(self, method: str, url: str, body: dict[str, Any]) -> dict[str, Any] | None:
        resp = self._http.call(method, url, headers={"Content-Type": "application/json"}, body=body)
        if resp.status_code == 404:
            return None
        try:
            doc = resp.json()
        except ValueError:
            raise ConnectorError(_SOURCE, f"{method} /subscriptions answer is not JSON") from None
        if not isinstance(doc, dict):
            raise ConnectorError(_SOURCE, f"{method} /subscriptions answer is not a JSON object")
        return doc


def _field(answer: dict[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise ConnectorError(_SOURCE, f"subscription answer has no {name}")
    return value


def _expires(answer: dict[str, Any]) -> datetime:
    text = _field(answer, "expirationDateTime")
    try:
        moment = datetime.fromisoformat(trim_fraction(text.replace("Z", "+00:00")))
    except ValueError:
        raise ConnectorError(_SOURCE, f"subscription expiry is not a date-time: {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
