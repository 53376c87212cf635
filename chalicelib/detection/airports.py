"""Airports: IATA codes in context ("(FRA)", "FRA → BOS", "Flughafen MUC") and airport names.

Why: flight events and booking segments name airports, not countries. A bare three-letter word is
never taken (THE, CEO and ALL are airport codes too): only a code in parentheses, in a route (the last
code, the destination, wins) or next to an airport word. Airport names without a code ("Aéroport
Charles de Gaulle") are looked up in airportsdata's names when an airport word is present; names
that are a city ("Frankfurt Airport", "Flughafen München") go through the gazetteer instead.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import airportsdata

from chalicelib.countries import is_country_code
from chalicelib.detection.textnorm import fold

_CODE = r"[A-Z]{3}"
_ROUTE_SEP = (
    r"(?:\s*(?:\u2192|\u27f6|\u279d|\u2708|->|=>|\u2013|\u2014|-|>|/)\s*|\s+(?:to|nach|à|a|naar|do)\s+)"
)
_ROUTE = re.compile(rf"(?<![A-Za-z0-9]){_CODE}(?:{_ROUTE_SEP}{_CODE})+(?![A-Za-z0-9])")
_CODE_IN_ROUTE = re.compile(_CODE)
_PARENTHESIZED = re.compile(r"\(\s*([A-Z]{3})\s*\)")
_WORDS = (
    r"airport|flughafen|a[ée]roport|aeropuerto|aeroporto|luchthaven|lotnisko|lufthavn|flygplats"
    r"|lentoasema|letiště|repülőtér|aerodrom|intl"
)
AIRPORT_WORD = re.compile(rf"(?i)\b(?:{_WORDS})\b")
_NEAR_AIRPORT = re.compile(
    rf"(?i:\b(?:{_WORDS}))\s+({_CODE})(?![A-Za-z0-9])|(?<![A-Za-z0-9])({_CODE})\s+(?i:(?:{_WORDS})\b)"
)
_GENERIC_WORDS = (
    "international airport airfield intl regional municipal county aerodrome air base field de del "
    "the of aeroporto aeropuerto aéroport flughafen luchthaven"
)
_GENERIC = frozenset(fold(word) for word in _GENERIC_WORDS.split())
# Three-letter words common in business calendars that also happen to be airport codes.
_NOT_AIRPORT_WORDS = (
    "THE AND ALL FOR YOU NEW OUT OFF END ONE TWO CEO CFO CTO COO CIO CMO VIP API KPI OKR QBR ROI SLA "
    "FYI ETA PTO OOO IPO ERP CRM SAP AWS GCP SSO MVP POC UAT DEV OPS TBD EOD BOD AGM EUR USD GBP CHF "
    "JPY PDF NDA RFP RFQ SOW CET CST EST PST UTC GMT BST WFH MON TUE WED THU FRI SAT SUN JAN FEB MAR "
    "APR MAY JUN JUL AUG SEP OCT NOV DEC PIN TBA TBC"
)
_NOT_AIRPORTS = frozenset(_NOT_AIRPORT_WORDS.split())


def airport_code(text: str) -> tuple[str, str, str] | None:
    """(country, code, rule) for a code in airport context, the destination of a route first."""
    if _CODE_IN_ROUTE.search(text) is None:
        return None
    for route in reversed(list(_ROUTE.finditer(text))):
        codes = _CODE_IN_ROUTE.findall(route.group(0))
        countries = [airport_country(code) for code in codes]
        if all(countries) and countries[-1]:
            return countries[-1], codes[-1], "iata.route_destination"
    for pattern, rule in ((_PARENTHESIZED, "iata.parenthesized"), (_NEAR_AIRPORT, "iata.airport_word")):
        for found in reversed(list(pattern.finditer(text))):
            code = next(group for group in found.groups() if group)
            country = airport_country(code)
            if country:
                return country, code, rule
    return None


def airport_country(code: str) -> str | None:
    if code in _NOT_AIRPORTS:
        return None
    return airports().get(code)


def airport_name(folded_words: list[str]) -> tuple[str, str] | None:
    """(country, matched key) for the longest airport name inside ``folded_words``, if any."""
    index = _names()
    folded_words = [w for w in folded_words if w not in _GENERIC]
    for size in range(min(5, len(folded_words)), 0, -1):
        for start in range(len(folded_words) - size + 1):
            key = " ".join(folded_words[start : start + size])
            if key in index:
                return index[key], key
    return None


@lru_cache(maxsize=1)
def airports() -> dict[str, str]:
    """IATA code -> ISO country, loaded on first use (about 8,000 airports)."""
    data = _load()
    return {code: str(row["country"]) for code, row in data.items() if is_country_code(str(row["country"]))}


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Distinctive airport names and parts of them ("charles gaulle", "schiphol") -> their only country."""
    found: dict[str, set[str]] = {}
    for row in _load().values():
        words = [w for w in fold(str(row["name"])).split() if w not in _GENERIC]
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + 5) + 1):
                key = " ".join(words[start:end])
                if len(key) >= 5:
                    found.setdefault(key, set()).add(str(row["country"]))
    return {key: countries.pop() for key, countries in found.items() if len(countries) == 1}


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    data: dict[str, Any] = dict(airportsdata.load("IATA"))
    return data
