"""The offline city gazetteer: every city of >= 50,000 people and every capital, with its spellings.

Why: calendars name cities ("Warszawa", "Monachium", "NH Collection Milano"), rarely countries. The
data is a compact extract of GeoNames written by scripts/build_gazetteer.py (data/gazetteer.txt,
~1 MB, ~12,400 cities; data/points.txt, smaller towns used only for coordinates), loaded once per
process on first use. The hand-written data/cities.json adds spellings GeoNames lacks and says which
country a contested spelling means when nothing else in the text decides ("Valencia" is Spain).

Same-named cities are ranked by population, European cities counted five times: coverwatch's users
are European employers, so "Valencia", "Córdoba" or "Toledo" alone mean the Spanish ones.

Data: GeoNames (https://www.geonames.org/), licensed under CC BY 4.0 (attribution: GeoNames).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from chalicelib.detection.textnorm import fold

_EUROPE_CODES = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO CH GB"
)
EUROPE = frozenset(_EUROPE_CODES.split())
_EUROPE_WEIGHT = 5
_CELL = 1.0  # degrees: the coordinate grid used by ``nearest_country``


@dataclass(frozen=True, slots=True)
class City:
    """One gazetteer city. ``admin1`` is GeoNames' first-level region code ("TX", "08" = Ontario)."""

    name: str
    country: str
    admin1: str
    population: int
    lat: float
    lon: float

    @property
    def rank(self) -> int:
        return self.population * (_EUROPE_WEIGHT if self.country in EUROPE else 1)


@dataclass(frozen=True)
class Gazetteer:
    """Folded name -> cities with that name, best-ranked first; ``wordlike``: names that are also words."""

    by_name: dict[str, tuple[City, ...]]
    wordlike: frozenset[str]
    max_words: int
    load_seconds: float


def data_text(name: str) -> str:
    return resources.files("chalicelib.detection").joinpath("data", name).read_text(encoding="utf-8")


def data_size(name: str) -> int:
    """Bytes on disk of one data file (for the benchmark's Lambda-size figure)."""
    return len(resources.files("chalicelib.detection").joinpath("data", name).read_bytes())


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    started = time.perf_counter()
    by_name: dict[str, list[City]] = {}
    for line in data_text("gazetteer.txt").splitlines():
        if not line or line[0] == "#":
            continue
        names, country, admin1, population, lat, lon = line.split("\t")
        keys = names.split("|")
        city = City(keys[0], country, admin1, int(population), float(lat), float(lon))
        for key in keys:
            by_name.setdefault(key, []).append(city)
    curated = json.loads(data_text("cities.json"))
    for country, spellings in curated["cities"].items():
        for spelling in spellings:
            _prefer(by_name, fold(spelling), country)
    ranked = {key: tuple(sorted(cities, key=lambda c: -c.rank)) for key, cities in by_name.items()}
    for key, country in ((fold(s), c) for c, spellings in curated["cities"].items() for s in spellings):
        ranked[key] = _country_first(ranked[key], country)
    wordlike = frozenset(fold(word) for word in curated["wordlike"])
    max_words = max(key.count(" ") + 1 for key in ranked)
    return Gazetteer(ranked, wordlike, max_words, time.perf_counter() - started)


def _prefer(by_name: dict[str, list[City]], key: str, country: str) -> None:
    cities = by_name.setdefault(key, [])
    if not any(city.country == country for city in cities):
        cities.append(City(key, country, "", 0, math.nan, math.nan))


def _country_first(cities: tuple[City, ...], country: str) -> tuple[City, ...]:
    return tuple(sorted(cities, key=lambda c: c.country != country))


@lru_cache(maxsize=1)
def _grid() -> dict[tuple[int, int], list[tuple[float, float, str]]]:
    grid: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    points = [(c.lat, c.lon, c.country) for cities in gazetteer().by_name.values() for c in cities]
    for line in data_text("points.txt").splitlines():
        if line and line[0] != "#":
            fields = line.split()
            points.append((float(fields[0]), float(fields[1]), fields[2]))
    for lat, lon, country in points:
        if not math.isnan(lat):
            grid.setdefault((math.floor(lat / _CELL), math.floor(lon / _CELL)), []).append(
                (lat, lon, country)
            )
    return grid


def nearest_country(lat: float, lon: float, max_km: float = 100.0) -> str | None:
    """Country of the nearest town (>= 15,000 people) within ``max_km``; None at sea or in empty land."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    grid = _grid()
    row, col = math.floor(lat / _CELL), math.floor(lon / _CELL)
    lat_cells = math.ceil(max_km / 111.0 / _CELL)
    lon_cells = min(180, math.ceil(max_km / (111.0 * max(math.cos(math.radians(lat)), 0.01)) / _CELL))
    best: tuple[float, str] | None = None
    for r in range(row - lat_cells, row + lat_cells + 1):
        for c in range(col - lon_cells, col + lon_cells + 1):
            for plat, plon, country in grid.get((r, (c + 180) % 360 - 180), ()):
                km = _km(lat, lon, plat, plon)
                if km <= max_km and (best is None or km < best[0]):
                    best = (km, country)
    return None if best is None else best[1]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))
