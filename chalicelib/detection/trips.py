"""Find stays abroad in an employee's calendar events and turn them into Trips.

Why: a posted-worker certificate (A1 / CoC) is needed per stay in a host country, so the unit of
work downstream is "employee X was in country Y from day A to day B, for work or not". A calendar
never says that directly; it says "Workshop - Berlin office" on three days and "LH 422 FRA → BOS" on
one. This module is pure (no clock, no I/O): the same events always give the same trips, with the
same ids, so a rescan updates trips instead of duplicating them.

How:
- Each non-cancelled event is placed in a country: the connector's country_hint, else a flight
  route/"Flight ... to <place>" in the title (the destination), else its location, else its title
  (the title is not used when the location says "Teams", "Home office", "Room 4.12", ...).
- A foreign event gives presence on every calendar day it spans (all-day ends are exclusive, a timed
  event ending at midnight does not touch the next day); a flight only on its departure day.
- Presence days of one country with gaps of at most two days are one Trip (a week with a weekend
  hole stays one trip).
- Purpose: work if any event reads like work (meeting, workshop, conference, client, project ...);
  else holiday if any event is out-of-office or says vacation/Urlaub/congés/...; else work if an
  ordinary event has a physical location there; else unknown (a flight or hotel alone).
- Confidence combines the events' place confidences (IATA and country names high, cities medium,
  title-only lower); several independent events raise it.

Limits of this slice: day boundaries are the event's own local days (a flight lands on the
departure day); no transit detection; a stay split across two calendars is merged only if both
calendars' events are passed in together; recurring events count their first occurrence only.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import Enum

from chalicelib.countries import normalize_country
from chalicelib.detection.places import PlaceMatch, is_non_place, resolve_place
from chalicelib.models import CalendarEvent, EventKind, Evidence, Purpose, SourceKind, Trip

MAX_GAP_DAYS = 2
_TITLE_ONLY_FACTOR = 0.8
_HINT_CONFIDENCE = 0.95
_MAX_CONFIDENCE = 0.99
_SUMMARY_MAX = 200

_HOLIDAY = re.compile(
    r"(?i)\b(?:vacation|holidays?|pto|annual leave|urlaub|betriebsurlaub|cong[ée]s|vacances|vacaciones"
    r"|ferie|ferien|vakantie|urlop|out of office)\b"
)
_WORK = re.compile(
    r"(?i)\b(?:meetings?|workshops?|conferences?|konferenz|summit|congress|kongress|client|customer"
    r"|kunde|kunden|onsite|on-site|projects?|projekt|projet|kick-?off|training|offsite|sales|visit"
    r"|besuch|réunion|reunión|sitzung|seminar|trade fair|messe|audit|interview|presentation)\b"
)
_FLIGHT = re.compile(r"(?i)\b(?:flight|flug|vol|vuelo|volo|vlucht)\b")
_FLIGHT_DESTINATION = re.compile(r"(?i)\b(?:to|nach|vers|à|naar)\s+(?P<place>.+)$")
_TRAVEL = re.compile(
    r"(?i)\b(?:hotel|hôtel|airbnb|check-?in|check-?out|accommodation|unterkunft|train|zug|bahn|tgv"
    r"|eurostar|rental car|mietwagen|taxi|layover)\b"
)


class _Role(Enum):
    WORK = "work"
    HOLIDAY = "holiday"
    TRAVEL = "travel"
    ORDINARY = "ordinary"


@dataclass(frozen=True)
class _Hit:
    """One event placed in one foreign country, with the days it gives presence there."""

    event: CalendarEvent
    country: str
    place: str
    rule: str
    confidence: float
    role: _Role
    physical: bool
    first: date
    last: date


def detect_trips(employee_id: str, home_country: str, events: Iterable[CalendarEvent]) -> list[Trip]:
    """Trips abroad (country != ``home_country``) found in ``events``, sorted by start date."""
    home = normalize_country(home_country)  # "uk" and "GB" are the same home
    by_country: dict[str, list[_Hit]] = defaultdict(list)
    for event in events:
        hit = _hit(event)
        if hit is not None and hit.country != home:
            by_country[hit.country].append(hit)
    trips = [
        _trip(employee_id, country, cluster)
        for country, hits in by_country.items()
        for cluster in _clusters(hits)
    ]
    return sorted(trips, key=lambda trip: (trip.start, trip.end, trip.country))


def _hit(event: CalendarEvent) -> _Hit | None:
    if event.cancelled:
        return None
    placed = _place(event)
    if placed is None:
        return None
    match, is_flight, from_location, confidence = placed
    first, last = _days(event)
    if is_flight:
        last = first  # thin slice: the flight "arrives" on its local departure day
    return _Hit(
        event=event,
        country=match.country,
        place=match.matched,
        rule=match.rule,
        confidence=confidence,
        role=_role(event, is_flight),
        physical=from_location,
        first=first,
        last=last,
    )


def _place(event: CalendarEvent) -> tuple[PlaceMatch, bool, bool, float] | None:
    """(match, is_flight, from the location field, confidence) for the event, or None."""
    if event.country_hint:
        hint = PlaceMatch(
            event.country_hint, event.location or event.country_hint, "event.country_hint", 0.95
        )
        return hint, False, bool(event.location), _HINT_CONFIDENCE
    flight = _flight_destination(event.title)
    if flight is not None:
        return flight, True, False, flight.confidence
    location = event.location or ""
    if location:
        match = resolve_place(location)
        if match is not None:
            return match, False, True, match.confidence
        if is_non_place(location):
            return None
    match = resolve_place(event.title)
    if match is None:
        return None
    return match, False, False, round(match.confidence * _TITLE_ONLY_FACTOR, 4)


def _flight_destination(title: str) -> PlaceMatch | None:
    match = resolve_place(title)
    if match is not None and match.rule == "iata.route_destination":
        return match
    flight = _FLIGHT.search(title)
    if flight is None:
        return None
    destination = _FLIGHT_DESTINATION.search(title, flight.end())
    if destination is None:
        return None
    place = resolve_place(destination.group("place"))
    if place is None:
        return None
    return PlaceMatch(place.country, place.matched, f"flight_to.{place.rule}", place.confidence)


def _days(event: CalendarEvent) -> tuple[date, date]:
    """First and last calendar day the event touches, in its own local time."""
    first = event.start.date()
    if event.all_day:
        last = event.end.date() - timedelta(days=1)
    else:
        last = event.end.date()
        if event.end > event.start and event.end.time() == time() and last > first:
            last -= timedelta(days=1)  # ends at midnight: does not touch the next day
    return first, max(first, last)


def _role(event: CalendarEvent, is_flight: bool) -> _Role:
    title = event.title
    if is_flight:
        return _Role.TRAVEL
    if event.source is SourceKind.BOOKING and "event" not in event.categories:
        return _Role.TRAVEL  # a booked flight, train, hotel or car says where, not why
    if _HOLIDAY.search(title):
        return _Role.HOLIDAY
    if _WORK.search(title):
        return _Role.WORK
    if _TRAVEL.search(title):
        return _Role.TRAVEL
    if event.kind == EventKind.OUT_OF_OFFICE:
        return _Role.HOLIDAY
    return _Role.ORDINARY


def _clusters(hits: list[_Hit]) -> list[list[_Hit]]:
    """Group one country's hits into stays: a new stay starts after more than MAX_GAP_DAYS empty days."""
    clusters: list[list[_Hit]] = []
    last_day: date | None = None
    for hit in sorted(hits, key=lambda h: (h.first, h.last, h.event.uid)):
        if last_day is None or (hit.first - last_day).days - 1 > MAX_GAP_DAYS:
            clusters.append([hit])
            last_day = hit.last
        else:
            clusters[-1].append(hit)
            last_day = max(last_day, hit.last)
    return clusters


def _trip(employee_id: str, country: str, hits: list[_Hit]) -> Trip:
    smallest_uid = min(hit.event.uid for hit in hits)
    digest = hashlib.sha256(f"{employee_id}\x1f{country}\x1f{smallest_uid}".encode()).hexdigest()
    return Trip(
        id="trp_" + digest[:16],
        employee_id=employee_id,
        country=country,
        start=min(hit.first for hit in hits),
        end=max(hit.last for hit in hits),
        purpose=_purpose(hits),
        confidence=_confidence(hits),
        evidence=tuple(_evidence(hit) for hit in hits),
    )


def _purpose(hits: list[_Hit]) -> Purpose:
    roles = {hit.role for hit in hits}
    if _Role.WORK in roles:
        return Purpose.WORK
    if _Role.HOLIDAY in roles:
        return Purpose.HOLIDAY
    if any(hit.role == _Role.ORDINARY and hit.physical for hit in hits):
        return Purpose.WORK
    return Purpose.UNKNOWN


def _confidence(hits: list[_Hit]) -> float:
    """Noisy-or of the events' confidences: each independent event can only make us surer."""
    doubt = 1.0
    for hit in hits:
        doubt *= 1.0 - hit.confidence
    return round(min(_MAX_CONFIDENCE, 1.0 - doubt), 2)


def _evidence(hit: _Hit) -> Evidence:
    return Evidence(
        source=hit.event.source,
        uid=hit.event.uid,
        summary=hit.event.title[:_SUMMARY_MAX],
        place=hit.place,
        rule=hit.rule,
        day=hit.first,
    )
