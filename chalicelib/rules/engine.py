"""The coverage decision for one trip: which instrument applies, and what the employee must carry.

Pure: the caller passes the decision date, so the same inputs always give the same Assessment, and
all legal facts come from the rulebook data, never from branches in this code. When the rules do not
know the answer, the result is "needs_review" with the reason, never a guessed "no agreement".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from chalicelib.countries import country_name
from chalicelib.models import (
    Assessment,
    Certificate,
    CertificateStatus,
    Employee,
    Instrument,
    Purpose,
    Status,
    Trip,
)
from chalicelib.rules import explain
from chalicelib.rules.months import exceeds, posting_last_day
from chalicelib.rules.rulebook import Rulebook, load_rulebook
from chalicelib.rules.selection import Selection, select
from chalicelib.rules.unresolved import unresolved


def _certificate(
    certificates: Sequence[Certificate], sel_doc: str, home: str, trip: Trip, status: CertificateStatus
) -> Certificate | None:
    for cert in certificates:
        if (
            cert.status is status
            and cert.document.value == sel_doc
            and cert.issuing_country == home
            and cert.covers(trip.country, trip.start, trip.end)
        ):
            return cert
    return None


def _applies(
    rulebook: Rulebook,
    sel: Selection,
    *,
    trip: Trip,
    home: str,
    certificates: Sequence[Certificate],
    decided_on: date,
) -> Assessment:
    assert sel.match is not None
    record = sel.match.record
    doc = record.document
    instrument = Instrument(
        id=record.id,
        title=record.title,
        article=record.article,
        in_force_since=record.effective_since,
        source=record.citations.instrument.url,
    )
    rules = [record.rule_id, *sel.rule_ids]
    over = exceeds(trip.start, trip.end, record.max_posting_months)
    base = explain.basis(record, trip, sel.scope_note)
    issued = _certificate(certificates, doc.value, home, trip, CertificateStatus.ISSUED)
    if issued is not None:
        origin = country_name(home)
        text = f"{base}, and {doc.value} certificate {issued.id} from {origin} covers the whole stay."
        carry = (f"Carry a copy of {doc.value} certificate {issued.id} during the trip.", explain.HEALTH)
        return Assessment(
            status=Status.COVERED,
            exceeds_max=over,
            explanation=text,
            checklist=carry,
            rule_ids=(*rules, "certificate.issued"),
            certificate_id=issued.id,
            decided_on=decided_on,
            document=doc,
            instrument=instrument,
            max_months=record.max_posting_months,
        )
    apply_by = trip.start - timedelta(days=rulebook.policy.lead_days[doc])
    checklist = explain.work_checklist(record, home)
    if over:
        assert record.max_posting_months is not None
        last_day = posting_last_day(trip.start, record.max_posting_months)
        text = base + explain.over_limit(record, last_day)
        status, rules = Status.EXCEEDS_MAXIMUM, [*rules, "posting.exceeds_maximum"]
        checklist.insert(0, "Ask the home institution about an exception before the posting starts.")
    else:
        pending = _certificate(certificates, doc.value, home, trip, CertificateStatus.APPLIED)
        text = base + explain.required(record, home, apply_by, decided_on, pending)
        status = Status.CERTIFICATE_REQUIRED
        if pending is not None:
            rules.append("certificate.applied_pending")
            checklist[0] = (
                f"Follow up the pending {doc.value} application ({pending.reference or pending.id})."
            )
    if apply_by < decided_on:
        rules.append("apply_by.passed")
    return Assessment(
        status=status,
        exceeds_max=over,
        apply_by=apply_by,
        explanation=text,
        checklist=tuple(checklist),
        rule_ids=tuple(rules),
        decided_on=decided_on,
        document=doc,
        instrument=instrument,
        max_months=record.max_posting_months,
    )


def _not_required(rule: str, text: str, decided_on: date) -> Assessment:
    return Assessment(
        status=Status.NOT_REQUIRED,
        explanation=text,
        checklist=(explain.HEALTH,),
        rule_ids=(rule,),
        decided_on=decided_on,
    )


def assess(
    trip: Trip,
    employee: Employee,
    certificates: Sequence[Certificate],
    decided_on: date,
    *,
    rulebook: Rulebook | None = None,
) -> Assessment:
    """Decide whether ``trip`` needs an A1 or certificate of coverage, and which instrument says so."""
    book = rulebook or load_rulebook()
    home = employee.home_country
    if trip.country == home:
        where = country_name(home)
        return _not_required(
            "domestic", f"The trip stays in {where}, where the employee is insured.", decided_on
        )
    if trip.purpose in (Purpose.HOLIDAY, Purpose.TRANSIT):
        where = country_name(trip.country)
        text = f"A {trip.purpose.value} in {where} is no work, so no posting and no certificate is needed."
        return _not_required(f"purpose.{trip.purpose.value}", text, decided_on)
    sel = select(book, trip, employee)
    if sel.match is not None:
        result = _applies(book, sel, trip=trip, home=home, certificates=certificates, decided_on=decided_on)
    else:
        result = unresolved(book, sel, trip, home, decided_on)
    if trip.purpose is Purpose.UNKNOWN:
        return result.model_copy(
            update={
                "checklist": (explain.CONFIRM_WORK, *result.checklist),
                "rule_ids": (*result.rule_ids, "purpose.unknown_treated_as_work"),
            }
        )
    return result
