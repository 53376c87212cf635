"""ISO 3166-1 alpha-2 country codes, the one spelling of a country used everywhere in coverwatch.

People and other systems type "UK" for the United Kingdom and the EU writes "EL" for Greece; both are
accepted at the edges and stored as the ISO code, so that rules data, trips and certificates always
compare equal.

pycountry is imported on first use, not on import: every function imports this module through the
models, and pycountry's import reads its package metadata (importlib.metadata), a cold-start cost
the API's import does not otherwise need.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, Field

# Codes that are not ISO 3166-1 alpha-2 but are in common use for a country that has one.
ALIASES: dict[str, str] = {"UK": "GB", "EL": "GR"}


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country_code(code: str) -> bool:
    """True when ``code`` is an assigned ISO 3166-1 alpha-2 code (after aliasing)."""
    return ALIASES.get(code.strip().upper(), code.strip().upper()) in _iso_codes()


def normalize_country(value: object) -> str:
    """Turn "de", " UK " or "EL" into the ISO code, or raise ValueError naming the allowed form."""
    if not isinstance(value, str):
        raise ValueError("must be a two-letter ISO 3166-1 country code such as 'DE'")
    code = value.strip().upper()
    code = ALIASES.get(code, code)
    if code not in _iso_codes():
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (e.g. 'DE', 'FR', 'US')")
    return code


def country_name(code: str, language: str = "en") -> str:
    """The short name in ``language`` ("en", "de", or a ``Language``), for messages and tables.

    Names come from pycountry's ISO 3166-1 translations, so a new language needs no list of our own;
    a language or name pycountry does not translate stays English, and an unknown code stays the code.
    """
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    english = str(getattr(country, "common_name", None) or country.name)
    if language == "en":
        return english
    return _translations(str(language)).gettext(english)


@lru_cache(maxsize=8)
def _translations(language: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


CountryCode = Annotated[
    str,
    AfterValidator(normalize_country),
    # Documented, not enforced here: normalize_country's own message is clearer than a pattern error.
    Field(json_schema_extra={"pattern": "^[A-Za-z]{2}$", "examples": ["DE", "FR", "US"]}),
]
"""A pydantic field type: validated, normalised ISO 3166-1 alpha-2 code."""
