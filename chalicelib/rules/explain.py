"""Plain-language sentences and checklist items for assessments, kept apart from the decision logic.

A traveler or an HR person reads these, so they name the instrument, the article, the dates and the
limit, and say what to do next. Nothing here decides anything.
"""

from __future__ import annotations

from datetime import date

from chalicelib.countries import country_name
from chalicelib.models import Certificate, DocumentType, Trip
from chalicelib.rules.schema import Record

HEALTH = (
    "An A1 or a certificate of coverage is not health insurance: make sure travel health cover is in place."
)
CONFIRM_WORK = (
    "Confirm this is a work trip; if it is a holiday or only a transit, mark it so: "
    "then no certificate is needed."
)
REVIEW = "Ask HR to review this trip before it starts."

_DOC_NAME = {DocumentType.A1: "an A1 certificate", DocumentType.COC: "a certificate of coverage"}


def stay(trip: Trip) -> str:
    where = f"Work in {country_name(trip.country)}"
    if trip.start == trip.end:
        return f"{where} on {trip.start.isoformat()}"
    return f"{where} from {trip.start.isoformat()} to {trip.end.isoformat()}"


def limit(record: Record) -> str:
    months = record.max_posting_months
    return f"up to {months} months" if months else "no fixed time limit"


def basis(record: Record, trip: Trip, scope_note: str) -> str:
    """'Work in X from A to B is a posting under Art. n of T (applicable since D, up to N months)'."""
    article = record.article if record.article.startswith("Art") else f"the {record.article}"
    return (
        f"{stay(trip)} is a posting under {article} of {record.title} "
        f"(applicable since {record.effective_since.isoformat()}, {limit(record)}){scope_note}"
    )


def required(record: Record, home: str, apply_by: date, decided_on: date, pending: Certificate | None) -> str:
    doc = _DOC_NAME[record.document]
    text = f": {doc} from {country_name(home)} proves the employee stays insured there."
    if pending is not None:
        ref = pending.reference or pending.id
        return text + f" An application is pending (reference {ref}); make sure it is issued before the trip."
    if apply_by < decided_on:
        return text + f" Apply immediately: the apply-by date {apply_by.isoformat()} has passed."
    return text + f" Apply by {apply_by.isoformat()}."


def over_limit(record: Record, last_day: date) -> str:
    route = f" {record.beyond_max}" if record.beyond_max else ""
    months = record.max_posting_months
    return f", but it runs past {last_day.isoformat()}, the last day of the {months}-month limit.{route}"


def work_checklist(record: Record, home: str) -> list[str]:
    doc = record.document.value
    items = [
        f"Apply for the {doc} with the social-security institution in {country_name(home)} "
        "where the employee is insured.",
        f"Carry a copy of the {doc} (paper or digital) during the trip.",
        HEALTH,
    ]
    if set(record.branches) != {"pension", "health", "unemployment", "accident", "long_term_care", "family"}:
        items.append(
            f"The {doc} covers only {', '.join(b.replace('_', ' ') for b in record.branches)}: "
            "ask payroll how the other contributions are handled."
        )
    if record.caveat:
        items.append(record.caveat)
    return items
