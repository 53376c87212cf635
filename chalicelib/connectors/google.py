"""Google Calendar: incremental sync of one user's calendar, and Google event JSON as CalendarEvents.

Why: Google's own sync protocol is the cheapest way to watch many calendars. The first sync lists the
window with ``singleEvents`` (recurrences expanded) page by page and keeps the ``nextSyncToken`` of the
last page; every later sync sends only that token and gets what changed since — an unchanged calendar
costs exactly one request. Google refuses ``timeMin``/``timeMax`` together with a sync token, so an
incremental answer covers the whole calendar and the window is applied here. A 410 on the token, a
moved window or an unreadable cursor starts a full sync again (``SyncResult.full``).

What is kept from an event: start/end (``date`` → all-day, naive midnights, end exclusive;
``dateTime`` → aware, in the event's ``timeZone`` when it names one), summary, location, transparency
(as ``show_as``), status, ``eventType`` (``outOfOffice`` and ``workingLocation`` become their kinds; a
working location's label becomes the location, a home office "Home office"), ``updated``/``etag`` as the
change marker and ``id`` (else ``iCalUID``) as uid. Description, attendees, organizer, conference and
Hangouts links are never read. Gmail-created events (flights, hotels) are ordinary events here: their
summary ("Flight to Denver (F9 279)") and location ("St. Louis STL") are what detection needs.

Errors: 429, 403 ``rateLimitExceeded``/``userRateLimitExceeded``, 5xx and network failures are retried
a bounded number of times, waiting ``Retry-After`` when Google sends it, through an injectable
``sleep``; a wait longer than ``max_wait`` is handed to the caller as ``ConnectorError.retry_after``
instead of blocking a Lambda. A refused impersonation (``unauthorized_client``: domain-wide delegation
missing) and other 4xx answers are permanent and say what to fix.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from pydantic import ValidationError

from chalicelib.connectors.base import ConnectorError, SyncResult, SyncWindow
from chalicelib.connectors.google_auth import delegation_hint
from chalicelib.models import CalendarEvent, Connection, EventKind, SourceKind, SourceProblem

logger = logging.getLogger(__name__)

_SOURCE = "google"
_TITLE_MAX = 500
_LOCATION_MAX = 500
_UID_MAX = 512
_MAX_PAGES = 2000
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_HOME_OFFICE = "Home office"


class ServiceFactory(Protocol):
    """Gives the calendar v3 service acting as one user (see google_auth.GoogleServices)."""

    @property
    def client_id(self) -> str: ...

    def __call__(self, user_email: str) -> Any: ...


# --- normalising -----------------------------------------------------------------------------------


class _BadEventError(ValueError):
    """One Google event cannot become a CalendarEvent; the message is shown to the user."""


@dataclass
class GoogleItems:
    """Google events read into CalendarEvents; cancelled ones become ``removed`` uids."""

    events: list[CalendarEvent] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def _uid(item: Mapping[str, Any]) -> str:
    uid = item.get("id") or item.get("iCalUID")
    if not isinstance(uid, str) or not uid:
        raise _BadEventError("event has neither id nor iCalUID")
    if len(uid) > _UID_MAX:
        raise _BadEventError(f"event id is longer than {_UID_MAX} characters")
    return uid


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _when(value: object, which: str, default_zone: str | None) -> tuple[datetime, bool]:
    """A Google ``start``/``end`` object as (datetime, all_day)."""
    if not isinstance(value, Mapping):
        raise _BadEventError(f"{which} is missing")
    if isinstance(value.get("date"), str):
        try:
            day = date.fromisoformat(value["date"])
        except ValueError:
            raise _BadEventError(f"{which}.date is not a date: {value['date']!r}") from None
        return datetime.combine(day, dtime()), True
    raw = value.get("dateTime")
    if not isinstance(raw, str):
        raise _BadEventError(f"{which} has neither date nor dateTime")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _BadEventError(f"{which}.dateTime is not RFC 3339: {raw!r}") from None
    zone = _zone(value.get("timeZone"))
    if moment.tzinfo is None:
        zone = zone or _zone(default_zone)
        if zone is None:
            raise _BadEventError(f"{which}.dateTime {raw!r} has no offset and no known timeZone")
        return moment.replace(tzinfo=zone), False
    return (moment.astimezone(zone) if zone else moment), False


def _working_location(props: object) -> str | None:
    if not isinstance(props, Mapping):
        return None
    kind = props.get("type")
    if kind == "homeOffice" or "homeOffice" in props:
        return _HOME_OFFICE
    for key in ("officeLocation", "customLocation") if kind is None else (str(kind),):
        place = props.get(key)
        if isinstance(place, Mapping):
            label = place.get("label") or place.get("buildingId")
            if isinstance(label, str) and label.strip():
                return label.strip()[:_LOCATION_MAX]
    return None


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def normalise_event(
    item: Mapping[str, Any], calendar_id: str, default_zone: str | None = None
) -> CalendarEvent:
    """One Google event resource as a CalendarEvent; raises ValueError saying what is wrong."""
    if not isinstance(item, Mapping):
        raise _BadEventError("event is not a JSON object")
    uid = _uid(item)
    start, all_day = _when(item.get("start"), "start", default_zone)
    end, end_all_day = _when(item.get("end"), "end", default_zone)
    if all_day != end_all_day:
        raise _BadEventError("start and end mix date and dateTime")
    event_type = item.get("eventType")
    kind = EventKind.EVENT
    location = _text(item.get("location"), _LOCATION_MAX)
    if event_type == "outOfOffice":
        kind = EventKind.OUT_OF_OFFICE
    elif event_type == "workingLocation":
        kind = EventKind.WORKING_LOCATION
        location = _working_location(item.get("workingLocationProperties")) or location
    changed = item.get("updated") or item.get("etag")
    try:
        return CalendarEvent(
            source=SourceKind.GOOGLE,
            calendar_id=calendar_id,
            uid=uid,
            title=_text(item.get("summary"), _TITLE_MAX) or "",
            location=location,
            start=start,
            end=end,
            all_day=all_day,
            kind=kind,
            cancelled=item.get("status") == "cancelled",
            show_as=str(item.get("transparency") or "opaque")[:40],
            changed=str(changed)[:200] if changed else None,
        )
    except ValidationError as exc:
        raise _BadEventError(
            "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        ) from None


def read_items(items: Iterable[object], calendar_id: str, default_zone: str | None = None) -> GoogleItems:
    """Normalise ``items``; a cancelled event is a removal, a broken one a problem, never a crash."""
    out = GoogleItems()
    for item in items:
        uid = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(item, Mapping) and item.get("status") == "cancelled" and isinstance(uid, str) and uid:
            out.removed.append(uid)
            continue
        try:
            out.events.append(normalise_event(item, calendar_id, default_zone))  # type: ignore[arg-type]
        except _BadEventError as exc:
            out.problems.append(
                SourceProblem(
                    source=SourceKind.GOOGLE,
                    calendar_id=calendar_id,
                    uid=uid if isinstance(uid, str) else None,
                    message=str(exc),
                )
            )
    return out


def _json_body(text: str) -> str:
    """The body of a raw HTTP response (status line and headers), or ``text`` itself."""
    if text.startswith("HTTP/"):
        for sep in ("\r\n\r\n", "\n\n"):
            if sep in text:
                return text.split(sep, 1)[1]
    return text


def _event_list(doc: object) -> tuple[list[object], str | None] | None:
    """The events of an ``events.list`` page, a bare list, or a wrapper holding such a list."""
    if isinstance(doc, list):
        return doc, None
    if not isinstance(doc, Mapping):
        return None
    zone = doc.get("timeZone") if isinstance(doc.get("timeZone"), str) else None
    if isinstance(doc.get("items"), list):
        return doc["items"], zone
    if doc.get("kind") == "calendar#event":
        return [doc], zone
    for value in doc.values():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) and "start" in v for v in value):
            return value, zone
    return None


def read_events_json(data: bytes | str, calendar_id: str) -> GoogleItems:
    """Read a saved ``events.list`` answer (JSON, or a raw HTTP response) into events and problems."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    problem = GoogleItems()
    try:
        doc = json.loads(_json_body(text))
    except ValueError as exc:
        problem.problems.append(
            SourceProblem(source=SourceKind.GOOGLE, calendar_id=calendar_id, message=f"not JSON: {exc}")
        )
        return problem
    found = _event_list(doc)
    if found is None:
        problem.problems.append(
            SourceProblem(
                source=SourceKind.GOOGLE, calendar_id=calendar_id, message="no Google events found in JSON"
            )
        )
        return problem
    items, zone = found
    return read_items(items, calendar_id, zone)


# --- syncing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cursor:
    sync_token: str
    window_start: date
    window_end: date

    @classmethod
    def parse(cls, raw: str | None) -> _Cursor | None:
        if not raw:
            return None
        try:
            doc = json.loads(raw)
            return cls(
                str(doc["syncToken"]),
                date.fromisoformat(doc["window_start"]),
                date.fromisoformat(doc["window_end"]),
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable Google sync cursor; starting a full sync")
            return None

    def dump(self) -> str:
        return json.dumps(
            {
                "syncToken": self.sync_token,
                "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
            },
            sort_keys=True,
        )


class _SyncTokenGoneError(Exception):
    """Google answered 410: the sync token is no longer valid."""


def _bounds(window: SyncWindow) -> tuple[datetime, datetime]:
    """The window as UTC instants; ``window.end`` is the last day read (inclusive)."""
    start = datetime.combine(window.start, dtime(), UTC)
    return start, datetime.combine(window.end + timedelta(days=1), dtime(), UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def in_window(event: CalendarEvent, window: SyncWindow) -> bool:
    """Google's own rule: the event ends after the window starts and starts before it ends."""
    if event.all_day or event.start.tzinfo is None:
        return event.end.date() > window.start and event.start.date() <= window.end
    low, high = _bounds(window)
    return event.end > low and event.start < high


def error_reasons(exc: HttpError) -> set[str]:
    """The ``reason`` codes of a Google API error body (``rateLimitExceeded``, ``forbidden`` ...)."""
    try:
        doc = json.loads(exc.content)
    except (ValueError, TypeError):
        return set()
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict):
        return {error} if isinstance(error, str) else set()
    return {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}


def retry_after_seconds(value: object) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class GoogleCalendarSource:
    """``CalendarSource`` for Google Calendar; ``connection.account`` is the user to impersonate."""

    def __init__(
        self,
        services: ServiceFactory,
        *,
        page_size: int = 250,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._services = services
        self._page_size = page_size
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_wait = max_wait
        self._sleep = sleep

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        service = self._services(connection.account)
        result = SyncResult()
        state = _Cursor.parse(cursor)
        if state and (state.window_start, state.window_end) == (window.start, window.end):
            try:
                return self._incremental(service, connection, state, window, result)
            except _SyncTokenGoneError:
                logger.info("Google sync token expired for %s; full sync", connection.id)
        elif state:
            logger.info("sync window moved for %s; full sync", connection.id)
        return self._full(service, connection, window, result)

    def _full(
        self, service: Any, connection: Connection, window: SyncWindow, result: SyncResult
    ) -> SyncResult:
        low, high = _bounds(window)
        params = {
            "calendarId": connection.calendar_id,
            "singleEvents": True,
            "timeMin": _rfc3339(low),
            "timeMax": _rfc3339(high),
            "maxResults": self._page_size,
        }
        pages = self._pages(service, connection, params, result)
        result.full = True
        token = self._collect(pages, connection, window, result, full=True)
        result.cursor = _Cursor(token, window.start, window.end).dump() if token else None
        return result

    def _incremental(
        self, service: Any, connection: Connection, state: _Cursor, window: SyncWindow, result: SyncResult
    ) -> SyncResult:
        params = {
            "calendarId": connection.calendar_id,
            "singleEvents": True,
            "syncToken": state.sync_token,
            "maxResults": self._page_size,
        }
        pages = self._pages(service, connection, params, result)
        token = self._collect(pages, connection, window, result, full=False)
        result.cursor = _Cursor(token or state.sync_token, window.start, window.end).dump()
        return result

    def _collect(
        self,
        pages: Iterable[Mapping[str, Any]],
        connection: Connection,
        window: SyncWindow,
        result: SyncResult,
        *,
        full: bool,
    ) -> str | None:
        token: str | None = None
        for page in pages:
            zone = page.get("timeZone") if isinstance(page.get("timeZone"), str) else None
            read = read_items(page.get("items") or [], connection.calendar_id, zone)
            result.problems.extend(read.problems)
            if not full:
                result.removed.extend(read.removed)
            for event in read.events:
                if in_window(event, window):
                    result.events.append(event)
                elif not full:
                    result.removed.append(event.uid)  # moved out of the window: drop what we held
            token = page.get("nextSyncToken") or token
        return token

    def _pages(
        self, service: Any, connection: Connection, params: dict[str, Any], result: SyncResult
    ) -> list[Mapping[str, Any]]:
        pages: list[Mapping[str, Any]] = []
        page_token: str | None = None
        for _ in range(_MAX_PAGES):
            request = service.events().list(**params, pageToken=page_token)
            page = self._execute(request, connection, result)
            pages.append(page)
            page_token = page.get("nextPageToken")
            if not page_token:
                return pages
        raise ConnectorError(_SOURCE, f"more than {_MAX_PAGES} pages for {connection.id}; giving up")

    def _execute(self, request: Any, connection: Connection, result: SyncResult) -> Mapping[str, Any]:
        """Run one API request with bounded retries; every attempt counts in ``result.requests``."""
        for attempt in range(1, self._max_attempts + 1):
            result.requests += 1
            try:
                answer = request.execute()
            except HttpError as exc:
                wait = self._wait_for(exc, attempt, connection)
                reason = f"HTTP {exc.resp.status} from Google Calendar for {connection.id}"
            except RefreshError as exc:
                raise self._refused(exc, connection) from None
            except (OSError, httplib2.HttpLib2Error, TransportError) as exc:
                wait = self._backoff * 2 ** (attempt - 1)
                reason = f"cannot reach Google Calendar: {type(exc).__name__}"
            else:
                return answer if isinstance(answer, Mapping) else {}
            if attempt == self._max_attempts or wait > self._max_wait:
                raise ConnectorError(_SOURCE, reason, retry_after=wait)
            logger.info("%s; retry %d in %.1f s", reason, attempt, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for(self, exc: HttpError, attempt: int, connection: Connection) -> float:
        """Seconds to wait before retrying ``exc``; raises when retrying cannot help."""
        status = int(exc.resp.status)
        reasons = error_reasons(exc)
        if status == 410:
            raise _SyncTokenGoneError
        retryable = status in _RETRY_STATUSES or (status == 403 and reasons & RATE_LIMIT_REASONS)
        if not retryable:
            raise self._permanent(status, reasons, connection)
        hinted = retry_after_seconds(exc.resp.get("retry-after"))
        return hinted if hinted is not None else min(self._backoff * 2 ** (attempt - 1), self._max_wait)

    def _permanent(self, status: int, reasons: set[str], connection: Connection) -> ConnectorError:
        what = ", ".join(sorted(reasons)) or "no reason given"
        if status == 401:
            message = (
                f"Google rejected the credentials for {connection.account} ({what}); "
                + delegation_hint(self._services.client_id)
            )
        elif status == 404:
            message = f"calendar {connection.calendar_id!r} of {connection.account} not found or not shared"
        elif status == 403:
            message = f"access to the calendar of {connection.account} forbidden ({what})"
        else:
            message = f"Google Calendar answered HTTP {status} for {connection.id} ({what})"
        return ConnectorError(_SOURCE, message, permanent=True)

    def _refused(self, exc: RefreshError, connection: Connection) -> ConnectorError:
        """The token endpoint refused: delegation missing, unknown user, or a transient failure."""
        details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], Mapping) else {}
        error = str(details.get("error") or "")
        if getattr(exc, "retryable", False):
            return ConnectorError(_SOURCE, "Google's token endpoint is unavailable", retry_after=60)
        if error == "unauthorized_client":
            message = delegation_hint(self._services.client_id)
        elif error == "invalid_grant":
            described = str(details.get("error_description") or "")[:200]
            message = (
                f"Google refused to impersonate {connection.account} (invalid_grant: {described}): the user "
                "may not exist in the Workspace domain or be suspended, or the key may be revoked"
            )
        else:
            message = f"Google refused a token for {connection.account} ({error or 'no error code'})"
        return ConnectorError(_SOURCE, message, permanent=True)
