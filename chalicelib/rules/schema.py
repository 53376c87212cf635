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
    """Base for rules data: unknown keys are errors, values are not coerced, objects are immutable.

    ``defer_build``: validators are built when the rulebook is first loaded, not on import.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


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
    in_force_since: date | None
    """First day the instrument applies; null only for a signed agreement whose start is not yet known."""
    in_force_until: date | None = None
    """Last day it applied (inclusive) when a later record for the same pair replaced it; null = still."""
    status: Literal["in_force", "signed"] = "in_force"
    """"signed": concluded but not yet in force; the engine never applies it and says when it starts."""
    signed_on: date | None = None
    max_posting_months: int | None = Field(ge=1)
    max_posting_verified: bool = True
    """False when the limit is a cautious stand-in not read in the agreement: a longer posting is then
    sent for review instead of being declared over the limit."""
    document: DocumentType
    branches: tuple[Branch, ...] = Field(min_length=1)
    employment_types: tuple[EmploymentType, ...] = Field(min_length=1)
    personal_scope: PersonalScope
    beyond_max: str | None
    caveat: str | None
    document_names: dict[CountryCode, str] = Field(default_factory=dict)
    """The certificate's name as each side issues it, e.g. {"DE": "Entsendebescheinigung D/US 101"}."""
    citations: Citations
    last_reviewed_on: date

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.in_force_since is None and self.status != "signed":
            raise ValueError(f"record {self.id}: in_force_since may be null only for a signed agreement")
        if self.in_force_since and self.in_force_until and self.in_force_until < self.in_force_since:
            raise ValueError(f"record {self.id}: in_force_until is before in_force_since")
        return self

    @model_validator(mode="after")
    def _pairs_exist(self) -> Self:
        if len(self.countries) < 2 and not self.partners:
            raise ValueError(f"record {self.id}: needs two countries or at least one partner")
        both = set(self.countries) & set(self.partners)
        if both:
            raise ValueError(f"record {self.id}: {sorted(both)} both in countries and partners")
        return self

    def in_force_on(self, day: date) -> bool:
        """True when the instrument applies to work starting on ``day``."""
        return (
            self.status == "in_force"
            and self.in_force_since is not None
            and self.in_force_since <= day
            and (self.in_force_until is None or day <= self.in_force_until)
        )

    def not_in_force_reason(self, day: date) -> str:
        """Why the instrument does not apply on ``day`` (only meaningful when in_force_on is False)."""
        since = self.in_force_since.isoformat() if self.in_force_since else None
        if self.status == "signed":
            signed = f" on {self.signed_on.isoformat()}" if self.signed_on else ""
            start = f"enters into force on {since}" if since else "has no date of entry into force yet"
            return f"{self.title} was signed{signed} but is not in force: it {start}."
        if self.in_force_until is not None and day > self.in_force_until:
            return f"{self.title} applied only until {self.in_force_until.isoformat()}."
        return f"{self.title} applies only to trips starting on or after {since}."

    @property
    def effective_since(self) -> date:
        """The in-force date of a record that applies (never null for those)."""
        if self.in_force_since is None:
            raise ValueError(f"record {self.id} has no in-force date")
        return self.in_force_since

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
    """A statement that every bilateral agreement of ``country`` is in the rules: absence means none.

    ``partners`` is the official list (from ``citation``) of states with which ``country`` has an
    agreement, in force or signed, outside the EU/EEA/Swiss and UK-EU regimes. The loader checks it
    against the records of every file, so a claim of completeness cannot silently drift from the data.
    """

    country: CountryCode
    partners: Countries
    citation: Citation
    last_reviewed_on: date


class Regime(Strict):
    """One data file: a regime or a set of agreements, ranked by ``precedence`` (lower wins)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    precedence: int = Field(ge=0)
    note: str
    complete_for: tuple[Completeness, ...]
    gaps: tuple[Gap, ...]
    records: tuple[Record, ...] = Field(min_length=1)


class MultiStateHeuristic(Strict):
    """When coverwatch suggests one Art. 13 A1 instead of many Art. 12 A1s: thresholds, not law."""

    note: str = Field(min_length=10)
    min_states: int = Field(ge=2)
    """Distinct EU/EEA/Swiss states other than home with work trips in the window."""
    min_trips: int = Field(ge=1)
    """Work trips to those states in the window."""
    lookback_days: int = Field(ge=1)
    """How far before the decision date past trips count (trips ending on or after that day)."""
    lookahead_days: int = Field(ge=0)
    """How far after the decision date planned trips count (trips starting on or before that day)."""


class Policy(Strict):
    """coverwatch's own choices (not law), such as how early to ask for a certificate."""

    note: str = Field(min_length=10)
    lead_days: dict[DocumentType, int]
    """Default lead time per document, used where the home authority publishes no processing time."""
    multi_state: MultiStateHeuristic
    last_reviewed_on: date

    @model_validator(mode="after")
    def _every_document(self) -> Self:
        missing = set(DocumentType) - set(self.lead_days)
        if missing:
            raise ValueError(f"lead_days lacks {sorted(d.value for d in missing)}")
        return self


class Authority(Strict):
    """Where and how the employer applies for a document in one home country."""

    name: str = Field(min_length=3)
    how: str = Field(min_length=3)
    """Channel and form, e.g. "electronic A1 procedure from payroll software (DXA1)"."""
    processing_days: int | None = Field(ge=0)
    """Typical processing time in calendar days where an official source gives one; else null."""
    citation: Citation
    processing_citation: Citation | None

    @model_validator(mode="after")
    def _processing_is_cited(self) -> Self:
        if self.processing_days is not None and self.processing_citation is None:
            raise ValueError(f"{self.name}: processing_days needs a processing_citation")
        return self


class CountryAuthorities(Strict):
    country: CountryCode
    a1: Authority | None
    coc: Authority | None
    last_reviewed_on: date


class AuthoritiesFile(Strict):
    """``authorities.json``: the competent institution per home country and document."""

    note: str
    countries: tuple[CountryAuthorities, ...] = Field(min_length=1)


class DomesticPosition(Strict):
    """What a home country's own law says about staff working abroad where no instrument applies."""

    country: CountryCode
    summary: str = Field(min_length=20)
    home_coverage: Literal["continues", "conditional", "voluntary", "ends"]
    citation: Citation
    last_reviewed_on: date


class DomesticPositionsFile(Strict):
    """``domestic_positions.json``: the home-country positions and the host-side reminder."""

    note: str
    host_reminder: str = Field(min_length=20)
    positions: tuple[DomesticPosition, ...] = Field(min_length=1)


class MultiStateCitations(Strict):
    instrument: Citation
    """The article deciding the legislation for work in two or more states."""
    apply_to: Citation
    """The procedure: who applies where."""


class MultiStateRule(Strict):
    """``eu_art13.json``: the legal facts behind the "one A1 for several states" suggestion."""

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[A-Za-z0-9_]+)+$")
    rule_id: str = Field(min_length=3)
    title: str = Field(min_length=5)
    article: str = Field(min_length=3)
    regime: str = Field(pattern=r"^[a-z0-9_]+$")
    """The regime whose states count (its records must apply to each trip for it to count)."""
    in_force_since: date
    document: DocumentType
    determination: str = Field(min_length=20)
    """Which state's legislation then applies, in plain words."""
    apply_to: str = Field(min_length=20)
    """Where the employer or employee applies, in plain words."""
    citations: MultiStateCitations
    last_reviewed_on: date
