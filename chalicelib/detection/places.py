"""Turn the free text of a calendar location or title into a country, offline.

Why: calendars say "Client HQ, 12 Rue de la Paix, Paris", "LH 422 FRA → BOS" or "Boston, MA", never
"FR" or "US". Detection needs the country, plus how sure we are and which rule said so (that goes into
a trip's evidence, so HR can see why a trip was found). Rules are tried strongest first:

1. IATA airport codes, only where the context says "airport": "(FRA)", a route "FRA → BOS" /
   "FRA-BOS" / "FRA to BOS" (the last code, the destination, wins) or "Flughafen MUC". A bare
   three-letter word is never taken: THE, CEO and ALL are airport codes too.
2. Country names: English names from pycountry plus an alias table of other languages and short
   forms (data/country_aliases.json); names that are usually a person or a US state (Jordan, Georgia)
   are left out.
3. A hand-written table of ~300 spellings of well-known business cities (data/cities.json). A US
   state after a comma wins over the table ("Paris, TX" is in the US).

Within one rule the right-most match wins, because addresses run from street to city to country.

Limits of this slice: no geocoding, no GEO coordinates, no small towns, no regions other than US
states; a person called "Austin" in a title looks like a city. Names must start with a capital letter
(in any case after that), so "nice to meet" or "turkey dinner" do not count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import airportsdata
import pycountry

from chalicelib.countries import is_country_code

_WORD_START = r"(?<![\w])"
_WORD_END = r"(?![\w])"
_CODE = r"[A-Z]{3}"
_ROUTE_SEP = r"(?:\s*(?:\u2192|\u27f6|\u279d|\u2708|->|=>|\u2013|\u2014|-|>)\s*|\s+(?:to|nach|à)\s+)"
_ROUTE = re.compile(rf"(?<![A-Za-z0-9]){_CODE}(?:{_ROUTE_SEP}{_CODE})+(?![A-Za-z0-9])")
_PARENTHESIZED = re.compile(r"\(\s*([A-Z]{3})\s*\)")
_AIRPORT_WORD = r"(?i:airport|flughafen|aéroport|aeroport|aeropuerto|aeroporto|luchthaven|lotnisko)"
_NEAR_AIRPORT = re.compile(
    rf"{_AIRPORT_WORD}\s+({_CODE})(?![A-Za-z0-9])|(?<![A-Za-z0-9])({_CODE})\s+{_AIRPORT_WORD}"
)
# Three-letter words common in business calendars that also happen to be airport codes.
_NOT_AIRPORT_WORDS = (
    "THE AND ALL FOR YOU NEW OUT OFF END ONE TWO CEO CFO CTO COO CIO CMO VIP API KPI OKR QBR ROI SLA "
    "FYI ETA PTO OOO IPO ERP CRM SAP AWS GCP SSO MVP POC UAT DEV OPS TBD EOD BOD AGM EUR USD GBP CHF "
    "JPY PDF NDA RFP RFQ SOW CET CST EST PST UTC GMT BST WFH MON TUE WED THU FRI SAT SUN JAN FEB MAR "
    "APR MAY JUN JUL AUG SEP OCT NOV DEC"
)
_NOT_AIRPORTS = frozenset(_NOT_AIRPORT_WORDS.split())

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*|\S+@\S+\.\w+")
_PHONE = re.compile(r"\+?\d[\d\s()./-]{6,}\d[#,\d]*")
_NON_PLACE = re.compile(
    r"(?i)\b(?:microsoft teams|teams|zoom|google meet|hangouts|webex|skype|gotomeeting|whereby|jitsi"
    r"|bluejeans|chime|dial-?in|conference id|meeting id|online|virtual|remote|home ?office|at home"
    r"|wfh|work(?:ing)? from home|mobiles arbeiten|télétravail|teletravail|teletrabajo|thuiswerk(?:en)?)\b"
    r"|^\s*(?:room|raum|salle|sala|zaal|sala riunioni|conference room|meeting room|besprechungsraum"
    r"|konferenzraum|boardroom|desk|floor|building|bldg)\b"
)
# State codes that are also ordinary words ("Meeting, OK"): only trusted after a known city.
_WORDLIKE_STATES = frozenset({"OK", "ME", "IN", "OR", "HI", "OH"})

CONFIDENCE = {
    "iata.parenthesized": 0.9,
    "iata.airport_word": 0.9,
    "iata.route_destination": 0.9,
    "country.name": 0.9,
    "country.alias": 0.85,
    "city.us_state": 0.75,
    "us_state": 0.7,
    "city": 0.65,
}


@dataclass(frozen=True)
class PlaceMatch:
    """A country found in text: ``matched`` is the text that decided it, ``rule`` the rule's name."""

    country: str
    matched: str
    rule: str
    confidence: float


def resolve_place(text: str) -> PlaceMatch | None:
    """The country ``text`` points at, or None (virtual meetings, rooms, URLs, dial-ins, unknown)."""
    cleaned = _PHONE.sub(" ", _URL.sub(" ", text or ""))
    if not cleaned.strip():
        return None
    return _airport(cleaned) or _country(cleaned) or _city(cleaned)


def is_non_place(text: str) -> bool:
    """True for locations that say "not travelling": virtual meetings, home, rooms, bare URLs/phones."""
    cleaned = _PHONE.sub(" ", _URL.sub(" ", text or ""))
    return not cleaned.strip() or _NON_PLACE.search(cleaned) is not None


def _match(country: str, matched: str, rule: str) -> PlaceMatch:
    return PlaceMatch(country=country, matched=matched, rule=rule, confidence=CONFIDENCE[rule])


def _airport(text: str) -> PlaceMatch | None:
    routes = list(_ROUTE.finditer(text))
    for route in reversed(routes):
        codes = re.findall(_CODE, route.group(0))
        countries = [_airport_country(code) for code in codes]
        if all(countries) and countries[-1]:
            return _match(countries[-1], codes[-1], "iata.route_destination")
    for pattern, rule in ((_PARENTHESIZED, "iata.parenthesized"), (_NEAR_AIRPORT, "iata.airport_word")):
        for found in reversed(list(pattern.finditer(text))):
            code = next(group for group in found.groups() if group)
            country = _airport_country(code)
            if country:
                return _match(country, code, rule)
    return None


def _airport_country(code: str) -> str | None:
    if code in _NOT_AIRPORTS:
        return None
    return _airports().get(code)


def _country(text: str) -> PlaceMatch | None:
    best: tuple[int, str, str, str] | None = None
    for pattern, table in (
        (_country_pattern(), _country_names()),
        (_abbreviation_pattern(), _abbreviations()),
    ):
        for found in pattern.finditer(text):
            name = found.group(0)
            if not name[0].isupper():
                continue
            code, rule = table[name.casefold()]
            if best is None or found.start() > best[0]:
                best = (found.start(), code, name, rule)
    return None if best is None else _match(best[1], best[2], best[3])


def _city(text: str) -> PlaceMatch | None:
    cities = _cities()
    found = [m for m in _city_pattern().finditer(text) if m.group(0)[0].isupper()]
    state = _us_state(text, found)
    if state is not None:
        return state
    if not found:
        return None
    last = found[-1].group(0)
    return _match(cities[last.casefold()], last, "city")


def _us_state(text: str, cities_found: list[re.Match[str]]) -> PlaceMatch | None:
    """A US state right after a comma, as in "Paris, TX" or "Springfield, Illinois 62701"."""
    for found in reversed(list(_state_pattern().finditer(text))):
        state = found.group("state")
        code = _us_states().get(state.casefold(), state)
        before = [m for m in cities_found if m.end() <= found.start()]
        city = before[-1] if before and not text[before[-1].end() : found.start()].strip(" ,") else None
        if city is not None and _cities()[city.group(0).casefold()] == code:
            return None  # "Berlin, DE": the code is the city's own country, not Delaware
        if city is None and code in _WORDLIKE_STATES:
            continue
        place = text[: found.start()].rsplit(",", 1)[-1].strip()
        if not place or not place[0].isupper():
            continue
        rule = "city.us_state" if city is not None else "us_state"
        return _match("US", f"{place}, {state}", rule)
    return None


def _names_pattern(names: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile(_WORD_START + "(?:" + "|".join(map(re.escape, ordered)) + ")" + _WORD_END, flags)


@lru_cache(maxsize=1)
def _airports() -> dict[str, str]:
    """IATA code -> ISO country, loaded on first use (about 8,000 airports)."""
    data = airportsdata.load("IATA")
    return {code: str(row["country"]) for code, row in data.items() if is_country_code(str(row["country"]))}


@lru_cache(maxsize=1)
def _alias_data() -> dict[str, Any]:
    return _load_json("country_aliases.json")


@lru_cache(maxsize=1)
def _country_names() -> dict[str, tuple[str, str]]:
    """casefolded name -> (ISO code, rule)."""
    ambiguous = {name.casefold() for name in _alias_data()["ambiguous"]}
    names: dict[str, tuple[str, str]] = {}
    for code, aliases in _alias_data()["names"].items():
        for alias in aliases:
            names[alias.casefold()] = (code, "country.alias")
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if name and "," not in name and "(" not in name:
                names[name.casefold()] = (country.alpha_2, "country.name")
    return {name: value for name, value in names.items() if name not in ambiguous}


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, tuple[str, str]]:
    return {
        abbreviation.casefold(): (code, "country.alias")
        for code, abbreviations in _alias_data()["abbreviations"].items()
        for abbreviation in abbreviations
    }


@lru_cache(maxsize=1)
def _country_pattern() -> re.Pattern[str]:
    return _names_pattern(list(_country_names()))


@lru_cache(maxsize=1)
def _abbreviation_pattern() -> re.Pattern[str]:
    abbreviations = [a for values in _alias_data()["abbreviations"].values() for a in values]
    ordered = sorted(set(abbreviations), key=len, reverse=True)
    return re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w])")


@lru_cache(maxsize=1)
def _city_data() -> dict[str, Any]:
    return _load_json("cities.json")


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """casefolded city spelling -> ISO code."""
    return {city.casefold(): code for code, cities in _city_data()["cities"].items() for city in cities}


@lru_cache(maxsize=1)
def _city_pattern() -> re.Pattern[str]:
    return _names_pattern([c for cities in _city_data()["cities"].values() for c in cities])


@lru_cache(maxsize=1)
def _us_states() -> dict[str, str]:
    """Full state name (casefolded) -> two-letter code."""
    return {name.casefold(): code for code, name in _city_data()["us_states"].items()}


@lru_cache(maxsize=1)
def _state_pattern() -> re.Pattern[str]:
    states: dict[str, str] = _city_data()["us_states"]
    alternatives = "|".join([*states, *(re.escape(name) for name in states.values())])
    return re.compile(rf",\s*(?P<state>{alternatives})(?:\s+\d{{5}}(?:-\d{{4}})?)?\s*(?=$|[,;)/|\n])")


def _load_json(name: str) -> dict[str, Any]:
    text = resources.files("chalicelib.detection").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
