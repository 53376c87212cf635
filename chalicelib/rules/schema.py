"""The shape of the rules data files, checked strictly so a typo in legal data fails loudly.

Every legal fact in ``chalicelib/rules/data/*.json`` is a field of these models, and every fact
carries a citation. Unknown keys, malformed dates, unknown country codes and missing citations are
rejected when the data is loaded, not discovered later in a wrong answer.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.countries import CountryCode
from chalicelib.models import DocumentType, EmploymentType

Countries = tuple[CountryCode, ...]
Branch = Literal["pension", "health", "unemployment", "accident", "long_term_care", "family"]


class Strict(BaseModel):
    """Base for rules data: unknown keys are errors, values are not coerced, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Citation(Strict):
    title: str = Field(min_length=5)
    url: str = Field(pattern=r"^https?://\S+$")


class Citations(Strict):
    """One citation per fact of a record; all are required."""

    instrument: Citation
    in_force_since: Citation
    max_posting_months: Citation
    document: Citation
    branches: Citation
    personal_scope: Citation
    beyond_max: Citation


class ThirdCountryNationals(Strict):
    """An extension of personal scope to people of any nationality, between some states only."""

    id: str = Field(min_length=3)
    title: str
    in_force_since: date
    countries: Countries = Field(min_length=2)
    residence_in: Countries = Field(min_length=1)
    citation: Citation


class PersonalScope(Strict):
    """Who the instrument covers; ``None`` means "no condition" for that criterion."""

    nationals_of: Countries | None
    residence_in: Countries | None
    third_country_nationals: ThirdCountryNationals | None


class Record(Strict):
    """One instrument between ``countries`` (all pairs among them) and each of ``partners``."""

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[A-Za-z0-9_]+)+$")
    rule_id: str = Field(min_length=3)
    title: str = Field(min_length=5)
    article: str = Field(min_length=3)
    countries: Countries = Field(min_length=1)
    partners: Countries
    in_force_since: date
    max_posting_months: int | None = Field(ge=1)
    document: DocumentType
    branches: tuple[Branch, ...] = Field(min_length=1)
    employment_types: tuple[EmploymentType, ...] = Field(min_length=1)
    personal_scope: PersonalScope
    beyond_max: str | None
    caveat: str | None
    citations: Citations
    last_reviewed_on: date

    @model_validator(mode="after")
    def _pairs_exist(self) -> Self:
        if len(self.countries) < 2 and not self.partners:
            raise ValueError(f"record {self.id}: needs two countries or at least one partner")
        both = set(self.countries) & set(self.partners)
        if both:
            raise ValueError(f"record {self.id}: {sorted(both)} both in countries and partners")
        return self

    def pairs(self) -> list[frozenset[str]]:
        """Every unordered pair of states this record links."""
        inner = [frozenset((a, b)) for i, a in enumerate(self.countries) for b in self.countries[i + 1 :]]
        return inner + [frozenset((a, b)) for a in self.countries for b in self.partners]


class Gap(Strict):
    """A pair we know the rules do not cover yet; the note (with ``{other}``) explains it."""

    id: str = Field(min_length=3)
    countries: Countries = Field(min_length=1)
    partners: Countries = Field(min_length=1)
    note: str = Field(min_length=10)
    citation: Citation


class Completeness(Strict):
    """A statement that the file lists every agreement of ``country``: absence means none."""

    country: CountryCode
    citation: Citation


class Regime(Strict):
    """One data file: a regime or a set of agreements, ranked by ``precedence`` (lower wins)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    precedence: int = Field(ge=0)
    note: str
    complete_for: tuple[Completeness, ...]
    gaps: tuple[Gap, ...]
    records: tuple[Record, ...] = Field(min_length=1)


class Policy(Strict):
    """coverwatch's own choices (not law), such as how early to ask for a certificate."""

    note: str = Field(min_length=10)
    lead_days: dict[DocumentType, int]
    last_reviewed_on: date

    @model_validator(mode="after")
    def _every_document(self) -> Self:
        missing = set(DocumentType) - set(self.lead_days)
        if missing:
            raise ValueError(f"lead_days lacks {sorted(d.value for d in missing)}")
        return self
