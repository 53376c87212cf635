"""Postal codes next to a city name, and the structured addresses calendars give.

Why: an address line carries its country's postcode shape ("00-901 Warszawa" is Polish, "Cambridge
CB2 1TN" British, "Cambridge, MA 02139" American), which decides between same-named cities. The
patterns are GeoNames' per-country postal-code expressions (data/postcodes.txt, generated). Structured
data beats text: a Graph address's ``countryOrRegion`` is taken before its street and city.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from chalicelib.detection.gazetteer import data_text

_HAS_DIGIT = re.compile(r"\d")
# A postcode piece must start (before the city) or end (after it) its address segment.
_PIECE_BEFORE = re.compile(r"(?:^|[,;\n(])\s*([A-Za-z]{0,2}[\dA-Z][\dA-Z -]{1,8})\s*$")
_PIECE_AFTER = re.compile(r"^\s*([\dA-Z][\dA-Z -]{1,8}[\dA-Z])\s*(?:$|[,;\n)])")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = []
    for line in data_text("postcodes.txt").splitlines():
        if line and line[0] != "#":
            country, pattern = line.split("\t", 1)
            rows.append((country, re.compile(pattern)))
    return tuple(rows)


@lru_cache(maxsize=4096)
def postcode_countries(piece: str) -> frozenset[str]:
    """Countries whose postcode format ``piece`` has ("75002" -> FR, DE, ES, IT, US, ...)."""
    piece = piece.strip()
    if not piece or not _HAS_DIGIT.search(piece):
        return frozenset()
    return frozenset(country for country, pattern in _patterns() if pattern.fullmatch(piece))


def postcodes_around(text: str, start: int, end: int) -> frozenset[str]:
    """Countries whose postcode stands right before or after ``text[start:end]`` (a city name)."""
    found: set[str] = set()
    before = _PIECE_BEFORE.search(text, 0, start)
    if before is not None:
        for piece in _variants(before.group(1)):
            found |= postcode_countries(piece)
    after = _PIECE_AFTER.match(text[end:])
    if after is not None:
        for piece in _variants(after.group(1)):
            found |= postcode_countries(piece)
    return frozenset(found)


def _variants(piece: str) -> tuple[str, ...]:
    piece = piece.strip(" -")
    words = piece.split()
    return tuple(dict.fromkeys((piece, words[-1], words[0]))) if words else ()


def address_line(address: Mapping[str, object]) -> str:
    """A Graph/JSON address dict as one line: "street, postalCode city, state, country"."""

    def get(*keys: str) -> str:
        for key in keys:
            value = address.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    locality = " ".join(p for p in (get("postalCode", "postal_code"), get("city", "addressLocality")) if p)
    parts = (get("street", "streetAddress"), locality, get("state", "addressRegion"))
    return ", ".join(p for p in parts if p)
