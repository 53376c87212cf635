"""Plain-language sentences and checklist items for assessments, kept apart from the decision logic.

A traveler or an HR person reads these, so they name the instrument, the article, the dates and the
limit, and say what to do next. Nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import get_args

from chalicelib.models import Certificate, DocumentType, Period, Trip
from chalicelib.rules.facts import ApplyPlan, capital, name
from chalicelib.rules.periods import describe
from chalicelib.rules.schema import Branch, Record

HEALTH = (
    "An A1 or a certificate of coverage is not health insurance: make sure travel health cover is in place."
)
CONFIRM_WORK = (
    "Confirm this is a work trip; if it is a holiday or only a transit, mark it so: "
    "then no certificate is needed."
)
REVIEW = "Ask HR to review this trip before it starts."
NO_CERTIFICATE = "No certificate exists: ask payroll about contributions in both countries."
HOST_REMINDER = (
    "No agreement applies between these countries, so the host country may still claim "
    "social-security contributions under its own law."
)
ALL_BRANCHES: tuple[str, ...] = get_args(Branch)

_DOC_NAME = {DocumentType.A1: "an A1 certificate", DocumentType.COC: "a certificate of coverage"}


def stay(trip: Trip) -> str:
    where = f"Work in {name(trip.country)}"
    if trip.start == trip.end:
        return f"{where} on {trip.start.isoformat()}"
    return f"{where} from {trip.start.isoformat()} to {trip.end.isoformat()}"


def limit(record: Record) -> str:
    months = record.max_posting_months
    return f"up to {months} months" if months else "no fixed time limit"


_MEMO: dict[tuple[object, ...], tuple[Record, object]] = {}
"""Sentences that depend only on a record (and a few codes), keyed by the record's identity; the
record is kept in the value so its id cannot be reused while the entry exists."""


def _memo(record: Record, *key: object) -> object | None:
    hit = _MEMO.get((id(record), *key))
    return hit[1] if hit is not None and hit[0] is record else None


def _posting(record: Record, scope_note: str) -> str:
    found = _memo(record, "posting", scope_note)
    if isinstance(found, str):
        return found
    article = record.article if record.article.startswith("Art") else f"the {record.article}"
    text = (
        f" is a posting under {article} of {record.title} "
        f"(applicable since {record.effective_since.isoformat()}, {limit(record)}){scope_note}"
    )
    _MEMO[(id(record), "posting", scope_note)] = (record, text)
    return text


def basis(record: Record, trip: Trip, scope_note: str) -> str:
    """'Work in X from A to B is a posting under Art. n of T (applicable since D, up to N months)'."""
    return stay(trip) + _posting(record, scope_note)


def _certs(certs: Sequence[Certificate]) -> str:
    ids = [c.id for c in certs]
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + f" and {ids[-1]}"


def covered(doc: DocumentType, home: str, issued: Sequence[Certificate]) -> str:
    if len(issued) == 1:
        return f", and {doc.value} certificate {issued[0].id} from {name(home)} covers the whole stay."
    return f", and {doc.value} certificates {_certs(issued)} from {name(home)} together cover the whole stay."


def partial(doc: DocumentType, issued: Sequence[Certificate], uncovered: Sequence[Period]) -> str:
    noun = "certificate" if len(issued) == 1 else "certificates"
    return (
        f" {doc.value} {noun} {_certs(issued)} cover{'s' if len(issued) == 1 else ''} only part of the stay: "
        f"{describe(uncovered)} {'is' if len(uncovered) == 1 and uncovered[0].days == 1 else 'are'} "
        "not covered."
    )


def required(
    record: Record,
    home: str,
    *,
    apply_by: date,
    decided_on: date,
    pending: Certificate | None,
    plan: ApplyPlan,
    partly: str = "",
) -> str:
    """': an A1 from X proves ...' then the uncovered days (``partly``), then when to apply."""
    doc = _DOC_NAME[record.document]
    text = f": {doc} from {name(home)} proves the employee stays insured there.{partly}"
    if pending is not None:
        ref = pending.reference or pending.id
        return text + f" An application is pending (reference {ref}); make sure it is issued before the trip."
    if apply_by < decided_on:
        return text + (f" Apply now: the apply-by date {apply_by.isoformat()} has passed ({plan.lead_note}).")
    return text + f" Apply by {apply_by.isoformat()}: {plan.lead_note}."


def over_limit(record: Record, last_day: date) -> str:
    route = f" {record.beyond_max}" if record.beyond_max else ""
    months = record.max_posting_months
    return f", but it runs past {last_day.isoformat()}, the last day of the {months}-month limit.{route}"


def unverified_limit(record: Record, last_day: date) -> str:
    months = record.max_posting_months
    return (
        f", and it runs past {last_day.isoformat()}, the last day of a {months}-month limit that coverwatch "
        "has not verified in the agreement's text: the real limit may be longer. Check it with the home "
        "institution before deciding whether the agreement covers the whole posting."
    )


def apply_item(record: Record, home: str, plan: ApplyPlan) -> str:
    doc = record.document.value
    local = record.document_names.get(home)
    what = f"the {doc} ({local})" if local else f"the {doc}"
    if plan.authority is not None:
        a = plan.authority
        return f"Apply for {what} with {a.name}: {a.how} ({a.source}). {capital(plan.lead_note)}."
    return (
        f"Apply for {what} with the social-security institution in {name(home)} where the employee is "
        "insured (coverwatch does not list the competent office yet: ask that institution which office "
        f"issues it). {capital(plan.lead_note)}."
    )


def work_checklist(record: Record, home: str, host: str, plan: ApplyPlan) -> list[str]:
    """The to-do list for a trip that needs a document (a fresh list: callers may change it)."""
    found = _memo(record, "checklist", home, host, plan)
    if isinstance(found, tuple):
        return list(found)
    items = _work_checklist(record, home, host, plan)
    _MEMO[(id(record), "checklist", home, host, plan)] = (record, items)
    return list(items)


def _work_checklist(record: Record, home: str, host: str, plan: ApplyPlan) -> tuple[str, ...]:
    doc = record.document.value
    items = [
        apply_item(record, home, plan),
        f"Carry a copy of the {doc} (paper or digital) during the trip.",
        HEALTH,
    ]
    others = [b for b in ALL_BRANCHES if b not in record.branches]
    if others:
        kept = ", ".join(b.replace("_", " ") for b in record.branches)
        due = ", ".join(b.replace("_", " ") for b in others)
        items.append(
            f"The {doc} covers only {kept}: contributions for {due} may still be due in {name(host)}; "
            "ask payroll how the other contributions are handled."
        )
    if record.caveat:
        items.append(record.caveat)
    return tuple(items)


def domestic(home: str, summary: str | None, title: str | None, url: str | None) -> str:
    if summary is None:
        return (
            f" coverwatch has no record of what {name(home)}'s own law says about work abroad: "
            "ask payroll whether home coverage continues."
        )
    return f" The home country's position ({name(home)}): {summary.rstrip('.')} ({title}, {url})."
