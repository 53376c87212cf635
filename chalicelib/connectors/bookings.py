"""Turn schema.org reservations (JSON-LD, as booking tools put in confirmation e-mails) into segments.

Why: a booked flight, hotel or train says where an employee will be more reliably than any calendar
entry. Booking tools and airlines embed schema.org ``*Reservation`` markup in their confirmations
(the Gmail markup formats), and TMC exports and KDE Itinerary produce the same vocabulary, so one
reader covers them all. Each reservation becomes a ``Booking`` segment (where the traveler leaves and
arrives, when) and a ``CalendarEvent`` that detection reads like any other calendar entry:

- flight, train, bus: an event on the departure day, titled "<carrier><number> <FROM> → <TO>", placed
  (``country_hint``) in the arrival country and leaving from ``origin_country``; the event ends at the
  arrival or at the end of the departure day, whichever comes first, so an overnight flight does not
  claim the day before landing;
- hotel: an all-day event from the check-in date through the check-out date (the traveler is still
  there on the morning of check-out), placed in the hotel's country;
- rental car: an event from pick-up to drop-off, placed where the car is picked up;
- event ticket: an all-day event over the event's days, placed at its venue.

Countries come from IATA codes (airportsdata), then ``addressCountry`` (ISO code or a name in any
language coverwatch knows), then the city or station name (``resolve_place``). Times without an
offset are read in the airport's time zone, or in the country's zone where the country has
essentially one (Germany yes, the US no, which leaves them floating).

Identity: a segment's uid is a hash of its kind, the reservation number and what identifies the
leg (flight number, departure airport and local date; hotel name; train number ...) — never the
times. A re-sent or updated confirmation therefore replaces its segments, a second passenger on the
same booking adds nothing, and a cancellation (``reservationStatus`` ReservationCancelled or
Cancelled) names the uid of the segment it cancels. Names of travelers, ticket numbers, prices and
URLs are never read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import airportsdata
import pycountry
from pydantic import ValidationError

from chalicelib.countries import normalize_country
from chalicelib.detection.places import resolve_place
from chalicelib.models import Booking, BookingKind, CalendarEvent, SourceKind, SourceProblem

DEFAULT_CALENDAR_ID = "bookings"
_KINDS = {
    "FlightReservation": BookingKind.FLIGHT,
    "LodgingReservation": BookingKind.LODGING,
    "TrainReservation": BookingKind.TRAIN,
    "BusReservation": BookingKind.BUS,
    "RentalCarReservation": BookingKind.RENTAL_CAR,
    "EventReservation": BookingKind.EVENT,
}
_JOURNEYS = frozenset({BookingKind.FLIGHT, BookingKind.TRAIN, BookingKind.BUS})
"""Segments that move the traveler: their event says where they leave from (``origin_country``)."""
_PACKAGE = "ReservationPackage"
_CANCELLED = frozenset({"reservationcancelled", "cancelled", "canceled"})
_TIME = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
_COUNTRY_ZONE_SHARE = 0.8
_TEXT_MAX = 500
_PLACE_MAX = 300


@dataclass(frozen=True)
class BookingSegment:
    """One leg or stay: the Booking for the record and the CalendarEvent for detection."""

    booking: Booking
    event: CalendarEvent

    def as_json(self) -> dict[str, Any]:
        """The normalised segment as the API returns it."""
        return {**self.booking.model_dump(mode="json"), "title": self.event.title}


@dataclass
class BookingsResult:
    """What one document gave: segments (cancelled ones included), problems, and reservations seen."""

    segments: list[BookingSegment] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    reservations: int = 0
    """How many schema.org reservations the input held (0 means "no structured data")."""
    extra_cancelled: list[str] = field(default_factory=list)
    """Uids cancelled by reservations too incomplete to rebuild their segment."""

    @property
    def events(self) -> list[CalendarEvent]:
        return [segment.event for segment in self.segments]

    @property
    def bookings(self) -> list[Booking]:
        return [segment.booking for segment in self.segments]

    @property
    def accepted(self) -> list[BookingSegment]:
        return [segment for segment in self.segments if not segment.booking.cancelled]

    @property
    def cancelled_uids(self) -> list[str]:
        uids = [s.event.uid for s in self.segments if s.booking.cancelled] + self.extra_cancelled
        return list(dict.fromkeys(uids))

    def merge(self, other: BookingsResult) -> None:
        """Add ``other``'s findings; a later segment with the same uid replaces an earlier one."""
        by_uid = {segment.event.uid: segment for segment in self.segments}
        by_uid.update({segment.event.uid: segment for segment in other.segments})
        self.segments = list(by_uid.values())
        self.problems.extend(other.problems)
        self.reservations += other.reservations
        self.extra_cancelled.extend(other.extra_cancelled)


class _SkipError(ValueError):
    """A reservation cannot become a segment; the message says why."""


@dataclass(frozen=True)
class _When:
    """A time as written: local wall time, its offset if it had one, a zone if the source named one."""

    local: datetime
    offset: tzinfo | None
    zone: str | None
    date_only: bool


@dataclass(frozen=True)
class _Place:
    name: str
    code: str | None
    country: str | None
    zone: str | None
    address: str | None
    coordinates: tuple[float, float] | None


@dataclass(frozen=True)
class _Draft:
    kind: BookingKind
    key: tuple[str, ...]
    start: datetime
    end: datetime
    departure_country: str | None
    arrival: _Place
    title: str
    location: str
    event_start: datetime
    event_end: datetime
    all_day: bool
    destination_country: str | None = None
    """Where the booking ends when that is not where the event is placed (a car returned elsewhere)."""


# ---------------------------------------------------------------- entry points


def read_booking_file(path: Path, employee_id: str, calendar_id: str | None = None) -> BookingsResult:
    """Read a .json/.jsonld (JSON-LD), .eml (e-mail), .html or .txt file; OSError propagates.

    A plain-text confirmation (.txt) carries no structured data: it gives no segment and says so.
    """
    from chalicelib.connectors.booking_email import read_email, read_html

    data = path.read_bytes()
    name = calendar_id or path.name
    suffix = path.suffix.lower()
    result: BookingsResult
    if suffix == ".eml":
        result = read_email(data, employee_id=employee_id, calendar_id=name)
    elif suffix in (".html", ".htm", ".txt"):
        text = data.decode("utf-8", errors="replace")
        what = "plain-text confirmation" if suffix == ".txt" else "HTML"
        result = read_html(text, employee_id=employee_id, calendar_id=name, what=what)
    else:
        result = read_jsonld(data, employee_id=employee_id, calendar_id=name)
    return result


def read_jsonld(
    data: bytes | str, *, employee_id: str, calendar_id: str = DEFAULT_CALENDAR_ID
) -> BookingsResult:
    """Parse JSON-LD text; invalid JSON is a problem, never an exception."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    try:
        document = json.loads(text)
    except ValueError as exc:
        return BookingsResult(problems=[_problem(calendar_id, None, f"not valid JSON: {exc}")])
    return read_reservations(document, employee_id=employee_id, calendar_id=calendar_id)


def looks_like_jsonld(document: object) -> bool:
    """True for parsed JSON that is schema.org data (has ``@type``/``@graph`` at the top)."""
    items = document if isinstance(document, list) else [document]
    return any(isinstance(i, dict) and ("@type" in i or "@graph" in i) for i in items)


def read_reservations(
    document: object, *, employee_id: str, calendar_id: str = DEFAULT_CALENDAR_ID
) -> BookingsResult:
    """Every reservation in a parsed JSON-LD document (object, list or ``@graph``) as segments."""
    result = BookingsResult()
    others: list[str] = []
    for index, item in enumerate(_items(document), start=1):
        type_name = _type_name(item)
        if type_name not in _KINDS:
            if type_name.endswith("Reservation"):
                where = f"item {index} ({type_name})"
                result.reservations += 1
                result.problems.append(_problem(calendar_id, where, f"{type_name} is not supported"))
            else:
                others.append(type_name or "untyped object")
            continue
        result.reservations += 1
        _read_one(
            item, index, type_name=type_name, employee_id=employee_id, calendar_id=calendar_id, out=result
        )
    if not result.reservations:
        found = f" (found: {', '.join(sorted(set(others)))})" if others else ""
        result.problems.append(
            _problem(calendar_id, None, f"no structured data: no schema.org reservation in the input{found}")
        )
    return result


def _read_one(
    item: dict[str, Any],
    index: int,
    *,
    type_name: str,
    employee_id: str,
    calendar_id: str,
    out: BookingsResult,
) -> None:
    number = _text(item.get("reservationNumber")) or ""
    where = f"item {index} ({type_name}{' ' + number if number else ''})"
    kind = _KINDS[type_name]
    cancelled = _is_cancelled(item)
    subjects = _list(item.get("reservationFor")) or [{}]
    for leg, subject in enumerate(subjects, start=1):
        here = where if len(subjects) == 1 else f"{where} leg {leg}"
        thing = subject if isinstance(subject, dict) else {"name": _text(subject)}
        key = _KEYS[kind](item, thing)
        try:
            draft = _BUILDERS[kind](item, thing, key)
            segment = _segment(draft, number, employee_id, calendar_id, cancelled)
        except (_SkipError, ValidationError) as exc:
            if cancelled and any(key):
                out.extra_cancelled.append(_uid(kind, number, key))
                continue
            out.problems.append(_problem(calendar_id, here, _reason(exc)))
            continue
        out.merge(BookingsResult(segments=[segment]))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False))
    return str(exc)


def _problem(calendar_id: str, where: str | None, message: str) -> SourceProblem:
    return SourceProblem(source=SourceKind.BOOKING, calendar_id=calendar_id, uid=where, message=message)


# ---------------------------------------------------------------- JSON-LD shapes


def _items(document: object) -> Iterator[dict[str, Any]]:
    """Top-level nodes: lists and ``@graph`` flattened, reservation packages opened."""
    if isinstance(document, list):
        for element in document:
            yield from _items(element)
    elif isinstance(document, dict):
        if "@graph" in document:
            yield from _items(document["@graph"])
        elif _type_name(document) == _PACKAGE:
            yield from _items(document.get("subReservation"))
        else:
            yield document


def _type_name(item: dict[str, Any]) -> str:
    value = _first(item.get("@type"))
    if not isinstance(value, str):
        return ""
    return re.split(r"[/:#]", value.strip())[-1]


def _first(value: object) -> object:
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "", [], {})), None)
    return value


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _obj(value: object) -> dict[str, Any]:
    """A node as a dict; a bare string is taken as its name (``"arrivalAirport": "FRA"``)."""
    value = _first(value)
    if isinstance(value, dict):
        return value
    text = _text(value)
    return {"name": text} if text else {}


def _text(value: object) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value") or value.get("@id"))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return None


def _is_cancelled(item: dict[str, Any]) -> bool:
    status = _text(item.get("reservationStatus")) or ""
    return re.split(r"[/:#]", status)[-1].casefold() in _CANCELLED


# ---------------------------------------------------------------- segments


def _segment(
    draft: _Draft, number: str, employee_id: str, calendar_id: str, cancelled: bool
) -> BookingSegment:
    uid = _uid(draft.kind, number, draft.key)
    place = draft.arrival
    changed = hashlib.sha256(
        "|".join(
            map(
                str,
                (draft.start.isoformat(), draft.end.isoformat(), place.country, draft.location, cancelled),
            )
        ).encode()
    ).hexdigest()[:16]
    event = CalendarEvent(
        source=SourceKind.BOOKING,
        calendar_id=calendar_id[:256],
        uid=uid,
        title=draft.title[:_TEXT_MAX],
        location=draft.location[:_TEXT_MAX] or None,
        country_hint=place.country,
        start=draft.event_start,
        end=draft.event_end,
        all_day=draft.all_day,
        cancelled=cancelled,
        address=place.address[:_TEXT_MAX] if place.address else None,
        coordinates=place.coordinates,
        categories=("booking", draft.kind.value),
        changed=changed,
        origin_country=draft.departure_country if draft.kind in _JOURNEYS else None,
    )
    booking = Booking(
        id=uid,
        employee_id=employee_id,
        kind=draft.kind,
        start=draft.start,
        end=draft.end,
        departure_country=draft.departure_country,
        arrival_country=draft.destination_country or place.country or "",
        place=place.name[:_PLACE_MAX] or None,
        cancelled=cancelled,
    )
    return BookingSegment(booking=booking, event=event)


def _uid(kind: BookingKind, number: str, key: tuple[str, ...]) -> str:
    identity = "|".join((kind.value, number, *key)).casefold()
    return "booking-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def _day_key(value: object, fallback: object = None) -> str:
    when = _when(value) or _when(fallback)
    return when.local.date().isoformat() if when else ""


def _leg_key(item: dict[str, Any], trip: dict[str, Any], number_field: str, origin: str) -> tuple[str, ...]:
    carrier = _obj(trip.get("airline") or trip.get("provider"))
    carrier_id = _text(carrier.get("iataCode")) or _text(carrier.get("name")) or ""
    start = _place_key(trip.get(origin))
    day = _day_key(trip.get("departureTime"), trip.get("departureDay"))
    number = re.sub(r"\s+", "", _text(trip.get(number_field)) or "").upper()
    if number_field != "flightNumber":
        carrier_id = ""
    elif carrier_id and not number.startswith(carrier_id.upper()):
        number = carrier_id.upper() + number  # "423" and "LH423" are the same flight
    return (carrier_id, number, start, day)


def _place_key(value: object) -> str:
    node = _obj(value)
    return _text(node.get("iataCode")) or _text(node.get("name")) or ""


_KEYS: dict[BookingKind, Callable[[dict[str, Any], dict[str, Any]], tuple[str, ...]]] = {
    BookingKind.FLIGHT: lambda r, f: _leg_key(r, f, "flightNumber", "departureAirport"),
    BookingKind.TRAIN: lambda r, t: _leg_key(r, t, "trainNumber", "departureStation"),
    BookingKind.BUS: lambda r, b: (
        *_leg_key(r, b, "busNumber", "departureBusStop" if "departureBusStop" in b else "departureStation"),
    ),
    BookingKind.LODGING: lambda r, h: (
        _text(h.get("name")) or "",
        "" if _text(r.get("reservationNumber")) else _day_key(r.get("checkinTime"), r.get("checkinDate")),
    ),
    BookingKind.RENTAL_CAR: lambda r, _c: (
        _place_key(r.get("pickupLocation")),
        "" if _text(r.get("reservationNumber")) else _day_key(r.get("pickupTime")),
    ),
    BookingKind.EVENT: lambda r, e: (
        _text(e.get("name")) or "",
        "" if _text(r.get("reservationNumber")) else _day_key(e.get("startDate")),
    ),
}


def _travel(
    kind: BookingKind, trip: dict[str, Any], key: tuple[str, ...], fields: tuple[str, str, str], label: str
) -> _Draft:
    """A flight, train or bus leg: the shared shape of "from A at t1 to B at t2"."""
    number_field, origin_field, destination_field = fields
    origin = _place(trip.get(origin_field), airport=kind == BookingKind.FLIGHT)
    destination = _place(trip.get(destination_field), airport=kind == BookingKind.FLIGHT)
    what = "arrival airport" if kind == BookingKind.FLIGHT else "arrival station"
    if destination is None:
        raise _SkipError(f"no {what}: cannot tell where the traveler goes")
    if destination.country is None:
        raise _SkipError(f"cannot tell the country of the {what} '{destination.name}'")
    departure = _when(trip.get("departureTime")) or _when(trip.get("departureDay"))
    if departure is None:
        raise _SkipError("no departure time or day: cannot tell when the traveler goes")
    start = _localise(departure, origin.zone if origin else None)
    arrival = _when(trip.get("arrivalTime"))
    end = _localise(arrival, destination.zone) if arrival else start
    start, end = _same_awareness(start, end)
    if end < start:
        raise _SkipError(f"arrives ({end.isoformat()}) before it departs ({start.isoformat()})")
    number = _text(trip.get(number_field)) or ""
    if kind == BookingKind.FLIGHT:
        airline = _obj(trip.get("airline"))
        carrier = _text(airline.get("iataCode")) or ""
        name = _text(airline.get("name")) or ""
        carrier = carrier or (name if re.fullmatch(r"[A-Z0-9]{2}", name) else "")
        number = number if not carrier or number.upper().startswith(carrier.upper()) else carrier + number
    else:
        number = f"{label} {number}".strip()
    title = f"{number} {_short(origin)} → {_short(destination)}".strip()
    location = f"{destination.name} ({destination.code})" if destination.code else destination.name
    if departure.date_only:
        event_start, event_end, all_day = _all_day(start.date(), start.date())
    else:
        event_start, event_end, all_day = start, _end_of_day_clip(start, end), False
    return _Draft(
        kind=kind,
        key=key,
        start=start,
        end=end,
        departure_country=origin.country if origin else None,
        arrival=destination,
        title=title,
        location=location,
        event_start=event_start,
        event_end=event_end,
        all_day=all_day,
    )


def _short(place: _Place | None) -> str:
    if place is None:
        return "?"
    return place.code or place.name


def _flight(item: dict[str, Any], flight: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    fields = ("flightNumber", "departureAirport", "arrivalAirport")
    return _travel(BookingKind.FLIGHT, flight, key, fields, "Flight")


def _train(item: dict[str, Any], trip: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    return _travel(
        BookingKind.TRAIN, trip, key, ("trainNumber", "departureStation", "arrivalStation"), "Train"
    )


def _bus(item: dict[str, Any], trip: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    stops = (
        ("departureBusStop", "arrivalBusStop")
        if "arrivalBusStop" in trip
        else (
            "departureStation",
            "arrivalStation",
        )
    )
    return _travel(BookingKind.BUS, trip, key, ("busNumber", *stops), "Bus")


def _stay(
    kind: BookingKind,
    key: tuple[str, ...],
    *,
    where: _Place | None,
    first: _When | None,
    last: _When | None,
    title: str,
    what: str,
) -> _Draft:
    """A hotel stay, a car hire or an event ticket: presence at one place over a span of days."""
    if where is None:
        raise _SkipError(f"no {what}: cannot tell where the traveler stays")
    if where.country is None:
        raise _SkipError(f"cannot tell the country of the {what} '{where.name}'")
    if first is None:
        raise _SkipError(f"no start date for the {what}")
    start = _localise(first, where.zone)
    end = _localise(last, where.zone) if last else start
    start, end = _same_awareness(start, end)
    if end < start:
        raise _SkipError(f"ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    location = (
        f"{where.name}, {where.address}" if where.address and where.address != where.name else where.name
    )
    if kind == BookingKind.RENTAL_CAR and not (first.date_only or (last and last.date_only)):
        event_start, event_end, all_day = start, end, False
    else:
        event_start, event_end, all_day = _all_day(start.date(), end.date())
    return _Draft(
        kind=kind,
        key=key,
        start=start,
        end=end,
        departure_country=None,
        arrival=where,
        title=title,
        location=location or where.name,
        event_start=event_start,
        event_end=event_end,
        all_day=all_day,
    )


def _lodging(item: dict[str, Any], hotel: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    where = _place(hotel, airport=False)
    first = _when(item.get("checkinTime")) or _when(item.get("checkinDate"))
    last = _when(item.get("checkoutTime")) or _when(item.get("checkoutDate"))
    title = f"Hotel: {where.name}" if where and where.name else "Hotel"
    return _stay(BookingKind.LODGING, key, where=where, first=first, last=last, title=title, what="hotel")


def _rental_car(item: dict[str, Any], car: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    pickup = _place(item.get("pickupLocation"), airport=False)
    dropoff = _place(item.get("dropoffLocation"), airport=False)
    company = _text(_obj(car.get("rentalCompany")).get("name")) or ""
    place = pickup.name if pickup else ""
    title = f"Rental car: {place}" if company in place else f"Rental car: {company} {place}"
    draft = _stay(
        BookingKind.RENTAL_CAR,
        key,
        where=pickup,
        first=_when(item.get("pickupTime")),
        last=_when(item.get("dropoffTime")),
        title=title,
        what="pick-up location",
    )
    # the car may be returned in another country: the booking records both ends
    destination = dropoff.country if dropoff and dropoff.country else draft.arrival.country
    return replace(draft, departure_country=draft.arrival.country, destination_country=destination)


def _event(item: dict[str, Any], event: dict[str, Any], key: tuple[str, ...]) -> _Draft:
    venue = _place(event.get("location"), airport=False)
    name = _text(event.get("name")) or "Event"
    first, last = _when(event.get("startDate")), _when(event.get("endDate"))
    return _stay(BookingKind.EVENT, key, where=venue, first=first, last=last, title=name, what="venue")


_BUILDERS: dict[BookingKind, Callable[[dict[str, Any], dict[str, Any], tuple[str, ...]], _Draft]] = {
    BookingKind.FLIGHT: _flight,
    BookingKind.TRAIN: _train,
    BookingKind.BUS: _bus,
    BookingKind.LODGING: _lodging,
    BookingKind.RENTAL_CAR: _rental_car,
    BookingKind.EVENT: _event,
}


# ---------------------------------------------------------------- places


def _place(value: object, *, airport: bool) -> _Place | None:
    node = _obj(value)
    if not node:
        return None
    code = (_text(node.get("iataCode")) or "").upper() or None
    name = _text(node.get("name")) or ""
    if airport and code is None and re.fullmatch(r"[A-Z]{3}", name) and name in _airports():
        code = name  # "arrivalAirport": "FRA"
    row = _airports().get(code) if airport and code else None
    address_node = node.get("address")
    address = _address_line(address_node)
    geo = _coordinates(node.get("geo"))
    country = None
    zone = None
    if row is not None:
        country = _iso(str(row["country"]))
        zone = str(row["tz"])
        name = str(row["name"]) if name in ("", code) else name
        geo = geo or (float(row["lat"]), float(row["lon"]))
    country = country or _address_country(address_node) or _text_country(name, address)
    if not name and not address and country is None:
        return None
    return _Place(
        name=name or address or "",
        code=code,
        country=country,
        zone=zone or (_country_zone(country) if country else None),
        address=address,
        coordinates=geo,
    )


def _address_line(value: object) -> str | None:
    value = _first(value)
    if isinstance(value, str):
        return _text(value)
    if not isinstance(value, dict):
        return None
    locality = " ".join(p for p in (_text(value.get("postalCode")), _text(value.get("addressLocality"))) if p)
    parts = [
        _text(value.get("streetAddress")),
        locality,
        _text(value.get("addressRegion")),
        _text(value.get("addressCountry")),
    ]
    return ", ".join(dict.fromkeys(p for p in parts if p)) or None


def _address_country(value: object) -> str | None:
    node = _first(value)
    if not isinstance(node, dict):
        return None
    country = _text(node.get("addressCountry"))
    if country:
        code = _iso(country)
        if code:
            return code
    city = ", ".join(p for p in (_text(node.get("addressLocality")), _text(node.get("addressRegion"))) if p)
    match = resolve_place(city) if city else None
    return match.country if match else None


def _text_country(name: str, address: str | None) -> str | None:
    for text in (address, name):
        match = resolve_place(text) if text else None
        if match is not None:
            return match.country
    return None


def _iso(value: str) -> str | None:
    """An ISO code from "DE", "UK", "DEU", "Germany", "Deutschland"; None when unknown."""
    try:
        return normalize_country(value)
    except ValueError:
        pass
    try:
        return str(pycountry.countries.lookup(value.strip()).alpha_2)
    except LookupError:
        pass
    match = resolve_place(value)
    return match.country if match and match.rule.startswith("country") else None


def _coordinates(value: object) -> tuple[float, float] | None:
    node = _first(value)
    if not isinstance(node, dict):
        return None
    try:
        latitude, longitude = float(node["latitude"]), float(node["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return latitude, longitude
    return None


@lru_cache(maxsize=1)
def _airports() -> dict[str, dict[str, Any]]:
    data: dict[str, Any] = airportsdata.load("IATA")
    return {code: dict(row) for code, row in data.items()}


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, str]:
    """Country -> the time zone of at least 80% of its airports (one-zone countries only)."""
    zones: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _airports().values():
        zones[str(row["country"])][str(row["tz"])] += 1
    single = {}
    for country, counts in zones.items():
        zone, count = counts.most_common(1)[0]
        if count / sum(counts.values()) >= _COUNTRY_ZONE_SHARE:
            single[country] = zone
    return single


def _country_zone(country: str) -> str | None:
    return _country_zones().get(country)


# ---------------------------------------------------------------- times


def _when(value: object) -> _When | None:
    """A schema.org date/time: ISO text with or without offset, a date, or KDE's {"@value", "timezone"}."""
    value = _first(value)
    zone = None
    if isinstance(value, dict):
        zone = _text(value.get("timezone"))
        value = value.get("@value")
    if not isinstance(value, str):
        return None
    found = _TIME.match(value)
    if found is None:
        return None
    year, month, day, hour, minute, second, offset = found.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if local.year < 1900:
        return None  # KDE writes "0001-01-01" for unknown days
    return _When(local=local, offset=_offset(offset), zone=zone, date_only=hour is None)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if ":" in text[1:]:
        hours, minutes = text[1:].split(":")
    elif len(digits) > 2:
        hours, minutes = digits[:-2], digits[-2:]
    else:
        hours, minutes = digits, "0"
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24):
        return None
    return timezone(sign * delta)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _localise(when: _When, place_zone: str | None) -> datetime:
    """An aware time in the place's zone where one is known; the written offset always wins."""
    zone = _zone(when.zone) or _zone(place_zone)
    if when.date_only:
        return when.local.replace(tzinfo=zone)  # local midnight; floating where the zone is unknown
    if when.offset is not None:
        aware = when.local.replace(tzinfo=when.offset)
        return aware.astimezone(zone) if zone else aware
    return when.local.replace(tzinfo=zone) if zone else when.local


def _same_awareness(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Both aware or both floating (local wall time), so they can be compared."""
    if (start.tzinfo is None) == (end.tzinfo is None):
        return start, end
    return start.replace(tzinfo=None), end.replace(tzinfo=None)


def _end_of_day_clip(start: datetime, end: datetime) -> datetime:
    """The arrival, or midnight after the departure day if the traveler lands on a later day."""
    local_end = end.astimezone(start.tzinfo) if start.tzinfo and end.tzinfo else end
    midnight = datetime.combine(start.date() + timedelta(days=1), time(), start.tzinfo)
    return min(local_end, midnight)


def _all_day(first: date, last: date) -> tuple[datetime, datetime, bool]:
    """Naive midnights with an exclusive end, the convention for all-day CalendarEvents."""
    return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time()), True
