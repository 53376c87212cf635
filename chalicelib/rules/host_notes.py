"""Cited notes on what the destination country enforces on site: posting declarations and their
exemptions, and which documents (the A1 among them) must be at hand during a trip.

These are host-country formalities, not coverage rules, so they live apart from the regimes that
decide which certificate a trip needs; the traveler's checklist shows them as they are. The data sits
in ``data/notes/`` rather than next to the regime files because the rulebook reads every JSON file at
the top of ``data/`` as a regime. Like the regimes, every note names its official source, and a note
the data does not hold is simply not shown: nothing here is inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal, Self, assert_never

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.countries import ALIASES, normalize_country
from chalicelib.models import Language

DATA_PATH = ("data", "notes", "host_notes.json")
Activity = Literal["posting", "business_trip"]
"""When a note matters: a posting (work for a client or group company) or a business trip."""


class HostNotesError(ValueError):
    """The host notes data is broken; the message names the field and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Texts(_Frozen):
    """The note in every language a traveler can receive messages in."""

    en: str = Field(min_length=20, max_length=400)
    de: str = Field(min_length=20, max_length=400)

    def in_language(self, language: Language) -> str:
        # Exhaustive on purpose: a new Language fails type checking until every note is translated.
        match language:
            case Language.EN:
                return self.en
            case Language.DE:
                return self.de
            case _:
                assert_never(language)


class Source(_Frozen):
    title: str = Field(min_length=5)
    url: str = Field(pattern=r"^https://\S+$")


class HostNote(_Frozen):
    id: str = Field(pattern=r"^[A-Z]{2}\.[a-z0-9_]+$")
    country: str
    applies_from: date | None
    applies_until: date | None
    """Last day the note applies, inclusive."""
    text: Texts
    activities: tuple[Activity, ...] = Field(min_length=1)
    citation: Source
    last_reviewed_on: date

    @field_validator("country")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        # The data must already be in the one spelling used everywhere, so "UK" or "de" is an error.
        if normalize_country(value) != value:
            raise ValueError(f"'{value}' must be written as the ISO code '{normalize_country(value)}'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.id.startswith(f"{self.country}."):
            raise ValueError(f"id {self.id!r} must start with the country code {self.country!r}")
        if self.applies_from and self.applies_until and self.applies_until < self.applies_from:
            raise ValueError(f"{self.id}: applies_until is before applies_from")
        if len(set(self.activities)) != len(self.activities):
            raise ValueError(f"{self.id}: activities are listed twice")
        return self

    def in_force(self, on: date) -> bool:
        return (self.applies_from is None or self.applies_from <= on) and (
            self.applies_until is None or on <= self.applies_until
        )


class HostNotesFile(_Frozen):
    notes: tuple[HostNote, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for note in self.notes:
            if note.id in seen:
                raise ValueError(f"note id {note.id} is used twice")
            seen.add(note.id)
        return self


@dataclass(frozen=True)
class HostNoteView:
    """One note as a traveler reads it: the text in their language and where it comes from."""

    text: str
    source_title: str
    source_url: str


def parse_host_notes(text: str) -> HostNotesFile:
    """Validate host notes JSON, raising HostNotesError that names each broken field."""
    try:
        return HostNotesFile.model_validate_json(text, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()
        )
        raise HostNotesError(f"host_notes.json: {problems}") from exc


@cache
def load_host_notes() -> HostNotesFile:
    """The packaged notes, read and validated once per process (the data never changes at runtime)."""
    path = resources.files("chalicelib.rules").joinpath(*DATA_PATH)
    return parse_host_notes(path.read_text(encoding="utf-8"))


_SPACES = re.compile(r"\s+")


def notes_for(
    country: str, on: date, language: Language, *, activity: Activity | None = None
) -> list[HostNoteView]:
    """Notes for ``country`` in force on ``on``, in ``language``, in file order.

    ``country`` may be spelled as people type it ("gb", "UK"); an unknown country has no notes. With
    ``activity``, only the notes that matter for that kind of trip are returned.
    """
    code = _SPACES.sub("", country).upper()
    code = ALIASES.get(code, code)
    return [
        HostNoteView(note.text.in_language(language), note.citation.title, note.citation.url)
        for note in load_host_notes().notes
        if note.country == code and note.in_force(on) and (activity is None or activity in note.activities)
    ]
