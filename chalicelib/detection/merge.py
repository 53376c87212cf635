"""Group presence days into Trips: one per stay in one host country, with evidence, purpose, confidence.

Why: HR and the rules need "employee X in country Y from day A to day B", once, however many
calendars, feeds and bookings mention it. The same stay seen in Outlook, a booking and an ICS feed
(different uids and sources) must be one trip carrying all the evidence, and a rescan must update
that trip, not add a second one: the trip id is what the store, the assessment and the alerts key on.

Rules:
- Presences of one foreign country are one stay when their days touch or leave a gap of at most
  MAX_GAP_DAYS (a weekend without entries), unless a gap day is known to be spent elsewhere (a
  journey home, a located entry at home or in a third country): then they are two stays.
- Transit presences (see ``timeline``) are left out; with ``include_transit`` a stay made only of
  transit presences becomes a Trip with purpose TRANSIT.
- Evidence: one line per event (its earliest day in the stay), sorted by day and uid, naming the
  source, uid, title (200 characters), the place text matched and the rule (``departure.*`` for the
  day a journey leaves the country).
- Confidence: per source (source kind + calendar) the best event's confidence, each further event of
  that source removing 20% of the remaining doubt; independent sources multiply their doubts.
  Capped at 0.99.
- Trip id: ``trp_`` + hash(employee, country, anchor uid). The anchor is the smallest uid among the
  stay's calendar entries (Outlook, Google, ICS); only a stay seen in bookings alone is anchored on a
  booking uid. So a rescan, an entry moving to other days (its uid travels with it) or a booking
  added to a known stay keep the id; the id changes only when an entry with a smaller uid joins, or
  the anchor leaves the stay. Two stays with the same anchor (rare: a series split by a gap) are
  told apart by their start day.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from chalicelib.detection import purpose
from chalicelib.detection.timeline import Presence
from chalicelib.models import Evidence, Purpose, SourceKind, Trip

MAX_GAP_DAYS = 2
REPEAT_FACTOR = 0.8
MAX_CONFIDENCE = 0.99
SUMMARY_MAX = 200


def build_trips(
    employee_id: str, home: str, presences: Iterable[Presence], *, include_transit: bool = False
) -> list[Trip]:
    """Trips abroad from ``presences`` (home presences only separate stays), sorted by start."""
    occupied: dict[date, set[str]] = defaultdict(set)
    by_country: dict[str, list[Presence]] = defaultdict(list)
    for presence in presences:
        if presence.physical:
            _occupy(occupied, presence)
        if presence.country == home or (presence.transit and not include_transit):
            continue
        by_country[presence.country].append(presence)
    stays = [
        (country, cluster)
        for country, items in by_country.items()
        for cluster in _clusters(country, items, occupied)
    ]
    stays.sort(key=lambda stay: (min(p.first for p in stay[1]), stay[0]))
    trips: list[Trip] = []
    used: set[str] = set()
    for country, cluster in stays:
        trip = _trip(employee_id, country, cluster, used)
        used.add(trip.id)
        trips.append(trip)
    return sorted(trips, key=lambda trip: (trip.start, trip.end, trip.country))


def _occupy(occupied: dict[date, set[str]], presence: Presence) -> None:
    day = presence.first
    while day <= presence.last:
        occupied[day].add(presence.country)
        day += timedelta(days=1)


def _clusters(country: str, items: list[Presence], occupied: dict[date, set[str]]) -> list[list[Presence]]:
    items.sort(key=lambda p: (p.first, p.last, p.event.uid))
    clusters: list[list[Presence]] = []
    last_day = date.min
    for presence in items:
        if clusters and _joins(country, last_day, presence.first, occupied):
            clusters[-1].append(presence)
            last_day = max(last_day, presence.last)
        else:
            clusters.append([presence])
            last_day = presence.last
    return clusters


def _joins(country: str, last_day: date, first: date, occupied: dict[date, set[str]]) -> bool:
    """Does a presence starting on ``first`` continue a stay that so far ends on ``last_day``?"""
    gap = (first - last_day).days - 1
    if gap <= 0:
        return True
    if gap > MAX_GAP_DAYS:
        return False
    for offset in range(1, gap + 1):
        elsewhere = occupied.get(last_day + timedelta(days=offset))
        if elsewhere and any(other != country for other in elsewhere):
            return False
    return True


def _trip(employee_id: str, country: str, cluster: list[Presence], used: set[str]) -> Trip:
    start = min(p.first for p in cluster)
    end = max(p.last for p in cluster)
    first_seen: dict[tuple[SourceKind, str, str], Presence] = {}
    for presence in cluster:  # sorted by first day: the first line of an event is its earliest
        event = presence.event
        first_seen.setdefault((event.source, event.calendar_id, event.uid), presence)
    unique = list(first_seen.values())
    if all(p.transit for p in cluster):
        trip_purpose, confirm = Purpose.TRANSIT, False
    else:
        trip_purpose, confirm = purpose.decide(p.flags for p in unique)
    return Trip(
        id=_trip_id(employee_id, country, unique, start, used),
        employee_id=employee_id,
        country=country,
        start=start,
        end=end,
        purpose=trip_purpose,
        confidence=_confidence(unique),
        evidence=tuple(_evidence(p) for p in sorted(unique, key=lambda p: (p.first, p.event.uid))),
        confirm=confirm,
    )


def _trip_id(employee_id: str, country: str, unique: list[Presence], start: date, used: set[str]) -> str:
    anchor = min((p.event.source is SourceKind.BOOKING, p.event.uid) for p in unique)[1]
    digest = hashlib.sha256(f"{employee_id}\x1f{country}\x1f{anchor}".encode()).hexdigest()
    trip_id = "trp_" + digest[:16]
    if trip_id in used:
        digest = hashlib.sha256(f"{employee_id}\x1f{country}\x1f{anchor}\x1f{start}".encode()).hexdigest()
        trip_id = "trp_" + digest[:16]
    return trip_id


def _confidence(unique: list[Presence]) -> float:
    """Per-source best confidence, sharpened by repeats, combined across sources as independent."""
    by_source: dict[tuple[SourceKind, str], list[float]] = defaultdict(list)
    for presence in unique:
        by_source[(presence.event.source, presence.event.calendar_id)].append(presence.confidence)
    doubt = 1.0
    for values in by_source.values():
        doubt *= (1.0 - max(values)) * REPEAT_FACTOR ** (len(values) - 1)
    return round(min(MAX_CONFIDENCE, 1.0 - doubt), 2)


def _evidence(presence: Presence) -> Evidence:
    event = presence.event
    return Evidence(
        source=event.source,
        uid=event.uid,
        summary=event.title[:SUMMARY_MAX],
        place=presence.place,
        rule=presence.rule,
        day=presence.first,
    )
