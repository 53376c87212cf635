"""Values the engine derives from the rules data, computed once per rulebook and reused.

The rulebook never changes after loading, so the Instrument of a record, the lead time and authority
of a home country, and the checklist lines built from them are memoised on the rulebook: the engine
then builds no model and formats no citation twice for the same facts (see ``make bench``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.countries import country_name
from chalicelib.models import CompetentAuthority, DocumentType, Instrument
from chalicelib.rules.rulebook import Rulebook
from chalicelib.rules.schema import Record

RULE_PROCESSING_TIME = "apply_by.authority_processing_time"
RULE_POLICY_DEFAULT = "apply_by.policy_default"
RULE_AUTHORITY_UNKNOWN = "authority.not_in_data"


@lru_cache(maxsize=512)
def name(code: str) -> str:
    """The country's English name (cached: the engine asks for the same few names all the time)."""
    return country_name(code)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class ApplyPlan:
    """How and how early the employer applies for ``document`` in one home country."""

    document: DocumentType
    lead_days: int
    authority: CompetentAuthority | None
    lead_note: str
    """Why ``lead_days``: the authority's published processing time, or coverwatch's default."""
    rule_ids: tuple[str, ...]


def apply_plan(book: Rulebook, home: str, document: DocumentType) -> ApplyPlan:
    key = ("plan", home, document)
    plan: ApplyPlan | None = book.memo.get(key)
    if plan is not None:
        return plan
    found = book.authority(home, document)
    authority = None
    rules: list[str] = []
    if found is not None:
        authority = CompetentAuthority(name=found.name, how=found.how, source=found.citation.url)
        rules.append(f"authority.{home}.{document.value}")
    else:
        rules.append(RULE_AUTHORITY_UNKNOWN)
    # The larger of the institution's processing time and coverwatch's default: a fast institution
    # (e.g. 3 working days) must still leave HR time to notice the alert and file the request.
    default = book.policy.lead_days[document]
    processing = found.processing_days if found is not None and found.processing_citation else None
    if (
        found is not None
        and found.processing_citation is not None
        and processing is not None
        and processing > default
    ):
        days = processing
        note = f"{found.name} typically takes {days} days ({found.processing_citation.url})"
        rules.append(RULE_PROCESSING_TIME)
    else:
        days = default
        note = f"{days} days before the trip is coverwatch's default lead time for the {document.value}"
        if found is not None and found.processing_citation is not None and processing is not None:
            note += (
                f" ({found.name} typically takes {processing} days, {found.processing_citation.url}; "
                "the default leaves time to act on the alert)"
            )
        else:
            note += f", as no processing time of the institution in {name(home)} is recorded"
        rules.append(RULE_POLICY_DEFAULT)
    plan = ApplyPlan(document, days, authority, note, tuple(rules))
    book.memo[key] = plan
    return plan


def instrument(book: Rulebook, record: Record) -> Instrument:
    key = ("instrument", record.id)
    found: Instrument | None = book.memo.get(key)
    if found is None:
        found = Instrument(
            id=record.id,
            title=record.title,
            article=record.article,
            in_force_since=record.effective_since,
            source=record.citations.instrument.url,
        )
        book.memo[key] = found
    return found
