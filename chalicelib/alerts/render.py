"""Every message's words come from templates and a string catalog per language, never from Python code.

``render(name, language, **context)`` fills ``templates/<name>.txt`` and ``templates/<name>.html`` (the
latter on the shared ``base.html`` layout) and returns both. Sentences live in
``templates/strings/<language>.json`` with ``{placeholder}`` fields, so a translator edits one JSON file
and every template and subject line follows; adding a language is a new catalog plus a ``Language``
member. Dates and country names are formatted for the reader's language too.

jinja2 is imported on the first render, not on import: the HTTP API imports the models and the
composers' callers, and its cold start must not pay for a template engine it never uses.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.countries import country_name
from chalicelib.models import Language

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).parent / "templates"
STRINGS = TEMPLATES / "strings"
TEMPLATE_NAMES = ("alert", "resolved", "checklist", "digest")
"""Every message template (each has a .txt and an .html); ``base.html`` and ``macros.html`` are parts."""


@cache
def catalog(language: Language) -> dict[str, str]:
    """The language's sentences by key; read once per process."""
    data: dict[str, str] = json.loads((STRINGS / f"{Language(language).value}.json").read_text("utf-8"))
    return data


def translate(language: Language, key: str, **fields: object) -> str:
    """The sentence ``key`` in ``language`` with its ``{placeholders}`` filled; a missing one raises."""
    try:
        sentence = catalog(language)[key]
    except KeyError:
        raise KeyError(f"no string {key!r} in the {Language(language).value} catalog") from None
    return sentence.format(**fields)


def translate_count(language: Language, key: str, n: int, **fields: object) -> str:
    """``key.one`` for one, ``key.other`` for any other count (enough for English and German)."""
    return translate(language, f"{key}.{'one' if n == 1 else 'other'}", n=n, **fields)


def placeholders(sentence: str) -> frozenset[str]:
    """The field names a catalog sentence expects, e.g. {"name", "country"}."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(sentence) if field is not None)


def format_date(day: date, language: Language) -> str:
    """2027-03-08 in English (ISO, unambiguous for HR), 08.03.2027 in German."""
    return translate(language, "format.date", d=day)


def format_period(start: date, end: date, language: Language) -> str:
    if start == end:
        return format_date(start, language)
    return translate(
        language, "format.period", start=format_date(start, language), end=format_date(end, language)
    )


def is_web_url(url: object) -> bool:
    """Only http(s) addresses become links; anything else (javascript:, data:) is shown as text."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


@cache
def environment() -> jinja2.Environment:
    """The one template environment: HTML autoescaped, a missing variable an error, not a blank."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def helpers(language: Language) -> dict[str, Callable[..., Any]]:
    """What templates call: t() and tn() for sentences, day(), period() and country() for facts."""

    def t(key: str, **fields: object) -> str:
        return translate(language, key, **fields)

    def tn(key: str, n: int, **fields: object) -> str:
        return translate_count(language, key, n, **fields)

    def day(value: date) -> str:
        return format_date(value, language)

    def period(start: date, end: date) -> str:
        return format_period(start, end, language)

    def country(code: str) -> str:
        return country_name(code, language)

    return {"t": t, "tn": tn, "day": day, "period": period, "country": country, "web_url": is_web_url}


def render(name: str, language: Language, **context: object) -> tuple[str, str]:
    """(plain text, HTML) of message ``name`` in ``language``."""
    env = environment()
    values = {**helpers(language), **context, "lang": Language(language).value}
    text = env.get_template(f"{name}.txt").render(values)
    html = env.get_template(f"{name}.html").render(values)
    return _tidy(text), html


def _tidy(text: str) -> str:
    """Plain text without trailing blanks or runs of empty lines, whatever the template's layout."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
