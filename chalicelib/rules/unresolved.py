"""Answers for trips no instrument in the rulebook covers: "no_agreement" or "needs_review".

"no_agreement" is a legal claim, so it is only made where a data file declares its list complete for
one of the two states and no listed agreement was in force on the first day of the trip. Then the
answer also gives the home country's own position (``domestic_positions.json``) where it is known,
and the reminder that the host may still claim contributions. Everywhere else the honest answer is
"needs_review", with the reason.
"""

from __future__ import annotations

from datetime import date

from chalicelib.models import Assessment, Status, Trip
from chalicelib.rules import explain
from chalicelib.rules.facts import name
from chalicelib.rules.rulebook import BILATERAL, Rulebook
from chalicelib.rules.schema import Completeness
from chalicelib.rules.selection import Selection


def _signed_items(rulebook: Rulebook, trip: Trip, home: str) -> tuple[str, ...]:
    """A checklist line for each signed agreement of the pair whose start date is known."""
    items = []
    for match in rulebook.matches(home, trip.country):
        record = match.record
        if record.status == "signed" and record.in_force_since is not None:
            items.append(
                f"{record.title} is signed but not yet in force: check again for trips starting on or "
                f"after {record.in_force_since.isoformat()}, when it is due to apply."
            )
    return tuple(items)


def _claims(rulebook: Rulebook, home: str, host: str) -> list[Completeness]:
    """The completeness claims that prove a pair has no agreement, or none when they cannot.

    A claim lists bilateral agreements only (outside the EU/EEA/Swiss and UK-EU regimes), so it proves
    nothing for a pair a multilateral regime links: before that regime applied, other rules (such as
    Reg. 1408/71 or the Brexit transition) did, and they are not in the data.
    """
    if any(m.regime.precedence < BILATERAL for m in rulebook.matches(home, host)):
        return []
    if rulebook.gap(home, host) is not None:  # a known instrument we do not model (e.g. Mercosur)
        return []
    return [
        claim for regime in rulebook.regimes for claim in regime.complete_for if claim.country in (home, host)
    ]


def _no_agreement(
    rulebook: Rulebook,
    sel: Selection,
    trip: Trip,
    home: str,
    decided_on: date,
    *,
    claims: list[Completeness],
) -> Assessment:
    host = trip.country
    rules = [*sel.rule_ids, *(f"no_agreement.{c.country}" for c in claims)]
    lists = " and ".join(f"of {name(c.country)} ({c.citation.title}, {c.citation.url})" for c in claims)
    text = (
        f"{explain.stay(trip)}: no social-security agreement between {name(home)} and "
        f"{name(host)} was in force on {trip.start.isoformat()}, according to the complete "
        f"official list{'s' if len(claims) > 1 else ''} of agreements {lists}."
    )
    if sel.reasons:
        text += " " + " ".join(sel.reasons)
    position = rulebook.domestic_position(home)
    if position is not None:
        rules.append(f"domestic_position.{home}")
        text += explain.domestic(home, position.summary, position.citation.title, position.citation.url)
    else:
        rules.append("domestic_position.unknown")
        text += explain.domestic(home, None, None, None)
    reminder = rulebook.domestic_positions.host_reminder if rulebook.domestic_positions else None
    text += " " + (reminder or explain.HOST_REMINDER)
    return Assessment(
        status=Status.NO_AGREEMENT,
        explanation=text,
        checklist=(explain.NO_CERTIFICATE, *_signed_items(rulebook, trip, home), explain.HEALTH),
        rule_ids=(*rules, "host.may_claim_contributions"),
        decided_on=decided_on,
    )


def unresolved(rulebook: Rulebook, sel: Selection, trip: Trip, home: str, decided_on: date) -> Assessment:
    """No record applies: "no_agreement" only where a complete list proves it, else "needs_review"."""
    host = trip.country
    claims = _claims(rulebook, home, host) if sel.only_not_in_force else []
    if claims:
        return _no_agreement(rulebook, sel, trip, home, decided_on, claims=claims)
    reasons = " ".join(sel.reasons)
    gap = rulebook.gap(home, host)
    if reasons:
        later = any(m.record.status == "in_force" for m in rulebook.matches(home, host))
        if sel.only_not_in_force and later:
            reasons += " The rules that applied before that date are not in coverwatch's data."
        text, rule = f"{explain.stay(trip)} needs review: {reasons}", "review.out_of_scope"
    elif gap is not None:
        note = gap[0].note.format(other=name(gap[1]))
        text, rule = f"{explain.stay(trip)} needs review: {note}.", gap[0].id
    else:
        text = (
            f"{explain.stay(trip)} needs review: coverwatch's rules do not yet include "
            f"{name(home)}'s bilateral social-security agreements, so we cannot tell whether one "
            f"covers work in {name(host)}."
        )
        rule = "bilateral.not_in_rules"
    return Assessment(
        status=Status.NEEDS_REVIEW,
        explanation=text,
        checklist=(explain.REVIEW, *_signed_items(rulebook, trip, home), explain.HEALTH),
        rule_ids=(*sel.rule_ids, rule),
        decided_on=decided_on,
    )
