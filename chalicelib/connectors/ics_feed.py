"""ICS feeds (a calendar URL such as a TripIt or Google "secret address") and stored .ics files as sources.

Why: a feed has no change log — every fetch is the whole calendar — so the cheap path is HTTP's own:
send the stored ETag (If-None-Match) and Last-Modified (If-Modified-Since); a 304 costs one request and
nothing else. Servers that ignore conditional requests still answer 200, so the body's SHA-256 is kept
too and an identical body is also "unchanged". A feed that did change is returned with ``full=True``:
the caller replaces what it holds for the connection (events missing from the feed are gone).

The cursor is JSON ``{"etag", "last_modified", "content_sha256", "window"}``. The window is part of it
because recurring events are expanded inside the window: when the window moves, the feed is fetched
unconditionally and expanded again (so pick a window that moves rarely, e.g. one anchored to a month).

Fetching is defensive: connect/read timeouts, a body size cap, redirects followed by hand and only to
http/https (``webcal://`` is read as https), and a body that is not iCalendar (a login page, an error
page answered with 200) is an error, never "the calendar is now empty". HTTP and network failures
become ``ConnectorError``: 404/410 (and 401/403: the secret address was revoked) are permanent, 429 and
5xx carry ``retry_after`` from Retry-After, TLS and connection errors are retryable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from chalicelib.connectors.base import ConnectorError, SyncResult, SyncWindow
from chalicelib.connectors.ics import read_ics
from chalicelib.models import Connection

SOURCE = "ics"
MAX_FEED_BYTES = 10 * 1024 * 1024
USER_AGENT = "coverwatch-ics/1.0 (+calendar feed reader)"
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (400, 401, 403, 404, 405, 406, 410, 414, 451)


@dataclass(frozen=True)
class FeedCursor:
    """What the last successful read of a feed or file left behind."""

    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = None
    window: str | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> FeedCursor:
        """A stored cursor; anything unreadable (an old plain hash, garbage) means "start over"."""
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        values = {k: data.get(k) for k in ("etag", "last_modified", "content_sha256", "window")}
        return cls(**{k: v if isinstance(v, str) else None for k, v in values.items()})

    def dump(self) -> str:
        return json.dumps(
            {
                "etag": self.etag,
                "last_modified": self.last_modified,
                "content_sha256": self.content_sha256,
                "window": self.window,
            },
            sort_keys=True,
        )


def window_key(window: SyncWindow) -> str:
    return f"{window.start.isoformat()}/{window.end.isoformat()}"


def parse_events(data: bytes, connection: Connection, window: SyncWindow, requests_made: int) -> SyncResult:
    """The whole calendar in ``data`` as a full SyncResult (shared by feeds, files and uploads)."""
    result = read_ics(data, calendar_id=connection.calendar_id, window=window)
    return SyncResult(events=result.events, full=True, problems=result.problems, requests=requests_made)


def _refuse_internal(url: str) -> None:
    """Refuse feed URLs that resolve to loopback, private, link-local or other non-public addresses.

    A feed URL comes from a user; without this check it could make the worker fetch the Lambda's own
    metadata endpoint or a service inside the VPC. (A DNS answer that changes between this check and
    the request is not covered; the Lambda's network placement is the second line of defence.)
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectorError(SOURCE, f"the feed's host {host!r} cannot be resolved: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise ConnectorError(
                SOURCE,
                f"the feed's host {host!r} is an internal address ({address}); refused",
                permanent=True,
            )


class IcsFeedSource:
    """A CalendarSource for an ICS feed URL (``connection.account``), fetched with conditional GETs."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_bytes: int = MAX_FEED_BYTES,
        max_redirects: int = 5,
        allow_private_hosts: bool = False,
    ) -> None:
        self.session = session or requests.Session()
        self.allow_private_hosts = allow_private_hosts
        """Tests serve feeds on 127.0.0.1; in production an internal address is refused (SSRF)."""
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        previous = FeedCursor.parse(cursor)
        same_window = previous.window == window_key(window)
        headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
        if same_window and previous.etag:
            headers["If-None-Match"] = previous.etag
        if same_window and previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        response, requests_made = self._get(_feed_url(connection.account), headers)
        with response:
            if response.status_code == 304 and same_window and cursor is not None:
                return SyncResult(cursor=cursor, requests=requests_made)
            if response.status_code != 200:
                raise _status_error(response)
            body = self._body(response)
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
        digest = hashlib.sha256(body).hexdigest()
        new_cursor = FeedCursor(etag, last_modified, digest, window_key(window)).dump()
        if same_window and digest == previous.content_sha256:
            return SyncResult(cursor=new_cursor, requests=requests_made)
        if b"BEGIN:VCALENDAR" not in body[:4096].upper():
            kind = response.headers.get("Content-Type", "unknown content type")
            raise ConnectorError(SOURCE, f"the feed did not return iCalendar data ({kind})")
        result = parse_events(body, connection, window, requests_made)
        result.cursor = new_cursor
        return result

    def _get(self, url: str, headers: dict[str, str]) -> tuple[requests.Response, int]:
        """GET ``url``, following at most ``max_redirects`` redirects, each to http or https only."""
        for attempt in range(1, self.max_redirects + 2):
            if not self.allow_private_hosts:
                _refuse_internal(url)
            try:
                response = self.session.get(
                    url, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
                )
            except requests.exceptions.SSLError as exc:
                raise ConnectorError(SOURCE, f"TLS error talking to the feed: {_short(exc)}") from exc
            except requests.exceptions.Timeout as exc:
                raise ConnectorError(SOURCE, f"the feed timed out: {_short(exc)}") from exc
            except requests.exceptions.RequestException as exc:
                raise ConnectorError(SOURCE, f"the feed could not be reached: {_short(exc)}") from exc
            if response.status_code not in _REDIRECTS:
                return response, attempt
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise ConnectorError(SOURCE, f"redirect {response.status_code} without a Location")
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise ConnectorError(
                    SOURCE, f"the feed redirects to a non-HTTP address: {url}", permanent=True
                )
        raise ConnectorError(
            SOURCE, f"the feed redirects more than {self.max_redirects} times", permanent=True
        )

    def _body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(self.max_bytes)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > self.max_bytes:
                    raise _too_large(self.max_bytes)
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            raise ConnectorError(SOURCE, f"the feed broke off while reading: {_short(exc)}") from exc
        return b"".join(chunks)


class IcsFileSource:
    """A CalendarSource for a stored .ics file (a path, or whatever ``loader`` reads for a connection).

    Unchanged content (same SHA-256, same window) is reported unchanged without parsing; otherwise the
    whole file comes back with ``full=True``.
    """

    def __init__(self, loader: Callable[[Connection], bytes] | None = None) -> None:
        self.loader = loader or _read_path

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        try:
            data = self.loader(connection)
        except FileNotFoundError as exc:
            raise ConnectorError(
                SOURCE, f"calendar file not found: {connection.account}", permanent=True
            ) from exc
        except OSError as exc:
            raise ConnectorError(SOURCE, f"calendar file could not be read: {_short(exc)}") from exc
        previous = FeedCursor.parse(cursor)
        digest = hashlib.sha256(data).hexdigest()
        new_cursor = FeedCursor(content_sha256=digest, window=window_key(window)).dump()
        if previous.content_sha256 == digest and previous.window == window_key(window):
            return SyncResult(cursor=new_cursor)
        result = parse_events(data, connection, window, requests_made=0)
        result.cursor = new_cursor
        return result


def _read_path(connection: Connection) -> bytes:
    return Path(connection.account).read_bytes()


def _feed_url(account: str) -> str:
    """The feed address as HTTP: ``webcal://`` (what calendar apps subscribe to) is https."""
    parts = urlsplit(account.strip())
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        parts = parts._replace(scheme="https")
    elif scheme not in ("http", "https"):
        raise ConnectorError(
            SOURCE, f"not an http(s) or webcal feed address: {account[:200]}", permanent=True
        )
    return urlunsplit(parts)


def _status_error(response: requests.Response) -> ConnectorError:
    status = response.status_code
    if status == 429 or status >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return ConnectorError(SOURCE, f"the feed answered HTTP {status}", retry_after=retry_after)
    return ConnectorError(SOURCE, f"the feed answered HTTP {status}", permanent=status in _PERMANENT)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _too_large(limit: int) -> ConnectorError:
    return ConnectorError(SOURCE, f"the feed is larger than {limit // (1024 * 1024)} MB", permanent=True)


def _short(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= 200 else message[:199] + "…"
