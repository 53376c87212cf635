"""Turn the free text of a calendar location or title into a country, offline, with the evidence.

Why: calendars say "Client HQ, 12 Rue de la Paix, Paris", "LH 422 FRA → BOS", "Marriott Warsaw" or
"Plac Defilad 1, 00-901 Warszawa", never "FR" or "PL". Detection needs the country, how sure we are
and which rule said so (it goes into a trip's evidence, so HR can see why a trip was found). Evidence
is tried strongest first:

1. Non-places are cut out first: URLs, dial-in numbers, rooms ("Room Paris"), Teams/Zoom/Meet, home.
2. IATA codes in airport context (airports.py): "(FRA)", a route's destination, "Flughafen MUC".
3. A country named in the text, in eight languages or a common form ("Niemcy", "U.K.", "Holland");
   the right-most wins, since addresses run from street to city to country (placenames.py).
4. A city (gazetteer.py: GeoNames cities >= 50,000 and capitals) that agrees with a region or code
   in the same text: "Paris, TX", "London, ON", "Berlin, BE" (the Land), "Tbilisi, Georgia".
5. A region or code after a comma alone: "Springfield, MO" when the town is too small to be listed.
6. Any other city, right-most first; a postcode next to it narrows same-named cities ("CB2 1TN
   Cambridge"), else the largest wins (European cities counted five-fold). Names that are also words
   (Nice, Reading, Essen) need a postcode, a travel preposition or to stand alone.
A city found in an airport or hotel string says so in its rule ("airport.city", "hotel.city").

Results are cached per whitespace-normalised string; data loads once per process on first use.
City data: GeoNames (https://www.geonames.org/), CC BY 4.0 — see data/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from chalicelib.detection.addresses import address_line, postcodes_around
from chalicelib.detection.airports import AIRPORT_WORD, airport_code, airport_name
from chalicelib.detection.gazetteer import City, gazetteer, nearest_country
from chalicelib.detection.nonplaces import is_non_place, strip_non_places
from chalicelib.detection.placenames import (
    CODE,
    COUNTRY,
    REGION,
    Reading,
    country_from_text,
    names,
)
from chalicelib.detection.textnorm import TOKEN, fold_word

__all__ = [
    "CONFIDENCE",
    "PlaceMatch",
    "country_at",
    "is_non_place",
    "resolve_address",
    "resolve_place",
    "resolve_working_location",
]

CONFIDENCE = {
    "address.country": 0.95,
    "iata.parenthesized": 0.9,
    "iata.airport_word": 0.9,
    "iata.route_destination": 0.9,
    "country.name": 0.9,
    "country.alias": 0.85,
    "destination": 0.8,
    "airport.name": 0.85,
    "airport.city": 0.85,
    "city.country_code": 0.8,
    "city.country": 0.8,
    "city.region": 0.8,
    "city.us_state": 0.8,
    "city.postcode": 0.75,
    "us_state": 0.7,
    "region": 0.7,
    "country.code": 0.7,
    "hotel.city": 0.7,
    "coordinates": 0.7,
    "city": 0.65,
}
# ", TX", ", CA 94043", ", ON N6A 3K7", "(DE)"; not "(BA 178)", a flight number.
_ADDRESS_CODE = re.compile(r",\s*([A-Z]{2,3})(?=\s*(?:$|[,;)/|\n]|\d|[A-Z]\d))|\(\s*([A-Z]{2,3})\s*\)")
# "1 Canada Square", "Spain Street", "Bank of China": a country name inside a street or company name.
_STREET_AFTER = re.compile(
    r"\s+(?i:square|street|st|road|rd|avenue|ave|place|platz|stra(?:ss|ß)e|allee|ring|gate|house|haus"
    r"|tower|centre|center|building|wharf|way|lane|drive|plaza|boulevard|blvd|quay|dock|court|park)\b"
)
_BEFORE_NAME = re.compile(r"(?:\d[\w-]*|\b(?i:of|de|du|des|der|von|di|del))\s+$")
_WORDLIKE_STATES = frozenset({"OK", "ME", "IN", "OR", "HI", "OH", "DE", "ON", "SA", "WA"})
_SEPARATORS = re.compile(r"[,;:|\n()\[\]–—/]| - ")
_SPECIFIC_POSTCODE = 5  # a postcode shape shared by at most this many countries may overrule population
_TRAVEL = "in to nach a à en naar w we do im at vers hacia verso"
_TRAVEL_WORDS = frozenset(_TRAVEL.split())
_HOTEL = re.compile(
    r"(?i)\b(?:hotel|hôtel|hostel|hilton|marriott|hyatt|sheraton|westin|radisson|novotel|ibis|mercure|"
    r"holiday inn|meli[aá]|nh|motel one|premier inn|kempinski|four seasons|intercontinental|crowne plaza|"
    r"sofitel|pullman|best western|scandic|steigenberger|maritim|courtyard|renaissance|ritz|moxy|"
    r"citizenm|25hours|mandarin oriental|hampton|doubletree|barcel[oó]|iberostar|ac hotel|h10|adina)\b"
)


@dataclass(frozen=True)
class PlaceMatch:
    """A country found in text: ``matched`` is the text that decided it, ``rule`` the rule's name."""

    country: str
    matched: str
    rule: str
    confidence: float


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    key: str
    readings: tuple[Reading, ...]
    cities: tuple[City, ...]


def resolve_place(text: str) -> PlaceMatch | None:
    """The country ``text`` points at, or None (virtual meetings, rooms, URLs, dial-ins, unknown)."""
    normalised = " ".join((text or "").split())
    return _resolve(normalised) if normalised else None


def resolve_address(address: Mapping[str, object], country_hint: str | None = None) -> PlaceMatch | None:
    """A structured address (Graph ``location.address``, JSON-LD): the country field first, then text."""
    for value in (
        country_hint,
        address.get("countryOrRegion"),
        address.get("addressCountry"),
        address.get("country"),
    ):
        if isinstance(value, str) and value.strip():
            code = country_from_text(value)
            if code is not None:
                return _match(code, value.strip(), "address.country")
    line = address_line(address)
    return resolve_place(line) if line else None


def resolve_working_location(location: Mapping[str, object] | str) -> PlaceMatch | None:
    """A Google working location (its properties, or just its label); home office is no place."""
    if isinstance(location, str):
        return None if is_non_place(location) else resolve_place(location)
    if location.get("type") == "homeOffice" or "homeOffice" in location:
        return None
    for key in ("officeLocation", "customLocation"):
        node = location.get(key)
        if isinstance(node, Mapping):
            label = " ".join(str(node.get(k) or "") for k in ("label", "buildingId"))
            match = resolve_place(label)
            if match is not None:
                return match
    fallback = location.get("label")
    return resolve_place(fallback) if isinstance(fallback, str) else None


def country_at(lat: float, lon: float) -> str | None:
    """Country at a coordinate: that of the nearest town within ~100 km (coarse near borders)."""
    return nearest_country(lat, lon)


def _match(country: str, matched: str, rule: str) -> PlaceMatch:
    return PlaceMatch(country=country, matched=matched, rule=rule, confidence=CONFIDENCE[rule])


@lru_cache(maxsize=65536)
def _resolve(text: str) -> PlaceMatch | None:
    cleaned = strip_non_places(text)
    if not cleaned.strip(" ,;:-–—()[]#"):
        return None
    code = airport_code(cleaned)
    if code is not None:
        return _match(*code)
    words = list(TOKEN.finditer(cleaned))
    result = _decide(cleaned, _scan(cleaned, words))
    if AIRPORT_WORD.search(cleaned):
        if result is None:
            named = airport_name([fold_word(w.group()) for w in words])
            return _match(named[0], named[1], "airport.name") if named else None
        if result.rule.startswith("city"):
            return _match(result.country, result.matched, "airport.city")
    if result is not None and result.rule in ("city", "city.postcode") and _HOTEL.search(cleaned):
        return _match(result.country, result.matched, "hotel.city")
    return result


def _scan(text: str, words: list[re.Match[str]]) -> list[_Mention]:
    """Known names in the text, longest first, each starting with a capital letter."""
    known, cities = names().by_name, gazetteer().by_name
    folded = [fold_word(w.group()) for w in words]
    longest = max(names().max_words, gazetteer().max_words)
    found: list[_Mention] = []
    i = 0
    while i < len(words):
        if not words[i].group()[0].isupper():
            i += 1
            continue
        for size in range(min(longest, len(words) - i), 0, -1):
            key = folded[i] if size == 1 else " ".join(folded[i : i + size])
            readings, places = known.get(key, ()), cities.get(key, ())
            if (readings or places) and _in_compound(text, words[i].start(), words[i + size - 1].end()):
                readings = places = ()  # "Mont" in "Mont-Blanc" is part of another name, not the town
            if readings or places:
                end = words[i + size - 1].end()
                end += 1 if "(" in text[words[i].start() : end] and text[end : end + 1] == ")" else 0
                found.append(_Mention(words[i].start(), end, key, readings, places))
                i += size
                break
        else:
            i += 1
    return found


def _in_compound(text: str, start: int, end: int) -> bool:
    """The name is joined by a hyphen to a further capitalised word ("Mont-Blanc", "Baden-Baden" aside)."""
    before = start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()
    after = text[end : end + 1] == "-" and text[end + 1 : end + 2].isupper()
    return before or after


def _decide(text: str, found: list[_Mention]) -> PlaceMatch | None:
    mentions = [replace(m, readings=()) if m.readings and _inside_a_name(text, m) else m for m in found]
    strong = [
        (m.start, r.country, text[m.start : m.end], r.rule)
        for m in mentions
        for r in m.readings[:1]
        if r.kind == COUNTRY
    ]
    table = names()
    strong += [
        (a.start(), table.abbreviation_country[a.group()], a.group(), "country.alias")
        for a in table.abbreviations.finditer(text)
    ]
    if strong:
        return _match(*max(strong)[1:])
    codes = [
        (c.start(c.lastindex or 1), code, table.by_code.get(code, ()))
        for c in _ADDRESS_CODE.finditer(text)
        for code in (c.group(1) or c.group(2),)
    ]
    with_cities = [m for m in mentions if m.cities]
    for mention in reversed(with_cities):
        evidence = [r for m in mentions if m is not mention for r in m.readings]
        evidence += [r for _, _, readings in codes for r in readings]
        for city in mention.cities:
            agreeing = next((r for r in evidence if _agrees(r, city)), None)
            if agreeing is not None:
                return _match(city.country, text[mention.start : mention.end], _city_rule(agreeing))
    region = _region(text, codes, mentions)
    if region is not None:
        return region
    for mention in reversed(with_cities):
        plain = _plain_city(text, mention)
        if plain is not None:
            return plain
    return None


def _inside_a_name(text: str, mention: _Mention) -> bool:
    """The name is part of a street, building or company name: "1 Canada Square", "Bank of China"."""
    return bool(_STREET_AFTER.match(text, mention.end) or _BEFORE_NAME.search(text, 0, mention.start))


def _agrees(reading: Reading, city: City) -> bool:
    if reading.kind == REGION:
        return reading.country == city.country and reading.admin1 == city.admin1
    return reading.country == city.country


def _city_rule(reading: Reading) -> str:
    if reading.kind == REGION:
        return "city.us_state" if reading.country == "US" else "city.region"
    return "city.country_code" if reading.kind == CODE else "city.country"


def _region(
    text: str, codes: list[tuple[int, str, tuple[Reading, ...]]], mentions: list[_Mention]
) -> PlaceMatch | None:
    """A region or code after a comma names the country when no listed city agrees ("Springfield, MO")."""
    candidates = [(pos, code, readings) for pos, code, readings in codes if readings]
    candidates += [
        (m.start, text[m.start : m.end], tuple(r for r in m.readings if r.kind == REGION))
        for m in mentions
        if text[: m.start].rstrip().endswith(",")
    ]
    for pos, code, readings in sorted(candidates, reverse=True):
        if not readings or (code in _WORDLIKE_STATES and not re.match(r"\s*\d", text[pos + len(code) :])):
            continue
        place = text[:pos].rstrip(" ,(").rsplit(",", 1)[-1].strip()
        if place and place[0].isupper():
            return _match(readings[0].country, f"{place}, {code}", readings[0].rule)
    return None


def _plain_city(text: str, mention: _Mention) -> PlaceMatch | None:
    candidates = mention.cities
    postal = postcodes_around(text, mention.start, mention.end)
    narrowed = tuple(c for c in candidates if c.country in postal)
    matched = text[mention.start : mention.end]
    if narrowed and (narrowed[0] is candidates[0] or len(postal) <= _SPECIFIC_POSTCODE):
        return _match(narrowed[0].country, matched, "city.postcode")
    if mention.key in gazetteer().wordlike and not _stands_alone(text, mention):
        return None
    return _match(candidates[0].country, matched, "city")


def _stands_alone(text: str, mention: _Mention) -> bool:
    """The name is a whole segment of the text ("Workshop – Essen") or follows "in"/"nach"/"à"."""
    before = _SEPARATORS.split(text[: mention.start])[-1].strip()
    after = _SEPARATORS.split(text[mention.end :])[0].strip()
    if not before and not after:
        return True
    previous = before.rsplit(None, 1)[-1].casefold() if before else ""
    return previous in _TRAVEL_WORDS
