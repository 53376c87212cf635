"""A fake Google (OAuth token endpoint + Calendar v3) on 127.0.0.1 for the real client libraries.

Why: the Google connector must be proven through google-auth and google-api-python-client as they
run in production — the JWT-bearer exchange of a delegated service account, ``events.list`` paging
and sync tokens, 410 on an invalidated token, 429 with ``Retry-After``, ``events.watch`` and
``channels.stop`` — without reaching the network. The fake speaks the wire protocol (status codes,
headers, JSON shapes) and keeps its state in memory so tests can change a calendar between syncs.

What it checks like Google does: the assertion's RSA signature against the registered service
account's public key, ``aud`` (Google's token audience), ``sub`` (must be a known user) and ``scope`` (must be
granted to the client id under domain-wide delegation, else ``unauthorized_client``); bearer tokens
on every API call (unknown or expired → 401); ``timeMin``/``timeMax`` refused with a ``syncToken``.

Not modelled: recurrence expansion (the fake stores single instances, as ``singleEvents=true``
returns them), ACLs between users, quotas other than the injected failures.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.auth import jwt

from tests.fakes.keys import new_rsa_keypair
from tests.fakes.loopback import serving

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""google-auth signs service-account assertions for this audience whatever ``token_uri`` says."""


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None
    body: dict[str, Any] | None = None


@dataclass
class _Stored:
    body: dict[str, Any]
    seq: int


@dataclass
class _Listing:
    items: list[dict[str, Any]]
    offset: int
    seq: int
    user: str
    calendar: str


@dataclass
class FakeChannel:
    id: str
    token: str | None
    address: str
    resource_id: str
    expiration_ms: int
    user: str
    calendar: str
    messages: Iterator[int] = field(default_factory=lambda: itertools.count(1))


def new_service_account(
    token_uri: str, client_email: str = "coverwatch@proj.iam.gserviceaccount.com"
) -> tuple[dict[str, Any], str]:
    """A throwaway service-account JSON (fresh RSA key) and its public key in PEM."""
    private_pem, public_pem = new_rsa_keypair()
    info = {
        "type": "service_account",
        "project_id": "proj",
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": client_email,
        "client_id": "104857600000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    return info, public_pem


def _google_error(status: int, reason: str, message: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }


def _parse_when(value: dict[str, Any], zone_default: str = "UTC") -> datetime:
    if "date" in value:
        return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value["dateTime"])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeGoogle:
    """State and behaviour of the fake; ``serve()`` runs it on 127.0.0.1."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.calendars: dict[str, dict[str, _Stored]] = {}
        self.time_zones: dict[str, str] = {}
        self.service_accounts: dict[str, tuple[str, str]] = {}  # client_email -> (public pem, client id)
        self.delegation: dict[str, set[str]] = {}  # client_id -> granted scopes
        self.tokens: dict[str, tuple[str, str, float]] = {}  # access token -> (sub, scope, expires at)
        self.token_ttl = 3600
        self.issued_to: list[str] = []
        self.channels: dict[str, FakeChannel] = {}
        self.stopped: list[str] = []
        self.max_channel_ttl = timedelta(days=7)
        self._seq = 0
        self._epoch = 0
        self._listings: dict[str, _Listing] = {}
        self._failures: list[tuple[int, dict[str, str], dict[str, Any]]] = []

    # --- set-up and mutation from tests ----------------------------------------------------------
    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def api_endpoint(self) -> str:
        return f"{self.base_url}/calendar/v3/"

    def register_service_account(
        self, info: dict[str, Any], public_pem: str, *, delegated: bool = True
    ) -> None:
        with self.lock:
            self.service_accounts[info["client_email"]] = (public_pem, info["client_id"])
            if delegated:
                self.delegation[info["client_id"]] = {CALENDAR_READONLY}

    def add_user(self, email: str, time_zone: str = "Europe/Berlin") -> None:
        with self.lock:
            self.calendars.setdefault(email, {})
            self.time_zones[email] = time_zone

    def put_event(self, user: str, event: dict[str, Any]) -> str:
        """Create or replace an event (as Google would after an edit); returns its id."""
        with self.lock:
            self._seq += 1
            body = json.loads(json.dumps(event))
            body.setdefault("id", secrets.token_hex(13))
            body.setdefault("kind", "calendar#event")
            body.setdefault("status", "confirmed")
            body.setdefault("iCalUID", f"{body['id']}@google.com")
            body["etag"] = f'"{3_000_000_000_000_000 + self._seq}"'
            body["updated"] = f"2027-01-{1 + self._seq % 28:02d}T10:00:{self._seq % 60:02d}.000Z"
            self.calendars[user][body["id"]] = _Stored(body, self._seq)
            return str(body["id"])

    def update_event(self, user: str, event_id: str, **changes: Any) -> None:
        with self.lock:
            body = dict(self.calendars[user][event_id].body)
            body.update(changes)
            self.put_event(user, body)

    def delete_event(self, user: str, event_id: str) -> None:
        """Delete as Google does: the event stays as a bare cancelled stub for incremental syncs."""
        with self.lock:
            self._seq += 1
            stub = {"kind": "calendar#event", "etag": f'"{self._seq}"', "id": event_id, "status": "cancelled"}
            self.calendars[user][event_id] = _Stored(stub, self._seq)

    def invalidate_sync_tokens(self) -> None:
        """Every sync token issued so far answers 410 fullSyncRequired from now on."""
        with self.lock:
            self._epoch += 1

    def expire_access_tokens(self) -> None:
        """Server-side expiry: every issued access token is refused with 401 from now on."""
        with self.lock:
            self.tokens = {t: (s, sc, 0.0) for t, (s, sc, _) in self.tokens.items()}

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        reason: str = "rateLimitExceeded",
    ) -> None:
        """The next ``times`` Calendar API calls answer ``status`` (with ``Retry-After`` if given)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        domain = "usageLimits" if reason.endswith("LimitExceeded") else "global"
        body = _google_error(
            status, reason, "Rate Limit Exceeded" if domain == "usageLimits" else reason, domain
        )
        with self.lock:
            self._failures.extend([(status, headers, body)] * times)

    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/calendar/")]

    def token_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/token"]

    def notify(
        self,
        client: Any,
        channel_id: str,
        state: str = "exists",
        *,
        path: str = "/v1/webhooks/google",
        token: str | None = None,
        use_token: bool = True,
    ) -> Any:
        """POST a push notification (headers only, no body) for ``channel_id`` to a Chalice test client."""
        with self.lock:
            channel = self.channels.get(channel_id)
            stopped = channel is None
            if channel is None:  # a late message from a stopped channel: Google still knows its headers
                channel = FakeChannel(channel_id, token, "", "unknown-resource", 0, "", "")
            number = next(channel.messages)
        headers = {
            "Content-Type": "application/json; utf-8",
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": f"https://www.googleapis.com/calendar/v3/calendars/{channel.calendar}/events",
            "X-Goog-Channel-Expiration": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(channel.expiration_ms / 1000)
            ),
        }
        sent_token = token if token is not None or stopped else channel.token
        if use_token and sent_token is not None:
            headers["X-Goog-Channel-Token"] = sent_token
        return client.http.post(path, headers=headers, body=b"")

    # --- protocol --------------------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query)
        path = parsed.path
        with self.lock:
            if path == "/token" and method == "POST":
                self.requests.append(RecordedRequest(method, path, query, None))
                return self._token(body)
            user = self._bearer(headers.get("authorization", ""))
            self.requests.append(
                RecordedRequest(
                    method, path, query, user[0] if user else None, json.loads(body) if body else None
                )
            )
            if user is None:
                return _json(
                    401,
                    _google_error(401, "authError", "Invalid Credentials"),
                    {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                )
            if CALENDAR_READONLY not in user[1].split():
                return _json(403, _google_error(403, "insufficientPermissions", "Insufficient Permission"))
            if self._failures:
                status, extra, error = self._failures.pop(0)
                return _json(status, error, extra)
            return self._api(method, path, query, body, user[0])

    def _token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return _json(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        assertion = form["assertion"][0]
        unverified = jwt.decode(assertion, verify=False)  # type: ignore[no-untyped-call]
        account = self.service_accounts.get(str(unverified.get("iss")))
        if account is None:
            return _json(
                401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}
            )
        try:
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                assertion, certs=account[0], audience=[GOOGLE_TOKEN_AUDIENCE, self.token_uri]
            )
        except ValueError as exc:
            return _json(
                400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature: {exc}"}
            )
        scope = str(claims.get("scope", ""))
        sub = claims.get("sub")
        if not set(scope.split()) <= self.delegation.get(account[1], set()):
            return _json(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens using this "
                    "method, or client not authorized for any of the scopes requested.",
                },
            )
        if sub not in self.calendars:
            return _json(400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"})
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.tokens[token] = (str(sub), scope, time.time() + self.token_ttl)
        self.issued_to.append(str(sub))
        return _json(200, {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"})

    def _bearer(self, header: str) -> tuple[str, str] | None:
        if not header.startswith("Bearer "):
            return None
        found = self.tokens.get(header.removeprefix("Bearer "))
        if found is None or found[2] <= time.time():
            return None
        return found[0], found[1]

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, user: str
    ) -> tuple[int, dict[str, str], bytes]:
        parts = [urllib.parse.unquote(p) for p in path.split("/")]
        if (
            method == "GET"
            and len(parts) == 6
            and parts[1:4] == ["calendar", "v3", "calendars"]
            and parts[5] == "events"
        ):
            return self._list(user, parts[4], {k: v[-1] for k, v in query.items()})
        if method == "POST" and len(parts) == 7 and parts[5:] == ["events", "watch"]:
            return self._watch(user, parts[4], json.loads(body or b"{}"))
        if method == "POST" and path == "/calendar/v3/channels/stop":
            return self._stop(json.loads(body or b"{}"))
        return _json(404, _google_error(404, "notFound", "Not Found"))

    def _calendar(self, user: str, calendar_id: str) -> str | None:
        owner = user if calendar_id in ("primary", user) else None
        return owner if owner in self.calendars else None

    def _list(self, user: str, calendar_id: str, q: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        owner = self._calendar(user, calendar_id)
        if owner is None:
            return _json(404, _google_error(404, "notFound", "Not Found"))
        size = min(int(q.get("maxResults", "250")), 2500)
        if "pageToken" in q:
            listing = self._listings.get(q["pageToken"])
            if listing is None or listing.user != owner:
                return _json(400, _google_error(400, "invalid", "Invalid page token value."))
        elif "syncToken" in q:
            if set(q) & {"timeMin", "timeMax", "q", "orderBy", "updatedMin", "iCalUID"}:
                return _json(
                    400, _google_error(400, "invalid", "Sync token cannot be used with other restrictions.")
                )
            since = self._read_sync_token(q["syncToken"], owner)
            if since is None:
                return _json(
                    410,
                    _google_error(
                        410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
                    ),
                )
            changed = sorted(
                (s for s in self.calendars[owner].values() if s.seq > since), key=lambda s: s.seq
            )
            listing = _Listing([s.body for s in changed], 0, self._seq, owner, calendar_id)
        else:
            low = datetime.fromisoformat(q["timeMin"]) if "timeMin" in q else None
            high = datetime.fromisoformat(q["timeMax"]) if "timeMax" in q else None
            items = [
                s.body
                for s in self.calendars[owner].values()
                if s.body.get("status") != "cancelled"
                and (low is None or _parse_when(s.body["end"]) > low)
                and (high is None or _parse_when(s.body["start"]) < high)
            ]
            items.sort(key=lambda b: _parse_when(b["start"]))
            listing = _Listing(items, 0, self._seq, owner, calendar_id)
        page = listing.items[listing.offset : listing.offset + size]
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{listing.seq}"',
            "summary": owner,
            "updated": "2027-01-15T10:00:00.000Z",
            "timeZone": self.time_zones.get(owner, "UTC"),
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": page,
        }
        if listing.offset + size < len(listing.items):
            token = secrets.token_urlsafe(16)
            self._listings[token] = _Listing(
                listing.items, listing.offset + size, listing.seq, owner, calendar_id
            )
            answer["nextPageToken"] = token
        else:
            answer["nextSyncToken"] = self._sync_token(owner, listing.seq)
        return _json(200, answer)

    def _sync_token(self, owner: str, seq: int) -> str:
        raw = json.dumps([owner, seq, self._epoch]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _read_sync_token(self, token: str, owner: str) -> int | None:
        try:
            user, seq, epoch = json.loads(base64.urlsafe_b64decode(token.encode()))
        except ValueError:
            return None
        return int(seq) if user == owner and epoch == self._epoch else None

    def _watch(self, user: str, calendar_id: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        owner = self._calendar(user, calendar_id)
        if owner is None:
            return _json(404, _google_error(404, "notFound", "Not Found"))
        if body.get("type") != "web_hook" or not str(body.get("address", "")).startswith("https://"):
            return _json(400, _google_error(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS"))
        if not body.get("id") or body["id"] in self.channels:
            return _json(400, _google_error(400, "channelIdNotUnique", "Channel id not unique"))
        longest = int((time.time() + self.max_channel_ttl.total_seconds()) * 1000)
        expiration = min(int(body.get("expiration") or longest), longest)
        channel = FakeChannel(
            body["id"],
            body.get("token"),
            body["address"],
            "res-" + secrets.token_hex(8),
            expiration,
            owner,
            calendar_id,
        )
        self.channels[channel.id] = channel
        answer = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": f"https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events?alt=json",
            "expiration": str(expiration),
        }
        if channel.token is not None:
            answer["token"] = channel.token
        return _json(200, answer)

    def _stop(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        channel = self.channels.get(str(body.get("id")))
        if channel is None or channel.resource_id != body.get("resourceId"):
            return _json(
                404, _google_error(404, "notFound", f"Channel '{body.get('id')}' not found for project")
            )
        del self.channels[channel.id]
        self.stopped.append(channel.id)
        return 204, {}, b""


def _json(
    status: int, doc: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        json.dumps(doc).encode(),
    )


@contextmanager
def serve() -> Iterator[FakeGoogle]:
    """Run a fresh fake on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeGoogle()
    with serving(fake) as server:
        fake.base_url = f"http://127.0.0.1:{server.port}"
        yield fake
