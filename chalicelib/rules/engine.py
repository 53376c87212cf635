"""The coverage decision for one trip: which instrument applies, and what the employee must carry.

Pure: the caller passes the decision date, so the same inputs always give the same Assessment, and
all legal facts come from the rulebook data, never from branches in this code. When the rules do not
know the answer, the result is "needs_review" with the reason, never a guessed "no agreement".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from chalicelib.models import (
    Assessment,
    Certificate,
    CertificateStatus,
    Employee,
    Purpose,
    Status,
    Trip,
)
from chalicelib.rules import explain, facts, periods
from chalicelib.rules.months import exceeds, posting_last_day
from chalicelib.rules.rulebook import Rulebook, load_rulebook
from chalicelib.rules.selection import Selection, select
from chalicelib.rules.unresolved import unresolved


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
    plan = facts.apply_plan(rulebook, home, doc)
    common = {
        "document": doc,
        "instrument": facts.instrument(rulebook, record),
        "max_months": record.max_posting_months,
        "authority": plan.authority,
        "document_name": record.document_names.get(home),
        "branches": record.branches,
        "decided_on": decided_on,
    }
    rules = [record.rule_id, *sel.rule_ids, *plan.rule_ids]
    over = exceeds(trip.start, trip.end, record.max_posting_months)
    base = explain.basis(record, trip, sel.scope_note)

    def recorded(status: CertificateStatus) -> list[Certificate]:
        """The employee's certificates of this document, home and host with ``status`` on the trip."""
        if not certificates:
            return []
        return periods.relevant(
            certificates,
            document=doc,
            home=home,
            host=trip.country,
            status=status,
            start=trip.start,
            end=trip.end,
        )

    issued = recorded(CertificateStatus.ISSUED)
    uncovered = periods.gaps(trip.start, trip.end, issued)
    if not uncovered:
        carry = (f"Carry a copy of {doc.value} certificate {issued[0].id} during the trip.", explain.HEALTH)
        if len(issued) > 1:
            rules.append("certificate.combined")
            carry = (
                f"Carry copies of {doc.value} certificates {', '.join(c.id for c in issued)} on the trip.",
                explain.HEALTH,
            )
        return Assessment(
            status=Status.COVERED,
            exceeds_max=over,
            explanation=base + explain.covered(doc, home, issued),
            checklist=carry,
            rule_ids=(*rules, "certificate.issued"),
            certificate_id=issued[0].id,
            **common,
        )
    note = ""
    if issued:
        rules.append("certificate.partial")
        note = explain.partial(doc, issued, uncovered)
    apply_by = uncovered[0].start - timedelta(days=plan.lead_days)
    checklist = explain.work_checklist(record, home, trip.country, plan)
    if over and not record.max_posting_verified:
        assert record.max_posting_months is not None
        last_day = posting_last_day(trip.start, record.max_posting_months)
        text = base + explain.unverified_limit(record, last_day) + note
        status, rules = Status.NEEDS_REVIEW, [*rules, "posting.limit_unverified"]
        checklist.insert(0, "Check the agreement's posting limit with the home institution before applying.")
    elif over:
        assert record.max_posting_months is not None
        last_day = posting_last_day(trip.start, record.max_posting_months)
        text = base + explain.over_limit(record, last_day) + note
        status, rules = Status.EXCEEDS_MAXIMUM, [*rules, "posting.exceeds_maximum"]
        checklist.insert(0, "Ask the home institution about an exception before the posting starts.")
    else:
        applied = recorded(CertificateStatus.APPLIED)
        pending = applied[0] if applied and periods.within(uncovered, applied) else None
        text = base + explain.required(
            record, home, apply_by=apply_by, decided_on=decided_on, pending=pending, plan=plan, partly=note
        )
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
        uncovered=uncovered,
        **common,
    )


def _not_required(rule: str, text: str, decided_on: date) -> Assessment:
    return Assessment(
        status=Status.NOT_REQUIRED,
        explanation=text,
        checklist=(explain.HEALTH,),
        rule_ids=(rule,),
        decided_on=decided_on,
    )


def assess_journey(
    legs: Sequence[Trip],
    employee: Employee,
    certificates: Sequence[Certificate],
    decided_on: date,
    *,
    rulebook: Rulebook | None = None,
) -> list[Assessment]:
    """One decision per leg of a journey through several countries, in the order of ``legs``.

    Each host leg is its own posting (its own A1 or certificate of coverage); a leg in the home
    country is domestic and needs nothing.
    """
    book = rulebook or load_rulebook()
    return [assess(leg, employee, certificates, decided_on, rulebook=book) for leg in legs]


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
        where = facts.name(home)
        return _not_required(
            "domestic", f"The trip stays in {where}, where the employee is insured.", decided_on
        )
    if trip.purpose in (Purpose.HOLIDAY, Purpose.TRANSIT):
        where = facts.name(trip.country)
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
