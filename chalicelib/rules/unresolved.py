"""Answers for trips no instrument in the rulebook covers: "no_agreement" or "needs_review".

"no_agreement" is a legal claim, so it is only made where a data file declares its list complete for
one of the two states (the SSA list for the US) and no listed agreement was in force on the first
day of the trip. Everywhere else the honest answer is "needs_review", with the reason.
"""

from __future__ import annotations

from datetime import date

from chalicelib.countries import country_name
from chalicelib.models import Assessment, Status, Trip
from chalicelib.rules import explain
from chalicelib.rules.rulebook import Rulebook
from chalicelib.rules.selection import Selection


def unresolved(rulebook: Rulebook, sel: Selection, trip: Trip, home: str, decided_on: date) -> Assessment:
    """No record applies: "no_agreement" only where a complete list proves it, else "needs_review"."""
    host = trip.country
    reasons = " ".join(sel.reasons)
    complete = rulebook.completeness(home, host)
    if complete is not None and sel.only_not_in_force:
        side = country_name(complete.country)
        text = (
            f"{explain.stay(trip)}: no social-security agreement between {country_name(home)} and "
            f"{country_name(host)} was in force on {trip.start.isoformat()}, according to the complete "
            f"official list of agreements of {side} ({complete.citation.title}, {complete.citation.url}). "
            f"{reasons}"
        )
        checklist = (
            "No certificate exists: ask payroll about contributions in both countries.",
            explain.HEALTH,
        )
        return Assessment(
            status=Status.NO_AGREEMENT,
            explanation=text.strip(),
            checklist=checklist,
            rule_ids=(*sel.rule_ids, f"no_agreement.{complete.country}"),
            decided_on=decided_on,
        )
    gap = rulebook.gap(home, host)
    if reasons:
        if sel.only_not_in_force:
            reasons += " The rules that applied before that date are not in coverwatch's data."
        text, rule = f"{explain.stay(trip)} needs review: {reasons}", "review.out_of_scope"
    elif gap is not None:
        note = gap[0].note.format(other=country_name(gap[1]))
        text, rule = f"{explain.stay(trip)} needs review: {note}.", gap[0].id
    else:
        text = (
            f"{explain.stay(trip)} needs review: coverwatch's rules do not yet include "
            f"{country_name(home)}'s bilateral social-security agreements, so we cannot tell whether one "
            f"covers work in {country_name(host)}."
        )
        rule = "bilateral.not_in_rules"
    return Assessment(
        status=Status.NEEDS_REVIEW,
        explanation=text,
        checklist=(explain.REVIEW, explain.HEALTH),
        rule_ids=(*sel.rule_ids, rule),
        decided_on=decided_on,
    )
