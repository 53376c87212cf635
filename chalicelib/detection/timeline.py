"""An employee's presence timeline: which country each event puts them in, on which local days.

Why: a calendar rarely holds an entry for every day abroad. A booked FRA→BOS on 04-05 and BOS→FRA on
04-23 mean the traveler is in the US on every day in between, meetings or not; a 22:00 departure from
Frankfurt landing in Tokyo at 07:00 means Japan from the landing day, not the day before; a two-hour
change in Doha is not a stay in Qatar. Those facts come from ordering the journeys, which is what
this module does; grouping days into trips is ``merge``'s job.

Rules (each presence keeps its event, place and rule for the trip's evidence):
- Journeys (flight, train, bus; see ``readings``) are sorted by departure instant. The same journey
  seen twice (an Outlook entry and the booking, different uids) is one *movement*: same destination,
  same local departure day, compatible origins; all its events are evidence.
- A movement gives presence in its origin on the local departure day and in its destination from the
  local arrival day (the arrival time read in the destination airport's zone when known) through the
  departure day of the next movement, when that one leaves from the destination or from an unknown
  place (then it is taken to leave from there: rule "departure.inferred"). If the next movement
  leaves from elsewhere, a leg is missing and only the arrival day counts.
  Change days therefore count for both countries: the traveler is in each of them that day.
- Transit: a movement's destination is transit when the next movement leaves it less than 24 hours
  after arrival (on the same local day for date-only entries), goes on to a third country, and no
  other entry (a meeting, any placed entry; hotels and travel entries do not count) falls in that
  country over those days. Transit presences are flagged; ``merge`` leaves them out by default.
- Every other placed entry (meeting at a physical place, hotel night, all-day entry, title-only
  place) gives presence on each local day it touches; all-day ends are exclusive, and a timed entry
  ending at midnight does not touch the next day.
- Cancelled entries give nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.detection import purpose
from chalicelib.detection.readings import Leg, Stay, read_event, zone
from chalicelib.models import CalendarEvent

TRANSIT_HOURS = 24


@dataclass(frozen=True, slots=True)
class Presence:
    """``event`` puts the traveler in ``country`` from ``first`` through ``last`` (local days)."""

    event: CalendarEvent
    country: str
    first: date
    last: date
    place: str | None
    rule: str
    confidence: float
    flags: int
    physical: bool
    """Located by a place, a hint or a journey (not a title alone): a stay elsewhere cannot bridge it."""
    transit: bool = False


@dataclass(slots=True)
class _Journey:
    event: CalendarEvent
    leg: Leg
    departs: datetime
    """Departure as a naive UTC instant (naive local time when the source gave no zone)."""
    arrives: datetime
    departure_day: date
    arrival_day: date
    dated_only: bool


@dataclass(slots=True)
class _Movement:
    journeys: list[_Journey] = field(default_factory=list)

    @property
    def destination(self) -> str:
        return self.journeys[0].leg.destination

    @property
    def origin(self) -> str | None:
        return next((j.leg.origin for j in self.journeys if j.leg.origin), None)

    @property
    def departure_day(self) -> date:
        return self.journeys[0].departure_day

    @property
    def arrival_day(self) -> date:
        return max(j.arrival_day for j in self.journeys)

    @property
    def departs(self) -> datetime:
        return min(j.departs for j in self.journeys)

    @property
    def arrives(self) -> datetime:
        return max(j.arrives for j in self.journeys)

    @property
    def dated_only(self) -> bool:
        return any(j.dated_only for j in self.journeys)


def presences(events: Iterable[CalendarEvent], home: str) -> list[Presence]:
    """Every presence the events give, home included (home presences separate stays abroad)."""
    out: list[Presence] = []
    journeys: list[_Journey] = []
    for event in events:
        reading = read_event(event)
        if reading is None:
            continue
        if isinstance(reading, Leg):
            journeys.append(_journey(event, reading))
        else:
            first, last = local_days(event)
            out.append(_stay_presence(event, reading, first, last))
    if journeys:
        out.extend(_journey_presences(_movements(journeys), out, home))
    return out


def local_days(event: CalendarEvent) -> tuple[date, date]:
    """First and last calendar day the event touches, in its own local time."""
    first = event.start.date()
    if event.all_day:
        last = event.end.date() - timedelta(days=1)
    else:
        last = event.end.date()
        if event.end > event.start and event.end.time() == time() and last > first:
            last -= timedelta(days=1)  # ends at midnight: does not touch the next day
    return first, max(first, last)


def _stay_presence(event: CalendarEvent, stay: Stay, first: date, last: date) -> Presence:
    return Presence(
        event=event,
        country=stay.country,
        first=first,
        last=last,
        place=stay.place,
        rule=stay.rule,
        confidence=stay.confidence,
        flags=stay.flags,
        physical=stay.physical,
    )


def _instant(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _journey(event: CalendarEvent, leg: Leg) -> _Journey:
    departure_day = event.start.date()
    if event.all_day:
        arrival_day = departure_day
    else:
        end = event.end
        arrival_zone = zone(leg.arrival_zone) if leg.arrival_zone and end.tzinfo is not None else None
        arrival_day = (end.astimezone(arrival_zone) if arrival_zone else end).date()
    return _Journey(
        event=event,
        leg=leg,
        departs=_instant(event.start),
        arrives=_instant(event.end),
        departure_day=departure_day,
        arrival_day=max(arrival_day, departure_day),
        dated_only=event.all_day,
    )


def _movements(journeys: list[_Journey]) -> list[_Movement]:
    """Journeys in departure order, the same journey from several sources folded into one movement."""
    journeys.sort(key=lambda j: (j.departs, j.event.uid))
    movements: list[_Movement] = []
    by_key: dict[tuple[str, date], _Movement] = {}
    for journey in journeys:
        key = (journey.leg.destination, journey.departure_day)
        same = by_key.get(key)
        if same is not None and (journey.leg.origin is None or same.origin in (None, journey.leg.origin)):
            same.journeys.append(journey)
            continue
        movement = _Movement([journey])
        by_key[key] = movement
        movements.append(movement)
    return movements


def _journey_presences(movements: list[_Movement], stays: list[Presence], home: str) -> list[Presence]:
    active = _activity_index(stays)
    out: list[Presence] = []
    transit_out = False  # the current movement leaves a transit country
    here: str | None = None  # where the previous movement left the traveler, if this one leaves from there
    for index, movement in enumerate(movements):
        following = movements[index + 1] if index + 1 < len(movements) else None
        continues = following is not None and following.origin in (None, movement.destination)
        last = following.departure_day if following is not None and continues else movement.arrival_day
        transit = (
            following is not None
            and continues
            and movement.destination != home
            and _is_connection(movement, following)
            and not _active(active, movement.destination, movement.arrival_day, following.departure_day)
        )
        for journey in movement.journeys:
            leg = journey.leg
            origin = leg.origin or here
            if origin is not None:
                out.append(
                    Presence(
                        event=journey.event,
                        country=origin,
                        first=movement.departure_day,
                        last=movement.departure_day,
                        place=leg.origin_place,
                        rule=f"departure.{leg.origin_rule or 'inferred'}",
                        confidence=leg.confidence,
                        flags=leg.flags | purpose.TRAVEL,
                        physical=True,
                        transit=transit_out and origin != home,
                    )
                )
            out.append(
                Presence(
                    event=journey.event,
                    country=movement.destination,
                    first=movement.arrival_day,
                    last=max(last, movement.arrival_day),
                    place=leg.place,
                    rule=leg.rule,
                    confidence=leg.confidence,
                    flags=leg.flags | purpose.TRAVEL,
                    physical=True,
                    transit=transit,
                )
            )
        transit_out = transit
        here = movement.destination if continues else None
    return out


def _is_connection(movement: _Movement, following: _Movement) -> bool:
    """The next journey leaves within 24 hours for a third country (not a day trip back)."""
    if following.destination in (movement.destination, movement.origin):
        return False
    if movement.dated_only or following.dated_only:
        return following.departure_day == movement.arrival_day
    return following.departs - movement.arrives < timedelta(hours=TRANSIT_HOURS)


def _activity_index(stays: list[Presence]) -> dict[str, list[tuple[date, date]]]:
    """Per country, the days of entries that are more than travel (meetings, any placed entry)."""
    index: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for stay in stays:
        if stay.flags != purpose.TRAVEL:
            index[stay.country].append((stay.first, stay.last))
    return index


def _active(index: dict[str, list[tuple[date, date]]], country: str, first: date, last: date) -> bool:
    return any(start <= last and first <= end for start, end in index.get(country, ()))
