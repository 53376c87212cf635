"""Read an iCalendar (.ics) export or feed into normalised CalendarEvents.

Why: an .ics file is the one format every calendar can export (Outlook, Google, Apple, TripIt), so it
is the reference connector and the parser behind ICS feeds and uploads. Real exports are messy, so one
bad VEVENT (or one series) is reported as a SourceProblem and skipped; it never costs the rest of the
file. A file that cannot be parsed as a whole is read again block by block, and the first line that is
not an iCalendar content line is named.

What is kept: SUMMARY (as the title, cut to 500 characters), LOCATION, GEO (as coordinates),
CATEGORIES, the free/busy hint (X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP), SEQUENCE/LAST-MODIFIED as the
change marker, start/end in the event's own time zone, cancellation and out-of-office. DESCRIPTION,
ATTENDEE, ORGANIZER, URL and everything else is dropped on purpose: detection does not need it and it
is personal data.

Recurrence: RRULE/RDATE/EXDATE and moved occurrences (RECURRENCE-ID) are expanded with
``recurring-ical-events`` inside a window. Each occurrence of a recurring event gets the uid
"<UID>#<original start ISO>" (the RECURRENCE-ID, which equals the start unless the occurrence was
moved, so the id survives a move). A cancelled occurrence (STATUS:CANCELLED override) is left out; a
cancelled series gives its occurrences flagged ``cancelled``. At most 1,500 occurrences per series are
read (a problem says when more were cut). Without an explicit window (the CLI, the demo) recurring
events are expanded from one year before to two years after today — or after the file's latest start
when the whole file is older, so an old export still shows its series — and single events are all
kept whatever their date; with a window (feeds, uploads) single events outside it are left out too.

Time zones: a TZID defined by a VTIMEZONE in the file uses that definition; an IANA name is used as
is; a Windows id ("W. Europe Standard Time") or Windows display name ("(UTC+01:00) Amsterdam, Berlin,
...") goes through ``windows_zones``; calendars that rely on X-WR-TIMEZONE (Google exports) are made
RFC 5545-conformant with ``x-wr-timezone``; floating times stay naive (local as written); UTC stays
UTC. A TZID nobody can resolve is read as floating time.

Other limits: TRANSP:TRANSPARENT alone is not out-of-office (birthdays and reminders are transparent
too); only X-MICROSOFT-CDO-BUSYSTATUS / -INTENDEDSTATUS "OOF" is. VTODO and VJOURNAL are ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from icalendar import Calendar, Component, vDDDLists, vDDDTypes
from pydantic import ValidationError

from chalicelib.connectors.base import SyncWindow
from chalicelib.connectors.windows_zones import resolve_zone
from chalicelib.models import CalendarEvent, EventKind, SourceKind, SourceProblem

_TITLE_MAX = 500
_LOCATION_MAX = 500
_UID_MAX = 512
_OOF = "OOF"
_CANCELLED = "CANCELLED"
_CANCELLED_PREFIXES = ("canceled:", "cancelled:", "abgesagt:", "annulé:", "cancelado:")
_BLOCK = re.compile(r"^BEGIN:(VEVENT|VTIMEZONE)\r?$.*?^END:\1\r?$", re.MULTILINE | re.DOTALL)
_ALARM = re.compile(r"^BEGIN:VALARM\r?$.*?^END:VALARM\r?\n?", re.MULTILINE | re.DOTALL)
_UID_LINE = re.compile(r"^UID:(.*?)\r?$", re.MULTILINE)
_X_WR_LINE = re.compile(r"^X-WR-TIMEZONE:(.*?)\r?$", re.MULTILINE | re.IGNORECASE)
_METHOD_CANCEL = re.compile(r"^METHOD:\s*CANCEL\s*$", re.MULTILINE | re.IGNORECASE)
_CONTENT_LINE = re.compile(r"^(?:[ \t]|[A-Za-z0-9-]+[;:]|\s*$)")
_ZONED_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_ZONED_LISTS = ("EXDATE", "RDATE")
_BUSY_STATUS = {"FREE": "free", "TENTATIVE": "tentative", "BUSY": "busy", "OOF": "oof",
                "WORKINGELSEWHERE": "workingElsewhere"}  # fmt: skip
MAX_OCCURRENCES = 1500
"""Occurrences read per recurring series; a daily meeting over the default three years fits."""
DEFAULT_PAST = timedelta(days=365)
DEFAULT_FUTURE = timedelta(days=730)


@dataclass(frozen=True)
class IcsResult:
    """What one .ics file gave: the events that could be read and the problems that were skipped."""

    events: list[CalendarEvent]
    problems: list[SourceProblem]


class _BadEventError(ValueError):
    """One VEVENT cannot be turned into a CalendarEvent; the message is shown to the user."""


def default_window(today: date | None = None) -> SyncWindow:
    """The window recurring events are expanded in when the caller gives none: -1 year … +2 years."""
    anchor = today or datetime.now(UTC).date()
    return SyncWindow(start=anchor - DEFAULT_PAST, end=anchor + DEFAULT_FUTURE)


def read_ics_file(path: Path, window: SyncWindow | None = None) -> IcsResult:
    """Read one .ics file; the calendar id is the file name. OSError (missing file) propagates."""
    return read_ics(path.read_bytes(), calendar_id=path.name, window=window)


def read_ics(data: bytes, calendar_id: str, window: SyncWindow | None = None) -> IcsResult:
    """Parse ``data`` as iCalendar; never raises for bad content, reports it as problems instead.

    ``window`` limits the events to those overlapping it and bounds recurrence expansion; without one,
    single events are all kept and recurring ones are expanded over ``default_window()``.
    """
    text = data.decode("utf-8-sig", errors="replace")
    reader = _Reader(calendar_id, text, window)
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as exc:
        if "BEGIN:VCALENDAR" not in text.upper():
            return IcsResult([], [reader.problem("not an iCalendar file (no BEGIN:VCALENDAR)")])
        return reader.recover(exc)
    if not calendars:
        return IcsResult([], [reader.problem("not an iCalendar file (no calendar found)")])
    for calendar in calendars:
        reader.read_calendar(calendar)
    return reader.result()


class _Reader:
    """Collects events and problems for one file."""

    def __init__(self, calendar_id: str, text: str, window: SyncWindow | None) -> None:
        self.calendar_id = calendar_id
        self.text = text
        self.filter_window = window
        self.events: list[CalendarEvent] = []
        self.problems: list[SourceProblem] = []

    def result(self) -> IcsResult:
        return IcsResult(list(self.events), list(self.problems))

    def problem(self, message: str, uid: str | None = None, line: int | None = None) -> SourceProblem:
        if line is None and uid:
            line = self._line_of_uid(uid)
        return SourceProblem(
            source=SourceKind.ICS, calendar_id=self.calendar_id, uid=uid, line=line, message=message
        )

    def read_calendar(self, calendar: Component) -> None:
        calendar = self._standardised(calendar, calendar.get("X-WR-TIMEZONE"))
        cancelled_by_method = str(calendar.get("METHOD", "")).strip().upper() == "CANCEL"
        zones = _custom_zones(calendar)
        self._read_entries([(v, None) for v in calendar.walk("VEVENT")], zones, cancelled_by_method)

    def recover(self, error: Exception) -> IcsResult:
        """The file does not parse as a whole: read each VEVENT on its own with the file's time zones."""
        bad_line = next(
            (n for n, line in enumerate(self.text.splitlines(), 1) if not _CONTENT_LINE.match(line)), None
        )
        where = f"line {bad_line}: " if bad_line else ""
        self.problems.append(
            self.problem(
                f"file is not well-formed iCalendar ({where}{_short(error)}); events were read one by one",
                line=bad_line,
            )
        )
        blocks = list(_BLOCK.finditer(self.text))
        zone_blocks = [m.group(0) for m in blocks if m.group(1) == "VTIMEZONE" and _parses(m.group(0))]
        x_wr = _X_WR_LINE.search(self.text)
        zones: dict[str, tzinfo] = {}
        entries: list[tuple[Component, int | None]] = []
        for match in (m for m in blocks if m.group(1) == "VEVENT"):
            line = self.text.count("\n", 0, match.start()) + 1
            vevent = _ALARM.sub("", match.group(0))  # alarms are not needed and often the broken part
            wrapped = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *zone_blocks, vevent, "END:VCALENDAR"])
            try:
                calendar: Component = Calendar.from_ical(wrapped)
            except Exception as exc:
                uid_match = _UID_LINE.search(match.group(0))
                uid = uid_match.group(1).strip() if uid_match else None
                self.problems.append(self.problem(f"unreadable event: {_short(exc)}", uid=uid, line=line))
                continue
            calendar = self._standardised(calendar, x_wr.group(1) if x_wr else None)
            zones.update(_custom_zones(calendar))
            entries.extend((v, line) for v in calendar.walk("VEVENT"))
        self._read_entries(entries, zones, bool(_METHOD_CANCEL.search(self.text)))
        return self.result()

    def _standardised(self, calendar: Component, x_wr_timezone: object) -> Component:
        """Apply X-WR-TIMEZONE (Google exports) the way RFC 5545 would have written the times."""
        if x_wr_timezone is None or not str(x_wr_timezone).strip():
            return calendar
        zone = resolve_zone(str(x_wr_timezone))
        if zone is None:
            self.problems.append(self.problem(f"unknown X-WR-TIMEZONE '{_short(str(x_wr_timezone), 80)}'"))
            return calendar
        import x_wr_timezone as x_wr

        try:
            standard: Component = x_wr.to_standard(calendar, timezone=zone)
        except Exception as exc:
            self.problems.append(self.problem(f"X-WR-TIMEZONE could not be applied ({_short(exc)})"))
            return calendar
        return standard

    def _read_entries(
        self, entries: list[tuple[Component, int | None]], zones: dict[str, tzinfo], cancelled_by_method: bool
    ) -> None:
        series: dict[str, list[tuple[Component, int | None]]] = {}
        singles: list[tuple[Component, int | None]] = []
        for vevent, line in entries:
            _resolve_zones(vevent, zones)
            uid = _text(vevent, "UID")
            if not uid and ("RRULE" in vevent or "RDATE" in vevent):
                uid = _synthetic_uid(self.calendar_id, vevent)  # a series needs an id for its occurrences
                vevent["UID"] = uid
            if uid and any(name in vevent for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
                series.setdefault(uid, []).append((vevent, line))
            else:
                singles.append((vevent, line))
        window = self.filter_window or default_window(_anchor(v for v, _ in entries))
        for uid, members in series.items():
            self._expand(uid, members, cancelled_by_method, window)
        for vevent, line in singles:
            self._single(vevent, line, cancelled_by_method)

    def _single(self, vevent: Component, line: int | None, cancelled_by_method: bool) -> None:
        try:
            event = _to_event(vevent, self.calendar_id, cancelled_by_method)
        except Exception as exc:  # one bad event must never cost the rest of the file
            self.problems.append(self.problem(_describe(exc), uid=_uid(vevent), line=line))
            return
        if self.filter_window is None or _overlaps(event, self.filter_window):
            self.events.append(event)

    def _expand(
        self,
        uid: str,
        members: list[tuple[Component, int | None]],
        cancelled_by_method: bool,
        window: SyncWindow,
    ) -> None:
        """Every occurrence of one recurring series inside the window; a bad member is skipped."""
        usable = [v for v, ln in members if self._has_start(v, ln)]
        if not usable:
            return
        line = next((ln for _, ln in members if ln is not None), None)
        series_cancelled = cancelled_by_method or any(
            "RECURRENCE-ID" not in v and _text(v, "STATUS").upper() == _CANCELLED for v in usable
        )
        seen = 0
        failed = False
        try:
            for occurrence in _occurrences(usable, window):
                seen += 1
                if seen > MAX_OCCURRENCES:
                    message = (
                        f"recurring event has more than {MAX_OCCURRENCES} occurrences; the rest are skipped"
                    )
                    self.problems.append(self.problem(message, uid=uid, line=line))
                    break
                if _text(occurrence, "STATUS").upper() == _CANCELLED and not series_cancelled:
                    continue  # one cancelled occurrence of a series that goes on
                occurrence_uid = _occurrence_uid(occurrence)
                try:
                    event = _to_event(occurrence, self.calendar_id, series_cancelled, uid=occurrence_uid)
                except Exception as exc:
                    if not failed:  # one report per series, not one per occurrence
                        self.problems.append(self.problem(_describe(exc), uid=uid, line=line))
                    failed = True
                    continue
                self.events.append(event)
        except Exception as exc:
            message = f"recurring event could not be expanded: {_short(exc)}"
            self.problems.append(self.problem(message, uid=uid, line=line))
            return
        if seen == 0 and _starts_inside(usable, window):
            message = "recurring event has no occurrence at all (its RRULE ends before DTSTART?)"
            self.problems.append(self.problem(message, uid=uid, line=line))

    def _has_start(self, vevent: Component, line: int | None) -> bool:
        try:
            if _dt(vevent, "DTSTART") is None:
                raise _BadEventError(_missing_start_message(vevent))
        except _BadEventError as exc:
            self.problems.append(self.problem(str(exc), uid=_uid(vevent), line=line))
            return False
        return True

    def _line_of_uid(self, uid: str) -> int | None:
        base = uid.split("#", 1)[0][:60]  # long UIDs are folded; their first 60 characters are not
        index = self.text.find(f"UID:{base}")
        return None if index < 0 else self.text.count("\n", 0, index) + 1


def _to_event(
    vevent: Component, calendar_id: str, cancelled_by_method: bool, uid: str | None = None
) -> CalendarEvent:
    start_raw = _dt(vevent, "DTSTART")
    if start_raw is None:
        raise _BadEventError(_missing_start_message(vevent))
    all_day = not isinstance(start_raw, datetime) or _outlook_all_day(vevent, start_raw)
    end_raw = _end(vevent, start_raw)
    start, end = _all_day_range(start_raw, end_raw) if all_day else _timed_range(start_raw, end_raw)
    title = _text(vevent, "SUMMARY")
    location = _text(vevent, "LOCATION")
    status = _text(vevent, "STATUS").upper()
    return CalendarEvent(
        source=SourceKind.ICS,
        calendar_id=calendar_id,
        uid=(uid or _uid(vevent) or _synthetic_uid(calendar_id, vevent))[:_UID_MAX],
        title=title[:_TITLE_MAX],
        location=location[:_LOCATION_MAX] or None,
        start=start,
        end=end,
        all_day=all_day,
        kind=EventKind.OUT_OF_OFFICE if _is_oof(vevent) else EventKind.EVENT,
        cancelled=cancelled_by_method
        or status == _CANCELLED
        or title.lower().startswith(_CANCELLED_PREFIXES),
        coordinates=_geo(vevent),
        show_as=_show_as(vevent),
        categories=_categories(vevent),
        changed=_change_marker(vevent),
    )


def _dt(vevent: Component, name: str) -> date | None:
    """The date or datetime of DTSTART/DTEND, None when absent; _BadEventError when unreadable."""
    prop = vevent.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise _BadEventError(f"{name} appears {len(prop)} times")
    try:
        value = prop.dt
    except Exception as exc:
        raw = _short(str.__str__(prop), 80) if isinstance(prop, str) else ""
        params = getattr(prop, "params", None)
        hint = f" (parameters {dict(params)})" if params else ""
        raise _BadEventError(f"{name} is not a date or date-time: '{raw}'{hint}") from exc
    if not isinstance(value, date):
        raise _BadEventError(f"{name} is not a date or date-time: '{_short(str(value), 80)}'")
    return value


def _end(vevent: Component, start: date) -> date | None:
    end = _dt(vevent, "DTEND")
    if end is not None:
        return end
    duration = vevent.get("DURATION")
    if duration is None:
        return None
    try:
        delta = duration.dt
    except Exception as exc:
        raise _BadEventError(f"DURATION is not a duration ({_short(exc)})") from exc
    if not isinstance(delta, timedelta):
        raise _BadEventError(f"DURATION is not a duration ({delta!r})")
    return start + delta


def _all_day_range(start: date, end: date | None) -> tuple[datetime, datetime]:
    first = start.date() if isinstance(start, datetime) else start
    last = end.date() if isinstance(end, datetime) else end
    if last is None or last == first:
        last = first + timedelta(days=1)
    return datetime.combine(first, time()), datetime.combine(last, time())


def _timed_range(start: date, end: date | None) -> tuple[datetime, datetime]:
    assert isinstance(start, datetime)
    if end is None:
        return start, start
    if not isinstance(end, datetime):
        end = datetime.combine(end, time())
    # The end follows the start's notion of time: floating stays floating, zoned stays zoned.
    if start.tzinfo is None and end.tzinfo is not None:
        end = end.replace(tzinfo=None)
    elif start.tzinfo is not None and end.tzinfo is None:
        end = end.replace(tzinfo=start.tzinfo)
    return start, end


def _outlook_all_day(vevent: Component, start: datetime) -> bool:
    """Outlook sometimes writes all-day events as midnight date-times flagged ALLDAYEVENT:TRUE."""
    flagged = _text(vevent, "X-MICROSOFT-CDO-ALLDAYEVENT").upper() == "TRUE"
    return flagged and start.time() == time()


def _is_oof(vevent: Component) -> bool:
    statuses = (_text(vevent, "X-MICROSOFT-CDO-BUSYSTATUS"), _text(vevent, "X-MICROSOFT-CDO-INTENDEDSTATUS"))
    return any(status.upper() == _OOF for status in statuses)


def _text(vevent: Component, name: str) -> str:
    value: Any = vevent.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else " ".join(str(value).split())


def _uid(vevent: Component) -> str | None:
    uid = _text(vevent, "UID")
    if not uid:
        return None
    recurrence = vevent.get("RECURRENCE-ID")
    if recurrence is not None and not isinstance(recurrence, list):
        with contextlib.suppress(Exception):  # an unreadable RECURRENCE-ID keeps the plain UID
            uid = f"{uid}#{recurrence.dt.isoformat()}"
    return uid[:_UID_MAX]


def _synthetic_uid(calendar_id: str, vevent: Component) -> str:
    """A stable stand-in for a missing UID, so rescans of the same file give the same id."""
    start = vevent.get("DTSTART")
    start_text = start.to_ical().decode(errors="replace") if hasattr(start, "to_ical") else ""
    raw = "|".join([calendar_id, start_text, _text(vevent, "SUMMARY")])
    return "ics-" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def _occurrences(members: list[Component], window: SyncWindow) -> Iterator[Component]:
    """The series' occurrences that end on or after the window's start and start before its end."""
    import recurring_ical_events

    calendar = Calendar()
    for vevent in members:
        calendar.add_component(vevent)
    stop = window.end + timedelta(days=1)
    for occurrence in recurring_ical_events.of(calendar).after(datetime.combine(window.start, time())):
        start = _dt(occurrence, "DTSTART")
        if start is None or _as_date(start) >= stop:
            return
        yield occurrence


def _starts_inside(members: list[Component], window: SyncWindow) -> bool:
    masters = [_dt(v, "DTSTART") for v in members if "RECURRENCE-ID" not in v]
    return any(m is not None and window.start <= _as_date(m) <= window.end for m in masters)


def _occurrence_uid(occurrence: Component) -> str:
    """UID#<RECURRENCE-ID in ISO>: the original start, equal to the start unless the occurrence moved."""
    base = _text(occurrence, "UID")
    recurrence: Any = occurrence.get("RECURRENCE-ID")
    value: Any = recurrence.dt if recurrence is not None else _dt(occurrence, "DTSTART")
    return f"{base}#{value.isoformat()}"


def _anchor(vevents: Iterable[Component]) -> date:
    """Today, or the latest start in the file when the whole file is older (an old export stays readable)."""
    today = datetime.now(UTC).date()
    starts = []
    for vevent in vevents:
        with contextlib.suppress(Exception):
            start = _dt(vevent, "DTSTART")
            if start is not None:
                starts.append(_as_date(start))
    return min(today, max(starts)) if starts else today


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _overlaps(event: CalendarEvent, window: SyncWindow) -> bool:
    return event.end.date() >= window.start and event.start.date() <= window.end


def _geo(vevent: Component) -> tuple[float, float] | None:
    geo: Any = vevent.get("GEO")
    try:
        latitude, longitude = float(geo.latitude), float(geo.longitude)
    except Exception:  # absent or unreadable GEO: the LOCATION text still counts
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180 and (latitude, longitude) != (0.0, 0.0):
        return latitude, longitude
    return None


def _show_as(vevent: Component) -> str | None:
    busy = _text(vevent, "X-MICROSOFT-CDO-BUSYSTATUS").upper()
    if busy in _BUSY_STATUS:
        return _BUSY_STATUS[busy]
    transparency = _text(vevent, "TRANSP").lower()
    return transparency if transparency in ("transparent", "opaque") else None


def _categories(vevent: Component) -> tuple[str, ...]:
    raw: Any = vevent.get("CATEGORIES")
    values: list[str] = []
    for item in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        cats = getattr(item, "cats", None)
        values.extend(str(c) for c in cats) if cats is not None else values.append(str(item))
    cleaned = (" ".join(v.split())[:100] for v in values)
    return tuple(dict.fromkeys(c for c in cleaned if c))[:20]


def _change_marker(vevent: Component) -> str | None:
    """SEQUENCE and LAST-MODIFIED: what an organiser's change bumps (DTSTAMP changes on every export)."""
    sequence = _text(vevent, "SEQUENCE")
    modified = ""
    with contextlib.suppress(Exception):
        last_modified: Any = vevent["LAST-MODIFIED"]
        modified = last_modified.dt.isoformat()
    marker = "|".join(part for part in (sequence, modified) if part)
    return marker[:200] or None


def _custom_zones(calendar: Component) -> dict[str, tzinfo]:
    """VTIMEZONE definitions by their TZID with blanks stripped (some writers pad one side only)."""
    zones: dict[str, tzinfo] = {}
    vtimezone: Any
    for vtimezone in calendar.walk("VTIMEZONE"):
        with contextlib.suppress(Exception):  # a broken VTIMEZONE leaves its TZID to the name lookup
            zones[str(vtimezone["TZID"]).strip()] = vtimezone.to_tz()
    return zones


def _zone_for(prop: Any, zones: dict[str, tzinfo]) -> tzinfo | None:
    params = getattr(prop, "params", None)
    tzid: Any = params.get("TZID") if params else None
    if not tzid:
        return None
    name = ", ".join(str(t) for t in tzid) if isinstance(tzid, list) else str(tzid)
    return zones.get(name.strip().strip('"').strip()) or resolve_zone(name)


def _localised(value: Any, zone: tzinfo) -> Any:
    if isinstance(value, tuple):
        return tuple(_localised(v, zone) for v in value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


def _resolve_zones(vevent: Component, zones: dict[str, tzinfo]) -> None:
    """Attach a zone to times whose TZID icalendar could not resolve (Windows display names, padding)."""
    for name in _ZONED_PROPERTIES:
        prop = vevent.get(name)
        zone = None if isinstance(prop, list) else _zone_for(prop, zones)
        if zone is None:
            continue
        with contextlib.suppress(Exception):  # an unreadable value is reported when the event is built
            value = prop.dt
            if isinstance(value, datetime) and value.tzinfo is None:
                vevent[name] = vDDDTypes(value.replace(tzinfo=zone))
    for name in _ZONED_LISTS:
        raw = vevent.get(name)
        props: Iterable[Any] = raw if isinstance(raw, list) else [raw] if raw is not None else []
        fixed: list[Any] = []
        changed = False
        for prop in props:
            zone = _zone_for(prop, zones)
            dts = getattr(prop, "dts", None)
            replacement = prop
            if zone is not None and dts is not None:
                with contextlib.suppress(Exception):
                    replacement = vDDDLists([_localised(d.dt, zone) for d in dts])
                    changed = True
            fixed.append(replacement)
        if changed:
            vevent[name] = fixed if len(fixed) > 1 else fixed[0]


def _missing_start_message(vevent: Component) -> str:
    errors: list[tuple[str | None, str]] = list(getattr(vevent, "errors", []) or [])
    detail = f" ({errors[0][1]})" if errors else ""
    return f"event has no readable DTSTART{detail}"


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        return f"invalid event: {where + ': ' if where else ''}{message}"
    if isinstance(exc, _BadEventError):
        return str(exc)
    return f"unreadable event: {_short(exc)}"


def _short(exc: BaseException | str, limit: int = 200) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _parses(block: str) -> bool:
    try:
        Calendar.from_ical("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", block, "END:VCALENDAR"]))
    except Exception:
        return False
    return True
