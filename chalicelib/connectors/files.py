"""Read any calendar or booking file coverwatch understands, choosing the reader from the content.

For `coverwatch detect` and for people who export a calendar to check it: .ics files, Graph JSON
(event lists, delta pages, single events), Google `events.list` JSON (or a saved raw HTTP answer),
schema.org JSON-LD reservations, and booking-confirmation e-mails (.eml) or pages (.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.models import CalendarEvent, SourceKind, SourceProblem

BOOKING_SUFFIXES = {".eml", ".html", ".htm", ".jsonld"}


@dataclass
class FileRead:
    format: str
    events: list[CalendarEvent] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def _json_kind(doc: Any) -> str:
    from chalicelib.connectors.bookings import looks_like_jsonld

    if looks_like_jsonld(doc):
        return "json-ld"
    if isinstance(doc, dict) and (str(doc.get("kind", "")).startswith("calendar#") or "items" in doc):
        return "google"
    return "graph"


def read_calendar_file(path: Path, employee_id: str = "cli") -> FileRead:
    """Events and problems from ``path``; OSError (missing file) propagates."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".ics", ".ical", ".ifb") or data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        from chalicelib.connectors.ics import read_ics

        ics = read_ics(data, calendar_id=path.name)
        return FileRead("ics", ics.events, ics.problems)
    if data.lstrip().startswith(b"HTTP/"):
        return _google(data, path.name)
    if suffix in BOOKING_SUFFIXES or suffix == ".txt":
        return _bookings(path, employee_id)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        problem = SourceProblem(
            source=SourceKind.ICS, calendar_id=path.name, message=f"not a format coverwatch reads: {exc}"
        )
        return FileRead("unknown", problems=[problem])
    kind = _json_kind(doc)
    if kind == "json-ld":
        return _bookings(path, employee_id)
    if kind == "google":
        return _google(data, path.name)
    from chalicelib.connectors.graph import read_graph_bytes

    graph = read_graph_bytes(data, path.name)
    return FileRead("graph", graph.events, graph.problems)


def _google(data: bytes, name: str) -> FileRead:
    from chalicelib.connectors.google import read_events_json

    google = read_events_json(data, name)
    return FileRead("google", google.events, google.problems)


def _bookings(path: Path, employee_id: str) -> FileRead:
    from chalicelib.connectors.bookings import read_booking_file

    booked = read_booking_file(path, employee_id)
    return FileRead("bookings", booked.events, booked.problems)
