"""Read one calendar entry: is it a journey from one country to another, a stay at a place, or nothing?

Why: the presence timeline needs two different things from events. A flight, train or bus moves the
traveler (leaves country A on the local departure day, arrives in B on the local arrival day); every
other placed entry says "there on these days". Telling them apart, and finding the countries, is
text work that depends only on an entry's text fields, so it is cached on those fields: a weekly
"Daily stand-up / Microsoft Teams Meeting" is read once, however many occurrences and employees.

Journeys (``Leg``), strongest signal first:
1. a booking segment: categories ("booking", "flight" | "train" | "bus"); ``country_hint`` is the
   arrival country and ``origin_country`` the departure country (older stored segments without it
   get the origin from the IATA route in their title);
2. an IATA route in the title, "LH 422 FRA → BOS", "FRA-BOS", "FRA to BOS": first code is the
   origin, last the destination (intermediate codes are connections inside one entry);
3. a written-out journey, "Flight to Boston", "Zug nach Zürich", "Vol pour Nice", "Train TGV 9203
   Paris → Zürich": a travel word then "to/nach/vers/pour/a/per/naar/do" and a place, or two places
   around an arrow; the origin is known only in the arrow form.

Stays (``Stay``): the connector's ``country_hint``, else the location (ignored when it says "Teams",
"Home office", "Room 4.12", a URL ...), else the title at 0.8 of the place confidence when the title
says the event is there ("Workshop in Vienna", "Client meeting – London"), not when it names a place
as a topic ("Turkey dinner", "Expense report: Milan trip", "Netflix: Emily in Paris"). A stay is
"physical" when a location or hint placed it. Lodging, rental cars and hotel wording are TRAVEL
(where, not why); EventReservation tickets are read by their title like a calendar entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import airportsdata

from chalicelib.countries import is_country_code
from chalicelib.detection import purpose
from chalicelib.detection.places import is_non_place, resolve_place
from chalicelib.models import CalendarEvent, EventKind, SourceKind

HINT_CONFIDENCE = 0.95
BOOKING_CONFIDENCE = 0.95
TITLE_ONLY_FACTOR = 0.8
_TRAVEL_KINDS = frozenset({"flight", "train", "bus"})

_CODE = r"[A-Z]{3}"
_SEP = r"(?:\s*(?:\u2192|\u27f6|\u279d|\u2708|->|=>|\u2013|\u2014|-|>)\s*|\s+(?:to|nach|à)\s+)"
_IATA_ROUTE = re.compile(rf"(?<![A-Za-z0-9]){_CODE}(?:{_SEP}{_CODE})+(?![A-Za-z0-9])")
_CODES = re.compile(_CODE)
# Three-letter words that are airport codes too; never read as a route end.
_NOT_AIRPORT_WORDS = (
    "THE AND ALL FOR YOU NEW OUT OFF END ONE TWO CEO CFO CTO COO CIO CMO VIP API KPI OKR QBR ROI SLA FYI "
    "ETA PTO OOO IPO ERP CRM SAP AWS GCP SSO MVP POC UAT DEV OPS TBD EOD BOD AGM EUR USD GBP CHF JPY PDF "
    "NDA RFP RFQ SOW CET CST EST PST UTC GMT BST WFH"
)
_NOT_AIRPORTS = frozenset(_NOT_AIRPORT_WORDS.split())
_ARROW = re.compile(
    r"^(?P<left>.+)\s*(?:\u2192|\u27f6|\u279d|\u2708|->|=>)\s*(?P<right>[^\u2192\u27f6\u279d\u2708>]+)$"
)
_ARROW_SPLIT = re.compile(r"\u2192|\u27f6|\u279d|\u2708|->|=>")
_MODES = {
    "flight": "flight", "flug": "flight", "vol": "flight", "vuelo": "flight", "volo": "flight",
    "vlucht": "flight", "lot": "flight", "train": "train", "zug": "train", "bahn": "train",
    "tgv": "train", "ice": "train", "eurostar": "train", "thalys": "train", "trein": "train",
    "treno": "train", "tren": "train", "pociąg": "train", "bus": "bus", "fernbus": "bus",
}  # fmt: skip
_TRAVEL_WORD = re.compile(r"(?i)(?<![\w])(?P<mode>" + "|".join(_MODES) + r")(?![\w])")
_LOCATIVE = re.compile(
    r"(?i)(?<![\w])(?:in|at|@|im|bei|à|au|aux|en|a|em|w|we|na|nel|nella|te|op|near|dans|vor ort)$"
)
_TOPIC = re.compile(
    r"(?i)^\W*(?:netflix|prime video|disney\+?|hbo|tv|film|movie|watch|podcast|webinar|read|reading"
    r"|reminder|deadline|expense|expenses|book|todo|to-do|call|prep|prepare)(?![\w])"
)
_TRIP = re.compile(
    r"(?i)(?:trip|reise|dienstreise|voyage|viaje|viaggio|reis|wyjazd|visit|offsite|off-site|holiday"
    r"|vacation|urlaub|vacances|vacaciones)\W*$"
)
_DESTINATION = re.compile(
    r"(?i)(?<![\w])(?:to|nach|vers|pour|à|a|para|per|naar|do|til|till)\s+(?P<place>\S.*)$"
)


@dataclass(frozen=True, slots=True)
class Leg:
    """A journey: from ``origin`` (None when unknown) to ``destination``."""

    destination: str
    place: str
    rule: str
    confidence: float
    origin: str | None
    origin_place: str | None
    origin_rule: str | None
    arrival_zone: str | None
    """The destination airport's zone, to read the arrival's local day; None when unknown."""
    flags: int


@dataclass(frozen=True, slots=True)
class Stay:
    """Presence at one place on the days the entry spans."""

    country: str
    place: str
    rule: str
    confidence: float
    flags: int
    physical: bool
    """Placed by a location or the connector's hint, not by the title alone."""


Reading = Leg | Stay


def read_event(event: CalendarEvent) -> Reading | None:
    """What ``event`` says about where the traveler is; None for cancelled and placeless entries."""
    if event.cancelled:
        return None
    return _read(
        (
            event.source,
            event.title,
            event.location,
            event.country_hint,
            event.origin_country,
            event.categories,
            event.kind,
        )
    )


_Fields = tuple[SourceKind, str, str | None, str | None, str | None, tuple[str, ...], EventKind]


@lru_cache(maxsize=65536)
def _read(fields: _Fields) -> Reading | None:
    """The reading of one set of text fields (source, title, location, hint, origin, categories, kind)."""
    source, title, location, hint, origin, categories, kind = fields
    words = purpose.wording(title)
    booking_kind = categories[1] if source is SourceKind.BOOKING and len(categories) > 1 else None
    if booking_kind in _TRAVEL_KINDS and hint:
        return _booked_leg(title, hint, origin, booking_kind or "", words)
    leg = _iata_leg(title, words) or _written_leg(title, words)
    if leg is not None:
        return leg
    if source is SourceKind.BOOKING and booking_kind not in (None, "event"):
        words = purpose.TRAVEL  # a hotel or a rental car says where, not why
    return _stay(title, location, hint, kind, words)


def _booked_leg(title: str, hint: str, origin: str | None, mode: str, words: int) -> Leg:
    route = _iata_codes(title)
    origin_place = route[0] if route else None
    if origin is None and route:
        origin = _airport(route[0])[0]
    zone = _airport(route[-1])[1] if route else None
    return Leg(
        destination=hint,
        place=route[-1] if route else hint,
        rule=f"booking.{mode}",
        confidence=BOOKING_CONFIDENCE,
        origin=origin,
        origin_place=origin_place or origin,
        origin_rule=f"booking.{mode}" if origin else None,
        arrival_zone=zone,
        flags=words & ~purpose.TRAVEL,
    )


def _iata_codes(title: str) -> list[str]:
    """The codes of the last IATA route in ``title`` whose ends are airports, or []."""
    for found in reversed(list(_IATA_ROUTE.finditer(title))):
        codes = _CODES.findall(found.group(0))
        if all(code not in _NOT_AIRPORTS and _airport(code)[0] for code in codes):
            return codes
    return []


def _iata_leg(title: str, words: int) -> Leg | None:
    codes = _iata_codes(title)
    if not codes:
        return None
    destination, zone = _airport(codes[-1])
    origin = _airport(codes[0])[0]
    if destination is None:
        return None
    return Leg(
        destination=destination,
        place=codes[-1],
        rule="iata.route_destination",
        confidence=0.9,
        origin=origin,
        origin_place=codes[0],
        origin_rule="iata.route_origin",
        arrival_zone=zone,
        flags=words & ~purpose.TRAVEL,
    )


def _written_leg(title: str, words: int) -> Leg | None:
    """A written-out journey: "Flight to Boston", "Zug nach Zürich", "Train 9203 Paris → Zürich"."""
    arrow = _ARROW.match(title)
    if arrow is not None:
        destination = resolve_place(arrow.group("right"))
        if destination is not None:
            first = _ARROW_SPLIT.split(arrow.group("left"))[0]
            origin = resolve_place(first)
            if origin is not None:
                return Leg(
                    destination=destination.country,
                    place=destination.matched,
                    rule=f"route.{destination.rule}",
                    confidence=destination.confidence,
                    origin=origin.country,
                    origin_place=origin.matched,
                    origin_rule=f"route_origin.{origin.rule}",
                    arrival_zone=None,
                    flags=words & ~purpose.TRAVEL,
                )
    mode = _TRAVEL_WORD.search(title)
    if mode is None:
        return None
    target = _DESTINATION.search(title, mode.end())
    if target is None:
        return None
    place = resolve_place(target.group("place"))
    if place is None:
        return None
    return Leg(
        destination=place.country,
        place=place.matched,
        rule=f"{_MODES[mode.group('mode').casefold()]}_to.{place.rule}",
        confidence=place.confidence,
        origin=None,
        origin_place=None,
        origin_rule=None,
        arrival_zone=None,
        flags=words & ~purpose.TRAVEL,
    )


def _stay(title: str, location: str | None, hint: str | None, kind: EventKind, words: int) -> Stay | None:
    physical = True
    if hint:
        country, place, rule, confidence = hint, location or hint, "event.country_hint", HINT_CONFIDENCE
    else:
        match = resolve_place(location) if location else None
        if match is None and location and is_non_place(location):
            return None
        if match is None:
            physical = False
            match = resolve_place(title)
            if match is None or not _says_where(title, match.matched):
                return None
        country, place, rule = match.country, match.matched, match.rule
        confidence = match.confidence if physical else round(match.confidence * TITLE_ONLY_FACTOR, 4)
    flags = words
    if kind is EventKind.OUT_OF_OFFICE and not flags & (purpose.WORK | purpose.TRAVEL):
        flags |= purpose.ABSENCE
    elif kind is EventKind.WORKING_LOCATION:
        flags |= purpose.WORK
    if physical and not flags:
        flags = purpose.ORDINARY
    return Stay(
        country=country, place=place, rule=rule, confidence=confidence, flags=flags, physical=physical
    )


def _says_where(title: str, place: str) -> bool:
    """Does the title put the event at ``place`` ("Workshop in Vienna", "Client meeting – London")?

    A place named in passing ("Turkey dinner", "Expense report: Milan trip", "Read: Vienna memo",
    "Netflix: Emily in Paris") is a topic, not a location: only a place after a locative word, or
    closing the title (possibly followed by "trip", "Reise", "offsite" ...), is taken, and never in
    a title that starts like a to-do, a reading or a screening.
    """
    if _TOPIC.match(title):
        return False
    at = title.rfind(place)
    if at < 0:
        return True  # the match was normalised (case, accents): trust places.py
    tail = title[at + len(place) :].strip()
    closes = not tail.strip(" .,;!)") or tail[0] in "(,-\u2013\u2014|/;" or _TRIP.match(tail) is not None
    head = title[:at].rstrip()
    if not head:
        return not tail.strip(" .,;!)")  # the whole title is the place
    return _LOCATIVE.search(head) is not None or closes


def _airport(code: str) -> tuple[str | None, str | None]:
    """(ISO country, IANA zone) of an IATA airport code; (None, None) when unknown."""
    return _airports().get(code, (None, None))


@lru_cache(maxsize=1)
def _airports() -> dict[str, tuple[str | None, str | None]]:
    """IATA code -> (ISO country, IANA zone), loaded on the first route seen (about 8,000 airports)."""
    table: dict[str, tuple[str | None, str | None]] = {}
    for code, row in airportsdata.load("IATA").items():
        country, tz = str(row["country"]), str(row["tz"])
        table[code] = (country if is_country_code(country) else None, tz or None)
    return table


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo | None:
    """The ZoneInfo called ``name``, or None when the system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
