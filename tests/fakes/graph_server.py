"""A fake Microsoft Graph and Entra ID token endpoint on 127.0.0.1, speaking their real protocols.

Why: the Graph connector is only trustworthy if it is exercised through msal and requests against
something that answers like Graph does — delta links, skip tokens, ``Prefer`` page sizes, 429 with
``Retry-After``, 401 for an expired token, ``syncStateNotFound`` / 410 for a dead delta token, the
subscription validation handshake — without patching our own code or reaching the network.

Tests mutate in-memory mailboxes (``put_event``, ``delete_event``, ``add_series``), inject faults
(``fail_next``, ``expire_tokens``, ``expire_delta_tokens``, ``deny_mailbox``) and read the request
log (``graph_calls``). ``LoopbackSession`` is the requests session (and msal ``http_client``) that
sends https://login.example.test and https://graph.example.test to this server.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import requests

from tests.fakes.loopback import serving

LOGIN = "https://login.example.test"
GRAPH = "https://graph.example.test"
GRAPH_BASE = f"{GRAPH}/v1.0"
MAX_SUBSCRIPTION_MINUTES = 10080

Reply = tuple[int, dict[str, str], bytes]


def graph_time(moment: datetime) -> str:
    """Graph's wire format: no offset, seven fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def make_event(event_id: str, subject: str, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    """A full Graph event as delta returns it, body and attendees included (delta ignores $select)."""
    event: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.event",
        "id": event_id,
        "iCalUId": f"0400000082-{event_id}",
        "subject": subject,
        "type": "singleInstance",
        "isAllDay": False,
        "isCancelled": False,
        "showAs": "busy",
        "categories": [],
        "sensitivity": "normal",
        "start": {"dateTime": graph_time(start), "timeZone": "UTC"},
        "end": {"dateTime": graph_time(end), "timeZone": "UTC"},
        "location": {"displayName": ""},
        "body": {"contentType": "html", "content": f"<p>Private notes about {subject}</p>"},
        "bodyPreview": f"Private notes about {subject}",
        "attendees": [{"emailAddress": {"name": "Bob Secret", "address": "bob.secret@example.com"}}],
        "organizer": {"emailAddress": {"name": "Carol Boss", "address": "carol.boss@example.com"}},
        "onlineMeeting": {"joinUrl": "https://teams.example.test/l/meetup-join/secret"},
    }
    event.update(extra)
    return event


class Deliverer(Protocol):
    """How the fake Graph reaches a webhook: a Chalice test client or a real URL."""

    def post(self, url: str, query: dict[str, str], body: bytes, content_type: str) -> Reply: ...


class ChaliceDeliverer:
    """Delivers to a chalice.test.Client, using only the path of the notification URL."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, url: str, query: dict[str, str], body: bytes, content_type: str) -> Reply:
        from urllib.parse import urlencode

        path = urlsplit(url).path + (f"?{urlencode(query)}" if query else "")
        resp = self.client.http.post(path, headers={"Content-Type": content_type}, body=body)
        return resp.status_code, dict(resp.headers), resp.body or b""


class UrlDeliverer:
    def post(self, url: str, query: dict[str, str], body: bytes, content_type: str) -> Reply:
        resp = requests.post(url, params=query, data=body, headers={"Content-Type": content_type}, timeout=10)
        return resp.status_code, dict(resp.headers), resp.content


@dataclass
class Fault:
    status: int
    times: int
    retry_after: str | None = None
    code: str = ""
    path_contains: str = ""


@dataclass
class DeltaState:
    user: str
    start: datetime
    end: datetime
    seq: int


@dataclass
class Mailbox:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


def _utc(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    head, dot, tail = text.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeGraph:
    """State and protocol of the fake; ``handle`` answers one HTTP request."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[tuple[str, str], dict[str, str]] = {}
        self.tokens: dict[str, datetime] = {}
        self.token_lifetime = 3599
        self.mailboxes: dict[str, Mailbox] = {}
        self.denied: set[str] = set()
        self.seq = 0
        self.delta_tokens: dict[str, DeltaState] = {}
        self.dead_delta: dict[str, str] = {}
        self.skip_tokens: dict[str, tuple[list[dict[str, Any]], str, str]] = {}
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.deliverer: Deliverer | None = None
        self.validate_subscriptions = True
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- test controls -----------------------------------------------------------------------
    def register_client(
        self,
        tenant: str,
        client_id: str,
        *,
        secret: str | None = None,
        public_key_pem: str | None = None,
        thumbprint: str | None = None,
    ) -> None:
        self.clients[(tenant, client_id)] = {
            "secret": secret or "",
            "public_key": public_key_pem or "",
            "thumbprint": thumbprint or "",
        }

    def expire_tokens(self) -> None:
        """Every access token issued so far is now refused with 401 InvalidAuthenticationToken."""
        with self.lock:
            self.tokens.clear()

    def expire_delta_tokens(self, how: str = "syncStateNotFound") -> None:
        """Every delta link issued so far dies: ``syncStateNotFound`` (400) or ``gone`` (410)."""
        with self.lock:
            for token in self.delta_tokens:
                self.dead_delta[token] = how
            self.delta_tokens.clear()

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: str | None = None,
        code: str = "",
        path_contains: str = "",
    ) -> None:
        self.faults.append(Fault(status, times, retry_after, code, path_contains))

    def deny_mailbox(self, user: str) -> None:
        self.denied.add(user)

    def mailbox(self, user: str) -> Mailbox:
        return self.mailboxes.setdefault(user, Mailbox())

    def put_event(self, user: str, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.seq += 1
            box = self.mailbox(user)
            stored = {
                **event,
                "lastModifiedDateTime": f"2027-01-01T00:00:{self.seq % 60:02d}.{self.seq:07d}Z",
            }
            stored["@odata.etag"] = f'W/"etag-{self.seq}"'
            kind = "updated" if event["id"] in box.events else "created"
            box.events[event["id"]] = stored
            box.changed[event["id"]] = self.seq
            box.deleted.discard(event["id"])
            if stored.get("type") == "seriesMaster":
                for occ in box.events.values():
                    if occ.get("seriesMasterId") == event["id"]:
                        box.changed[occ["id"]] = self.seq
            self._notify(user, event["id"], kind)
            return stored

    def delete_event(self, user: str, event_id: str) -> None:
        with self.lock:
            self.seq += 1
            box = self.mailbox(user)
            box.events.pop(event_id, None)
            box.changed[event_id] = self.seq
            box.deleted.add(event_id)
            self._notify(user, event_id, "deleted")

    def add_series(
        self, user: str, master: dict[str, Any], occurrences: list[tuple[datetime, datetime]]
    ) -> list[str]:
        """A recurring series: the master (never in calendarView) and its occurrence rows."""
        self.put_event(user, {**master, "type": "seriesMaster"})
        ids = []
        for n, (start, end) in enumerate(occurrences):
            occ_id = f"{master['id']}-occ{n}"
            self.put_event(
                user,
                {
                    "@odata.type": "#microsoft.graph.event",
                    "id": occ_id,
                    "type": "occurrence",
                    "seriesMasterId": master["id"],
                    "start": {"dateTime": graph_time(start), "timeZone": "UTC"},
                    "end": {"dateTime": graph_time(end), "timeZone": "UTC"},
                },
            )
            ids.append(occ_id)
        return ids

    def graph_calls(self, path_contains: str = "") -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/v1.0/") and path_contains in c.path]

    def token_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/oauth2/v2.0/token")]

    def deliver_notifications(self) -> list[Reply]:
        """POST every pending change notification to its subscription's notificationUrl."""
        assert self.deliverer is not None, "set a deliverer first"
        with self.lock:
            pending, self.pending = self.pending, {}
        replies = []
        for sub_id, values in pending.items():
            sub = self.subscriptions.get(sub_id)
            if sub is not None:
                body = json.dumps({"value": values}).encode()
                replies.append(self.deliverer.post(sub["notificationUrl"], {}, body, "application/json"))
        return replies

    def send_lifecycle(self, sub_id: str, event: str, *, client_state: str | None = None) -> Reply:
        """POST a lifecycle notification (reauthorizationRequired, subscriptionRemoved, missed)."""
        assert self.deliverer is not None, "set a deliverer first"
        sub = self.subscriptions[sub_id]
        if event == "subscriptionRemoved":
            self.subscriptions.pop(sub_id)
        note = {
            "subscriptionId": sub_id,
            "subscriptionExpirationDateTime": sub["expirationDateTime"],
            "tenantId": "tenant-1",
            "clientState": sub["clientState"] if client_state is None else client_state,
            "lifecycleEvent": event,
        }
        body = json.dumps({"value": [note]}).encode()
        return self.deliverer.post(sub["lifecycleNotificationUrl"], {}, body, "application/json")

    def _notify(self, user: str, event_id: str, change: str) -> None:
        for sub_id, sub in self.subscriptions.items():
            if sub["resource"].lower() == f"users/{user}/events".lower():
                self.pending.setdefault(sub_id, []).append(
                    {
                        "subscriptionId": sub_id,
                        "subscriptionExpirationDateTime": sub["expirationDateTime"],
                        "changeType": change,
                        "resource": f"Users/{user}/Events/{event_id}",
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.Event",
                            "@odata.id": f"Users/{user}/Events/{event_id}",
                            "id": event_id,
                        },
                        "clientState": sub["clientState"],
                        "tenantId": "tenant-1",
                    }
                )

    # --- HTTP ----------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        with self.lock:
            self.calls.append(Call(method, path, query, headers))
        if not path.startswith("/v1.0/"):
            return self._login(method, path, body)
        fault = self._fault(path)
        if fault is not None:
            return fault
        auth = headers.get("authorization", "")
        with self.lock:
            expires = self.tokens.get(auth.removeprefix("Bearer "))
        if expires is None or expires < self.now():
            return _error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
            )
        segments = path.split("/")[2:]
        if segments[0] == "subscriptions":
            return self._subscriptions(method, segments[1:], body)
        if segments[0] == "users" and len(segments) >= 3:
            user = segments[1]
            if user in self.denied:
                return _error(403, "ErrorAccessDenied", "Access to OData is disabled.")
            if user not in self.mailboxes:
                return _error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
            if segments[2:] == ["calendarView", "delta"] and method == "GET":
                return self._delta(user, query, headers.get("prefer", ""))
            if segments[2] == "events" and len(segments) == 4 and method == "GET":
                return self._event(user, segments[3], query)
        return _error(400, "BadRequest", f"Unsupported request {method} {path}")

    def _fault(self, path: str) -> Reply | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path_contains in path:
                    fault.times -= 1
                    extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    code = fault.code or ("TooManyRequests" if fault.status == 429 else "ServiceUnavailable")
                    return _error(fault.status, code, "Injected fault", extra)
        return None

    def _login(self, method: str, path: str, body: bytes) -> Reply:
        segments = path.strip("/").split("/")
        tenant = segments[0]
        if method == "GET" and segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return _json(
                200,
                {
                    "issuer": f"{LOGIN}/{tenant}/v2.0",
                    "authorization_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/token",
                    "jwks_uri": f"{LOGIN}/{tenant}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                },
            )
        if method == "POST" and segments[1:] == ["oauth2", "v2.0", "token"]:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self._token(tenant, form)
        return _json(404, {"error": "not_found"})

    def _token(self, tenant: str, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
        client = self.clients.get((tenant, form.get("client_id", "")))
        if client is None:
            return _json(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found in the directory.",
                },
            )
        if not self._client_ok(client, form):
            return _json(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return _json(400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad scope"})
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.now() + timedelta(seconds=self.token_lifetime)
        return _json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            },
        )

    def _client_ok(self, client: dict[str, str], form: dict[str, str]) -> bool:
        if client["secret"]:
            return bool(secrets.compare_digest(form.get("client_secret", ""), client["secret"]))
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return False
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion, client["public_key"], algorithms=["RS256", "PS256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            return False
        x5t = base64.urlsafe_b64encode(bytes.fromhex(client["thumbprint"])).decode().rstrip("=")
        return bool(
            str(header.get("x5t", "")).rstrip("=") == x5t
            and claims.get("iss") == claims.get("sub")
            and str(claims.get("aud", "")).endswith("/oauth2/v2.0/token")
        )

    def _delta(self, user: str, query: dict[str, list[str]], prefer: str) -> Reply:
        page_size = _page_size(prefer)
        if "$skiptoken" in query:
            with self.lock:
                entry = self.skip_tokens.pop(query["$skiptoken"][0], None)
            if entry is None:
                return _error(400, "BadRequest", "Invalid skip token")
            rows, new_delta, _ = entry
            return self._page(user, rows, new_delta, page_size)
        if "$deltatoken" in query:
            token = query["$deltatoken"][0]
            with self.lock:
                dead = self.dead_delta.get(token)
                state = self.delta_tokens.get(token)
            if dead == "gone":
                return _error(
                    410,
                    "SyncStateInvalid",
                    "The sync state is gone.",
                    {"Location": f"{GRAPH_BASE}/users/{user}/calendarView/delta"},
                )
            if dead is not None or state is None:
                return _error(400, "syncStateNotFound", "The sync state generation is not found.")
            rows = self._changes(user, state)
            start, end = state.start, state.end
        else:
            if "startDateTime" not in query or "endDateTime" not in query:
                return _error(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.")
            start, end = _utc(query["startDateTime"][0]), _utc(query["endDateTime"][0])
            with self.lock:
                rows = [
                    _delta_row(e)
                    for e in self.mailbox(user).events.values()
                    if e.get("type") != "seriesMaster" and _overlaps(e, start, end)
                ]
        with self.lock:
            new_delta = secrets.token_urlsafe(12)
            self.delta_tokens[new_delta] = DeltaState(user, start, end, self.seq)
        return self._page(user, rows, new_delta, page_size)

    def _changes(self, user: str, state: DeltaState) -> list[dict[str, Any]]:
        box = self.mailbox(user)
        rows = []
        with self.lock:
            for event_id, seq in sorted(box.changed.items(), key=lambda kv: kv[1]):
                if seq <= state.seq:
                    continue
                event = box.events.get(event_id)
                if event is None:
                    rows.append(
                        {
                            "@odata.type": "#microsoft.graph.event",
                            "id": event_id,
                            "@removed": {"reason": "deleted"},
                        }
                    )
                elif event.get("type") == "seriesMaster":
                    continue
                elif _overlaps(event, state.start, state.end):
                    rows.append(_delta_row(event))
                else:
                    rows.append({"id": event_id, "@removed": {"reason": "deleted"}})
        return rows

    def _page(self, user: str, rows: list[dict[str, Any]], new_delta: str, page_size: int) -> Reply:
        head, rest = rows[:page_size], rows[page_size:]
        doc: dict[str, Any] = {"@odata.context": f"{GRAPH_BASE}/$metadata#Collection(event)", "value": head}
        link = f"{GRAPH_BASE}/users/{user}/calendarView/delta"
        if rest:
            skip = secrets.token_urlsafe(12)
            with self.lock:
                self.skip_tokens[skip] = (rest, new_delta, user)
            doc["@odata.nextLink"] = f"{link}?$skiptoken={skip}"
        else:
            doc["@odata.deltaLink"] = f"{link}?$deltatoken={new_delta}"
        return _json(200, doc, {"Preference-Applied": 'outlook.timezone="UTC", odata.maxpagesize'})

    def _event(self, user: str, event_id: str, query: dict[str, list[str]]) -> Reply:
        event = self.mailbox(user).events.get(event_id)
        if event is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if "$select" in query:
            keep = {"id", "@odata.etag", *query["$select"][0].split(",")}
            event = {k: v for k, v in event.items() if k in keep}
        return _json(200, event)

    def _subscriptions(self, method: str, rest: list[str], body: bytes) -> Reply:
        if method == "POST" and not rest:
            return self._create_subscription(json.loads(body or b"{}"))
        sub = self.subscriptions.get(rest[0]) if rest else None
        if sub is None:
            return _error(404, "ResourceNotFound", "The object was not found.")
        if method == "PATCH":
            requested = _utc(json.loads(body)["expirationDateTime"])
            if requested > self.now() + timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
                return _error(
                    400, "ExtensionError", "Subscription expiration can only be 10070 minutes in the future."
                )
            sub["expirationDateTime"] = requested.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
            return _json(200, sub)
        if method == "DELETE":
            self.subscriptions.pop(rest[0], None)
            return 204, {}, b""
        return _error(405, "MethodNotAllowed", method)

    def _create_subscription(self, req: dict[str, Any]) -> Reply:
        needed = ("changeType", "notificationUrl", "resource", "expirationDateTime")
        if any(not req.get(k) for k in needed) or not str(req["notificationUrl"]).startswith("https://"):
            return _error(400, "BadRequest", "Invalid subscription request.")
        if _utc(req["expirationDateTime"]) > self.now() + timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
            return _error(
                400, "ExtensionError", "Subscription expiration can only be 10070 minutes in the future."
            )
        if len(req.get("clientState") or "") > 128:
            return _error(400, "BadRequest", "clientState is longer than 128 characters.")
        if self.validate_subscriptions:
            for url in filter(None, (req["notificationUrl"], req.get("lifecycleNotificationUrl"))):
                if not self._validates(url):
                    return _error(
                        400,
                        "ValidationError",
                        "Subscription validation request failed. "
                        "Notification endpoint must respond with 200 OK to validation request.",
                    )
        sub = {
            "@odata.context": f"{GRAPH_BASE}/$metadata#subscriptions/$entity",
            "id": str(uuid.uuid4()),
            "resource": req["resource"],
            "applicationId": "app-1",
            "changeType": req["changeType"],
            "clientState": req.get("clientState"),
            "notificationUrl": req["notificationUrl"],
            "lifecycleNotificationUrl": req.get("lifecycleNotificationUrl"),
            "expirationDateTime": _utc(req["expirationDateTime"]).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "creatorId": "creator-1",
        }
        self.subscriptions[sub["id"]] = sub
        return _json(201, sub)

    def _validates(self, url: str) -> bool:
        if self.deliverer is None:
            return False
        token = (
            f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        )
        status, headers, body = self.deliverer.post(url, {"validationToken": token}, b"", "text/plain")
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        return status == 200 and content_type.startswith("text/plain") and body.decode() == token


def _page_size(prefer: str) -> int:
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isdigit():
            return max(1, int(value))
    return 10


def _overlaps(event: dict[str, Any], start: datetime, end: datetime) -> bool:
    return _utc(event["start"]["dateTime"]) < end and _utc(event["end"]["dateTime"]) > start


def _delta_row(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("type") == "occurrence":
        keep = ("@odata.type", "id", "type", "seriesMasterId", "start", "end")
        return {k: event[k] for k in keep if k in event}
    return dict(event)


def _json(status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(doc).encode()


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    doc = {"error": {"code": code, "message": message, "innerError": {"request-id": str(uuid.uuid4())}}}
    return _json(status, doc, headers)


class LoopbackSession(requests.Session):
    """A requests session (also usable as msal's http_client) that sends the fake hosts to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.local = f"http://127.0.0.1:{port}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        text = url
        for host in (LOGIN, GRAPH):
            if text.startswith(host):
                text = self.local + text[len(host) :]
        return super().request(method, text, *args, **kwargs)


@dataclass
class RunningGraph:
    graph: FakeGraph
    port: int
    session: LoopbackSession


@contextmanager
def running_graph() -> Iterator[RunningGraph]:
    """Start the fake on a free 127.0.0.1 port for the duration of the block."""
    graph = FakeGraph()
    with serving(graph) as server:
        session = LoopbackSession(server.port)
        try:
            yield RunningGraph(graph, server.port, session)
        finally:
            session.close()
