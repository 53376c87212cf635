"""The "one A1 for several states" suggestion (Art. 13 of Reg. 883/2004) from an employee's trips.

Someone who normally works in two or more EU/EEA/Swiss states needs one A1 under Art. 13, issued
after the institution of the state of residence has determined the applicable legislation (Art. 16
of Reg. 987/2009), rather than one Art. 12 posting A1 per trip. Whether someone "normally" works in
several states is a legal judgement; coverwatch only notices a pattern in the trips, with thresholds
kept as data in ``policy.json`` (a heuristic, said so in the note) and the legal facts with their
citations in ``eu_art13.json``. A trip counts when it is (or may be) work and the posting rules of the
same regime would apply to it, so the personal scope (nationality, residence) is respected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from chalicelib.models import Employee, Instrument, MultiStateSuggestion, Purpose, Trip
from chalicelib.rules.facts import apply_plan, name
from chalicelib.rules.rulebook import Rulebook, load_rulebook
from chalicelib.rules.selection import select

WORK = (Purpose.WORK, Purpose.UNKNOWN)


def suggest_multi_state(
    history: Sequence[Trip],
    employee: Employee,
    decided_on: date,
    *,
    rulebook: Rulebook | None = None,
) -> MultiStateSuggestion | None:
    """A suggestion of one Art. 13 A1 when the trips show regular work in several states, else None."""
    book = rulebook or load_rulebook()
    rule = book.multi_state
    if rule is None:
        return None
    policy = book.policy.multi_state
    first = decided_on - timedelta(days=policy.lookback_days)
    last = decided_on + timedelta(days=policy.lookahead_days)
    states: list[str] = []
    counted = 0
    for trip in sorted(history, key=lambda t: (t.start, t.country)):
        if trip.cancelled or trip.purpose not in WORK or trip.country == employee.home_country:
            continue
        if trip.end < first or trip.start > last or trip.start < rule.in_force_since:
            continue
        sel = select(book, trip, employee)
        if sel.match is None or sel.match.regime.id != rule.regime:
            continue
        counted += 1
        if trip.country not in states:
            states.append(trip.country)
    if len(states) < policy.min_states or counted < policy.min_trips:
        return None
    residence = employee.residence_country
    plan = apply_plan(book, residence, rule.document)
    where = ", ".join(name(s) for s in states)
    explanation = (
        f"{counted} work trips to {len(states)} states ({where}) between {first.isoformat()} and "
        f"{last.isoformat()} suggest that the employee normally works in several states. Under "
        f"{rule.article} of {rule.title} ({rule.citations.instrument.url}): {rule.determination} "
        f"Apply to {rule.apply_to} ({rule.citations.apply_to.title}, {rule.citations.apply_to.url}), "
        f"here {name(residence)}, instead of applying for one posting A1 per trip. "
        f"This is a suggestion from coverwatch's thresholds ({policy.min_states} states, "
        f"{policy.min_trips} trips), not a legal finding: {policy.note}"
    )
    checklist = [
        f"Ask the institution in {name(residence)} (the state of residence) for a determination under "
        f"{rule.article} of {rule.title} and one A1 for the work in {where}.",
        "Until it is issued, keep applying for a posting A1 for each trip.",
    ]
    if plan.authority is not None:
        checklist.insert(1, f"In {name(residence)}: {plan.authority.name} — {plan.authority.how}.")
    return MultiStateSuggestion(
        rule_ids=(rule.rule_id, "multi_state.threshold_met"),
        document=rule.document,
        instrument=Instrument(
            id=rule.id,
            title=rule.title,
            article=rule.article,
            in_force_since=rule.in_force_since,
            source=rule.citations.instrument.url,
        ),
        states=tuple(states),
        trips=counted,
        window_start=first,
        window_end=last,
        apply_in=residence,
        authority=plan.authority,
        explanation=explanation,
        checklist=tuple(checklist),
        decided_on=decided_on,
    )
