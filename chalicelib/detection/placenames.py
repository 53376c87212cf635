"""Country and region names: what "Deutschland", "U.K.", "Niemcy", ", TX" or ", ON" point at.

Why: the strongest evidence in a place string is a country or a region named in it ("Paris, TX" is the
US, "London, ON" is Canada, "Berlin, BE" is the German state of Berlin). Names come from pycountry's
English names and their de/fr/es/it/nl/pl translations (data/country_names.txt, generated), the
hand-written aliases (data/country_aliases.json), travel destinations that stand for their country
(data/destinations.json: "Mallorca", "Bali", "Tuscany") and regions (data/regions.json: US states, Canadian
provinces, Australian states, German Länder, Swiss cantons). Names that are usually something else
(Georgia, Jordan, Granada) are "ambiguous": they only count when another token agrees.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.countries import is_country_code
from chalicelib.detection.gazetteer import data_text
from chalicelib.detection.textnorm import fold

COUNTRY, AMBIGUOUS, REGION, CODE = "country", "ambiguous", "region", "code"


@dataclass(frozen=True, slots=True)
class Reading:
    """One meaning of a name: a country (``kind`` COUNTRY/AMBIGUOUS/CODE) or a region of ``country``."""

    kind: str
    country: str
    rule: str
    admin1: str = ""


@dataclass(frozen=True)
class Names:
    by_name: dict[str, tuple[Reading, ...]]
    """Folded name -> readings (countries in any of eight languages, ambiguous names, region names)."""
    by_code: dict[str, tuple[Reading, ...]]
    """Upper-case code in address position ("DE", "TX", "ON", "NRW") -> readings, US states first."""
    abbreviations: re.Pattern[str]
    abbreviation_country: dict[str, str]
    max_words: int


@lru_cache(maxsize=1)
def names() -> Names:
    aliases = json.loads(data_text("country_aliases.json"))
    ambiguous = {fold(name) for name in aliases["ambiguous"]}
    by_name: dict[str, list[Reading]] = {}

    def add(key: str, reading: Reading) -> None:
        if key and reading not in by_name.setdefault(key, []):
            by_name[key].append(reading)

    for line in data_text("country_names.txt").splitlines():
        if line and line[0] != "#":
            code, keys = line.split("\t")
            for key in keys.split("|"):
                add(key, Reading(COUNTRY, code, "country.name"))
    for code, spellings in aliases["names"].items():
        for spelling in spellings:
            add(fold(spelling), Reading(COUNTRY, code, "country.alias"))
    for code, spellings in json.loads(data_text("destinations.json")).items():
        if code.startswith("_"):
            continue
        for spelling in spellings:
            if fold(spelling) not in by_name:  # a country name always wins over a destination
                add(fold(spelling), Reading(COUNTRY, code, "destination"))
    for key in ambiguous:
        by_name[key] = [Reading(AMBIGUOUS, r.country, r.rule) for r in by_name.get(key, [])]
    by_code: dict[str, list[Reading]] = {}
    regions = json.loads(data_text("regions.json"))
    for country in ("US", "CA", "AU", "DE", "CH"):
        for code, admin1, *region_names in regions[country]:
            reading = Reading(REGION, country, "us_state" if country == "US" else "region", admin1)
            by_code.setdefault(code, []).append(reading)
            for name in region_names:
                add(fold(name), reading)
    for code in list(by_code) + [c for c in _iso_codes() if c not in by_code]:
        if is_country_code(code) and len(code) == 2:
            readings = by_code.setdefault(code, [])
            readings.insert(
                1 if readings and readings[0].country == "US" else 0, Reading(CODE, code, "country.code")
            )
    abbreviation_country = {a: c for c, values in aliases["abbreviations"].items() for a in values}
    ordered = sorted(abbreviation_country, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w])")
    return Names(
        by_name={k: tuple(v) for k, v in by_name.items() if v},
        by_code={k: tuple(v) for k, v in by_code.items()},
        abbreviations=pattern,
        abbreviation_country=abbreviation_country,
        max_words=max(key.count(" ") + 1 for key in by_name),
    )


def _iso_codes() -> list[str]:
    import pycountry

    return sorted(str(c.alpha_2) for c in pycountry.countries)


def country_from_text(value: str) -> str | None:
    """An ISO code from a structured country field: "DE", "UK", "DEU", "Germany", "Deutschland"."""
    text = value.strip()
    if len(text) == 2 and is_country_code(text):
        from chalicelib.countries import normalize_country

        return normalize_country(text)
    if len(text) == 3 and text.isalpha():
        import pycountry

        found = pycountry.countries.get(alpha_3=text.upper())
        if found is not None:
            return str(found.alpha_2)
    known = names()
    if text in known.abbreviation_country:
        return known.abbreviation_country[text]
    readings = known.by_name.get(fold(text), ())
    countries = {r.country for r in readings if r.kind in (COUNTRY, AMBIGUOUS)}
    return countries.pop() if len(countries) == 1 else None
