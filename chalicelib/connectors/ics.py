"""Read an iCalendar (.ics) export into normalised CalendarEvents.

Why: an .ics file is the one format every calendar can export (Outlook, Google, Apple), so it is the
first connector and the reference for the others. Real exports are messy, so one bad VEVENT is
reported as a SourceProblem and skipped; it never costs the rest of the file. A file that cannot be
parsed as a whole is retried event by event before giving up.

What is kept: SUMMARY (as the title, cut to 500 characters), LOCATION, start/end in the event's own
time zone (aware datetimes; naive for floating times; naive midnights with an exclusive end for
all-day events), cancellation and out-of-office. DESCRIPTION, ATTENDEE, ORGANIZER and everything else
is dropped on purpose: detection does not need it and it is personal data.

Limits of this slice:
- RRULE/RDATE are not expanded: a recurring event gives its first occurrence (DTSTART) only. A moved
  occurrence (RECURRENCE-ID) is kept as its own event with the uid "<UID>#<RECURRENCE-ID>".
- GEO and X-APPLE-STRUCTURED-LOCATION are ignored; only the LOCATION text is read.
- TRANSP:TRANSPARENT alone is not out-of-office (birthdays and reminders are transparent too); only
  X-MICROSOFT-CDO-BUSYSTATUS / -INTENDEDSTATUS "OOF" is.
- A TZID that is neither defined in the file nor a known IANA/Windows name is read as floating time.
- VTODO and VJOURNAL are ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Component
from pydantic import ValidationError

from chalicelib.models import CalendarEvent, EventKind, SourceKind, SourceProblem

_TITLE_MAX = 500
_LOCATION_MAX = 500
_UID_MAX = 512
_OOF = "OOF"
_CANCELLED_PREFIXES = ("canceled:", "cancelled:", "abgesagt:", "annulé:", "cancelado:")
_BLOCK = re.compile(r"^BEGIN:(VEVENT|VTIMEZONE)\r?$.*?^END:\1\r?$", re.MULTILINE | re.DOTALL)
_ALARM = re.compile(r"^BEGIN:VALARM\r?$.*?^END:VALARM\r?\n?", re.MULTILINE | re.DOTALL)
_UID_LINE = re.compile(r"^UID:(.*?)\r?$", re.MULTILINE)


@dataclass(frozen=True)
class IcsResult:
    """What one .ics file gave: the events that could be read and the problems that were skipped."""

    events: list[CalendarEvent]
    problems: list[SourceProblem]


class _BadEventError(ValueError):
    """One VEVENT cannot be turned into a CalendarEvent; the message is shown to the user."""


def read_ics_file(path: Path) -> IcsResult:
    """Read one .ics file; the calendar id is the file name. OSError (missing file) propagates."""
    return read_ics(path.read_bytes(), calendar_id=path.name)


def read_ics(data: bytes, calendar_id: str) -> IcsResult:
    """Parse ``data`` as iCalendar; never raises for bad content, reports it as problems instead."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = _Reader(calendar_id, text)
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

    def __init__(self, calendar_id: str, text: str) -> None:
        self.calendar_id = calendar_id
        self.text = text
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

    def read_calendar(self, calendar: Component, line: int | None = None) -> None:
        cancelled_by_method = str(calendar.get("METHOD", "")).strip().upper() == "CANCEL"
        vevents = list(calendar.walk("VEVENT"))
        replaced = _replaced_first_occurrences(vevents)
        for vevent in vevents:
            uid = _uid(vevent)
            try:
                event = _to_event(vevent, self.calendar_id, cancelled_by_method)
            except Exception as exc:  # one bad event must never cost the rest of the file
                self.problems.append(self.problem(_describe(exc), uid=uid, line=line))
                continue
            if "RECURRENCE-ID" not in vevent and (uid, event.start) in replaced:
                continue
            self.events.append(event)

    def recover(self, error: Exception) -> IcsResult:
        """The file does not parse as a whole: read each VEVENT on its own with the file's time zones."""
        self.problems.append(
            self.problem(f"file is not well-formed iCalendar ({_short(error)}); events were read one by one")
        )
        blocks = list(_BLOCK.finditer(self.text))
        zones = [m.group(0) for m in blocks if m.group(1) == "VTIMEZONE" and _parses(m.group(0))]
        for match in (m for m in blocks if m.group(1) == "VEVENT"):
            line = self.text.count("\n", 0, match.start()) + 1
            vevent = _ALARM.sub("", match.group(0))  # alarms are not needed and often the broken part
            wrapped = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *zones, vevent, "END:VCALENDAR"])
            try:
                calendar = Calendar.from_ical(wrapped)
            except Exception as exc:
                uid_match = _UID_LINE.search(match.group(0))
                uid = uid_match.group(1).strip() if uid_match else None
                self.problems.append(self.problem(f"unreadable event: {_short(exc)}", uid=uid, line=line))
                continue
            self.read_calendar(calendar, line=line)
        return self.result()

    def _line_of_uid(self, uid: str) -> int | None:
        base = uid.split("#", 1)[0][:60]  # long UIDs are folded; their first 60 characters are not
        index = self.text.find(f"UID:{base}")
        return None if index < 0 else self.text.count("\n", 0, index) + 1


def _to_event(vevent: Component, calendar_id: str, cancelled_by_method: bool) -> CalendarEvent:
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
        uid=_uid(vevent) or _synthetic_uid(calendar_id, vevent),
        title=title[:_TITLE_MAX],
        location=location[:_LOCATION_MAX] or None,
        start=start,
        end=end,
        all_day=all_day,
        kind=EventKind.OUT_OF_OFFICE if _is_oof(vevent) else EventKind.EVENT,
        cancelled=cancelled_by_method
        or status == "CANCELLED"
        or title.lower().startswith(_CANCELLED_PREFIXES),
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


def _replaced_first_occurrences(vevents: list[Component]) -> set[tuple[str | None, Any]]:
    """(uid, start) of master events whose first occurrence is overridden by a RECURRENCE-ID entry."""
    replaced: set[tuple[str | None, Any]] = set()
    for vevent in vevents:
        recurrence = vevent.get("RECURRENCE-ID")
        if recurrence is None or isinstance(recurrence, list):
            continue
        try:
            value = recurrence.dt
        except Exception:  # noqa: S112 - a broken RECURRENCE-ID replaces nothing
            continue
        master_uid = _text(vevent, "UID")[:_UID_MAX] or None
        replaced.add((master_uid, value))
        if not isinstance(value, datetime):
            replaced.add((master_uid, datetime.combine(value, time())))
    return replaced


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
