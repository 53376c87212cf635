"""Outlook / Microsoft 365 calendars through Microsoft Graph ``calendarView/delta``.

Why delta: after one full read of the window, Graph hands out a delta link that returns only what
changed since. An unchanged mailbox then costs exactly one request per sync (an empty page with a new
delta link), which keeps coverwatch far below Graph's 10,000 requests / 10 minutes per mailbox.

How a sync goes:
- The cursor is JSON ``{"deltaLink", "window_start", "window_end"}``. No cursor, an unreadable one or
  a window that moved (the window is baked into the delta token) starts a fresh round: ``full=True``.
- A round follows ``@odata.nextLink`` until ``@odata.deltaLink``. One ``Prefer`` header asks for UTC
  times, immutable ids (they survive folder moves) and the page size.
- A dead delta link (``syncStateNotFound`` or 410 Gone) also starts a fresh round with ``full=True``.
- ``@removed`` rows become removed uids. Occurrence rows of a recurring series carry only id, times
  and ``seriesMasterId``: the master is read once per sync for its subject, location and categories.
- 429 waits ``Retry-After`` and 5xx backs off exponentially (both bounded, through an injectable
  ``sleep``); a wait over ``max_wait`` goes back to the worker as ``ConnectorError.retry_after`` (the
  queue waits, not the Lambda); a 401 gets one fresh token; 403/404 are permanent. Everything ends in
  ConnectorError.

Privacy: delta ignores ``$select``, so bodies, attendees, organisers and meeting URLs do arrive; the
normaliser reads none of them, so they never leave this module.

Limits: a renamed series master whose occurrences are not returned again keeps the old title on
stored occurrences until the next full round; series masters themselves are not events (their
occurrences are).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as dtime
from typing import Any, Protocol
from urllib.parse import quote

import pycountry
import requests
from pydantic import ValidationError

from chalicelib.connectors.base import ConnectorError, SyncResult, SyncWindow
from chalicelib.connectors.windows_zones import resolve_zone
from chalicelib.countries import is_country_code, normalize_country
from chalicelib.models import CalendarEvent, Connection, EventKind, SourceKind, SourceProblem

GRAPH_BASE = "https://graph.microsoft.com/v1.0"
_SOURCE = "graph"
_TITLE_MAX = 500
_TEXT_MAX = 500
_MAX_PAGES = 5000
_MASTER_FIELDS = "subject,location,locations,categories,showAs,isCancelled,lastModifiedDateTime"
log = logging.getLogger(__name__)


class TokenProvider(Protocol):
    def token(self) -> str: ...
    def refresh(self) -> str: ...


class SyncStateLostError(Exception):
    """Graph no longer knows the delta token (syncStateNotFound or 410 Gone)."""


@dataclass
class GraphHttp:
    """Authenticated Graph requests with the retry policy; counts every request it sends."""

    auth: TokenProvider
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    max_attempts: int = 5
    backoff_base: float = 1.0
    timeout: float = 30.0
    max_wait: float = 10.0
    """Longest wait slept in-process (one wait, and all of one request's waits together); a longer
    Retry-After goes back to the worker as ConnectorError.retry_after, so the job returns later
    instead of running out the Lambda's time asleep."""
    count: int = 0
    _slept: float = field(default=0.0, repr=False)

    def call(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: Any = None
    ) -> requests.Response:
        """The response for any status below 400 (and 404); ConnectorError or SyncStateLostError else."""
        refreshed = False
        attempt = 0
        self._slept = 0.0
        token = self.auth.token()
        while True:
            attempt += 1
            self.count += 1
            sent = {"Authorization": f"Bearer {token}", **(headers or {})}
            try:
                resp = self.session.request(method, url, headers=sent, json=body, timeout=self.timeout)
            except requests.RequestException as exc:
                wait = self._backoff(attempt)
                self._retry_or_raise(attempt, wait, f"{method} failed: {type(exc).__name__}")
                continue
            status = resp.status_code
            if status < 400 or status == 404:
                return resp
            code = _error_code(resp)
            if status == 401 and not refreshed:
                refreshed = True
                token = self.auth.refresh()
                continue
            if status == 410 or code == "syncStateNotFound":
                raise SyncStateLostError(code or "410 Gone")
            if status == 429 or (status >= 500 and "Retry-After" in resp.headers):
                wait = _retry_after(resp) or self._backoff(attempt)
                self._retry_or_raise(attempt, wait, f"throttled ({status} {code})".strip())
                continue
            if status >= 500:
                self._retry_or_raise(attempt, self._backoff(attempt), f"server error {status} {code}".strip())
                continue
            raise ConnectorError(_SOURCE, f"{method} answered {status} {code}".strip(), permanent=True)

    def json(self, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """GET ``url`` as a JSON object; None for 404."""
        resp = self.call("GET", url, headers=headers)
        if resp.status_code == 404:
            return None
        try:
            doc = resp.json()
        except ValueError:
            raise ConnectorError(_SOURCE, "answer is not JSON") from None
        if not isinstance(doc, dict):
            raise ConnectorError(_SOURCE, "answer is not a JSON object")
        return doc

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_base * 2 ** (attempt - 1), 60.0))

    def _retry_or_raise(self, attempt: int, wait: float, reason: str) -> None:
        if attempt >= self.max_attempts:
            raise ConnectorError(_SOURCE, f"{reason}; gave up after {attempt} tries", retry_after=wait)
        if wait > self.max_wait or self._slept + wait > 2 * self.max_wait:
            raise ConnectorError(_SOURCE, f"{reason}; asked to wait {wait:.0f} s", retry_after=wait)
        self._slept += wait
        self.sleep(wait)


def _error_code(resp: requests.Response) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return ""
    error = doc.get("error") if isinstance(doc, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "")))
    except ValueError:
        return None


# --- normalising ------------------------------------------------------------------------------


class BadEventError(ValueError):
    """A Graph event that cannot become a CalendarEvent; the message is shown to the user."""


@dataclass
class GraphReadResult:
    """Events, removed ids and problems read from Graph JSON (a delta page, a list or one event)."""

    events: list[CalendarEvent] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    occurrences: list[Mapping[str, Any]] = field(default_factory=list)
    """Occurrence rows still waiting for their series master (only ``sync`` resolves them)."""


def normalise_event(
    raw: Mapping[str, Any], calendar_id: str, master: Mapping[str, Any] | None = None
) -> CalendarEvent:
    """One Graph event as a CalendarEvent; ``master`` supplies what an occurrence row lacks."""
    about = master if master is not None else raw
    uid = raw.get("id") or raw.get("iCalUId")
    if not isinstance(uid, str) or not uid:
        raise BadEventError("event has no id")
    all_day = raw.get("isAllDay", about.get("isAllDay")) is True
    start = _when(raw.get("start"), "start", all_day)
    end = _when(raw.get("end"), "end", all_day) if raw.get("end") is not None else start
    if all_day and end <= start:
        end = start + timedelta(days=1)
    location, address, country, coordinates = _place(about)
    show_as = _text(about.get("showAs"), 40) or None
    categories = about.get("categories")
    changed = raw.get("lastModifiedDateTime") or about.get("lastModifiedDateTime") or raw.get("@odata.etag")
    try:
        return CalendarEvent(
            source=SourceKind.GRAPH,
            calendar_id=calendar_id,
            uid=uid[:512],
            title=_text(about.get("subject"), _TITLE_MAX),
            location=location,
            address=address,
            country_hint=country,
            coordinates=coordinates,
            start=start,
            end=end,
            all_day=all_day,
            kind=EventKind.OUT_OF_OFFICE if show_as == "oof" else EventKind.EVENT,
            show_as=show_as,
            cancelled=raw.get("isCancelled", about.get("isCancelled")) is True,
            categories=tuple(_text(c, 100) for c in categories if isinstance(c, str))
            if isinstance(categories, list)
            else (),
            changed=_text(changed, 200) or None,
        )
    except ValidationError as exc:  # end before start and the like
        messages = [e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False)]
        raise BadEventError("; ".join(messages) or "invalid event") from None


def read_graph_bytes(data: bytes, calendar_id: str) -> GraphReadResult:
    """Read a Graph JSON file (as saved from the API); a file that is not JSON is one problem."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        result = GraphReadResult()
        result.problems.append(_problem(calendar_id, None, f"not a JSON file ({str(exc)[:120]})"))
        return result
    return read_graph_json(doc, calendar_id)


def read_graph_json(doc: Any, calendar_id: str) -> GraphReadResult:
    """Read a delta/list page (``{"value": [...]}``), a JSON list or a single event.

    Occurrences take subject and place from a series master in the same document; a master no
    occurrence refers to stands for its series by its first occurrence (as in .ics files).
    Occurrences whose master is missing are reported; ``sync`` fetches masters from Graph instead.
    """
    rows = doc.get("value") if isinstance(doc, dict) and "value" in doc else doc
    if isinstance(rows, dict):
        rows = [rows]
    result = GraphReadResult()
    if not isinstance(rows, list):
        result.problems.append(_problem(calendar_id, None, "not a Graph event, event list or delta page"))
        return result
    masters: dict[str, Mapping[str, Any]] = {}
    _read_rows(rows, calendar_id, result, masters)
    pending, result.occurrences = result.occurrences, []
    for row in pending:
        master = masters.get(str(row.get("seriesMasterId")))
        if master is not None:
            _add(result, row, calendar_id, master)
        else:
            result.problems.append(
                _problem(calendar_id, row.get("id"), "occurrence without its series master in this file")
            )
    referenced = {row.get("seriesMasterId") for row in rows if isinstance(row, Mapping)}
    for master_id, master in masters.items():
        if master_id not in referenced:
            _add(result, master, calendar_id, None)
    return result


def _read_rows(
    rows: Iterable[Any], calendar_id: str, result: GraphReadResult, masters: dict[str, Mapping[str, Any]]
) -> None:
    for row in rows:
        if not isinstance(row, Mapping):
            result.problems.append(_problem(calendar_id, None, "entry is not a JSON object"))
            continue
        uid = row.get("id") if isinstance(row.get("id"), str) else None
        if "@removed" in row:
            if uid:
                result.removed.append(uid)
            continue
        kind = row.get("type")
        if kind == "seriesMaster":
            if uid:
                masters[uid] = row
            continue
        if kind == "occurrence" and not row.get("subject"):
            master_id = row.get("seriesMasterId")
            if isinstance(master_id, str) and master_id in masters:
                _add(result, row, calendar_id, masters[master_id])
            else:
                result.occurrences.append(row)
            continue
        _add(result, row, calendar_id, None)


def _add(
    result: GraphReadResult, row: Mapping[str, Any], calendar_id: str, master: Mapping[str, Any] | None
) -> None:
    try:
        result.events.append(normalise_event(row, calendar_id, master))
    except BadEventError as exc:
        uid = row.get("id")
        result.problems.append(_problem(calendar_id, uid if isinstance(uid, str) else None, str(exc)))


def _problem(calendar_id: str, uid: Any, message: str) -> SourceProblem:
    return SourceProblem(
        source=SourceKind.GRAPH,
        calendar_id=calendar_id,
        uid=uid[:512] if isinstance(uid, str) else None,
        message=message,
    )


def _when(value: Any, name: str, all_day: bool) -> datetime:
    if not isinstance(value, Mapping) or not isinstance(value.get("dateTime"), str):
        raise BadEventError(f"{name} has no dateTime")
    text = value["dateTime"]
    try:
        moment = datetime.fromisoformat(trim_fraction(text))
    except ValueError:
        raise BadEventError(f"{name}.dateTime is not a date-time: {text[:60]!r}") from None
    if all_day:  # all-day events are dates; the end is exclusive (as in .ics)
        return datetime.combine(moment.date(), dtime())
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=_zone(value.get("timeZone"), name))


def trim_fraction(text: str) -> str:
    """Graph writes 7 fractional digits ("...00.0000000"); Python reads at most 6."""
    head, dot, tail = text.partition(".")
    if not dot:
        return text
    digits = len(tail) - len(tail.lstrip("0123456789"))
    return f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}" if digits else text


def _zone(name: Any, field_name: str) -> tzinfo:
    """UTC (what the Prefer header asks for), or an IANA / Windows zone name from saved JSON."""
    if not isinstance(name, str) or not name or name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    zone = resolve_zone(name)
    if zone is None:
        raise BadEventError(f"{field_name}.timeZone {name[:60]!r} is not a known time zone")
    return zone


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _place(
    about: Mapping[str, Any],
) -> tuple[str | None, str | None, str | None, tuple[float, float] | None]:
    """displayName, flattened address, country hint and coordinates of the event's location."""
    found = about.get("location")
    primary: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    others = [loc for loc in about.get("locations") or [] if isinstance(loc, Mapping)]
    display = _text(primary.get("displayName"), _TEXT_MAX) or None
    address, country, coordinates = None, None, None
    for loc in [primary, *others]:
        raw = loc.get("address")
        if address is None and isinstance(raw, Mapping):
            parts = [_text(raw.get(k), 120) for k in ("street", "postalCode", "city", "state")]
            region = _text(raw.get("countryOrRegion"), 120)
            address = ", ".join(p for p in [*parts, region] if p)[:_TEXT_MAX] or None
            country = country_of(region) if region else None
        geo = loc.get("coordinates")
        if coordinates is None and isinstance(geo, Mapping):
            lat, lon = geo.get("latitude"), geo.get("longitude")
            if isinstance(lat, int | float) and isinstance(lon, int | float) and _on_earth(lat, lon):
                coordinates = (float(lat), float(lon))
    return display, address, country, coordinates


def _on_earth(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180


def country_of(region: str) -> str | None:
    """ISO code for Graph's ``countryOrRegion`` ("US", "United States", "Deutschland" stays None)."""
    if len(region) == 2 and is_country_code(region):
        return normalize_country(region)
    try:
        return str(pycountry.countries.lookup(region).alpha_2)
    except LookupError:
        return None


# --- syncing ----------------------------------------------------------------------------------


class GraphCalendarSource:
    """CalendarSource for one Graph app; ``connection.account`` is the mailbox id or UPN."""

    def __init__(
        self,
        auth: TokenProvider,
        *,
        session: requests.Session | None = None,
        graph_base: str = GRAPH_BASE,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
    ) -> None:
        self._auth = auth
        self._session = session or requests.Session()
        self._base = graph_base.rstrip("/")
        self._page_size = page_size
        self._sleep = sleep
        self._max_attempts = max_attempts

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        http = GraphHttp(self._auth, self._session, self._sleep, self._max_attempts)
        link = _delta_link(cursor, window)
        try:
            result = self._round(http, connection, link or self._initial_url(connection, window), window)
            result.full = link is None
        except SyncStateLostError as lost:
            log.info("graph delta link for %s is gone (%s): full re-sync", connection.id, lost)
            try:
                result = self._round(http, connection, self._initial_url(connection, window), window)
            except SyncStateLostError as again:
                raise ConnectorError(_SOURCE, f"fresh delta round refused: {again}") from None
            result.full = True
        result.requests = http.count
        return result

    def _initial_url(self, connection: Connection, window: SyncWindow) -> str:
        start = f"{window.start.isoformat()}T00:00:00Z"
        end = f"{(window.end + timedelta(days=1)).isoformat()}T00:00:00Z"  # the end day is included
        return (
            f"{self._base}/users/{quote(connection.account, safe='@')}/calendarView/delta"
            f"?startDateTime={start}&endDateTime={end}"
        )

    def _headers(self) -> dict[str, str]:
        return {
            "Prefer": f'outlook.timezone="UTC", IdType="ImmutableId", odata.maxpagesize={self._page_size}',
            "Accept": "application/json",
        }

    def _round(self, http: GraphHttp, connection: Connection, url: str, window: SyncWindow) -> SyncResult:
        calendar_id = connection.calendar_id
        read = GraphReadResult()
        masters: dict[str, Mapping[str, Any]] = {}
        for _ in range(_MAX_PAGES):
            page = http.json(url, self._headers())
            if page is None:
                raise ConnectorError(_SOURCE, f"mailbox {connection.account!r} not found", permanent=True)
            rows = page.get("value")
            _read_rows(rows if isinstance(rows, list) else [], calendar_id, read, masters)
            next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            if isinstance(next_link, str):
                url = next_link
                continue
            if not isinstance(delta_link, str):
                raise ConnectorError(_SOURCE, "delta page has neither @odata.nextLink nor @odata.deltaLink")
            self._resolve_occurrences(http, connection, read, masters)
            cursor = json.dumps(
                {
                    "deltaLink": delta_link,
                    "window_start": window.start.isoformat(),
                    "window_end": window.end.isoformat(),
                }
            )
            return SyncResult(events=read.events, removed=read.removed, cursor=cursor, problems=read.problems)
        raise ConnectorError(_SOURCE, f"delta round did not end within {_MAX_PAGES} pages")

    def _resolve_occurrences(
        self,
        http: GraphHttp,
        connection: Connection,
        read: GraphReadResult,
        masters: dict[str, Mapping[str, Any]],
    ) -> None:
        mailbox = quote(connection.account, safe="@")
        for row in read.occurrences:
            master_id = row.get("seriesMasterId")
            if not isinstance(master_id, str) or not master_id:
                read.problems.append(
                    _problem(connection.calendar_id, row.get("id"), "occurrence has no master")
                )
                continue
            if master_id not in masters:
                url = f"{self._base}/users/{mailbox}/events/{quote(master_id, safe='')}"
                url += f"?$select={_MASTER_FIELDS}"
                found = http.json(url, self._headers())
                masters[master_id] = found if found is not None else {}
            master = masters[master_id]
            if not master:
                read.problems.append(
                    _problem(connection.calendar_id, row.get("id"), "series master no longer exists")
                )
                continue
            _add(read, row, connection.calendar_id, master)
        read.occurrences.clear()


def _delta_link(cursor: str | None, window: SyncWindow) -> str | None:
    """The stored delta link if it was issued for this very window, else None (fresh round)."""
    if not cursor:
        return None
    try:
        doc = json.loads(cursor)
        same = (date.fromisoformat(doc["window_start"]), date.fromisoformat(doc["window_end"])) == (
            window.start,
            window.end,
        )
        link = doc["deltaLink"]
    except (ValueError, KeyError, TypeError):
        return None
    return link if same and isinstance(link, str) and link else None
