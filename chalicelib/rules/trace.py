"""Which rules fired for an assessment, and the citation of every fact each one used.

``coverwatch explain`` prints this so a reviewer can check an answer against its sources without
reading code: each rule id is mapped back to the data it came from (a record, a completeness claim, a
gap, an authority, a domestic position, coverwatch's policy) or, for coverwatch's own procedural
rules, to a sentence saying what the rule does.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models import Assessment, DocumentType
from chalicelib.rules.rulebook import Rulebook
from chalicelib.rules.schema import Citation, Record, ThirdCountryNationals

PROCEDURAL = {
    "domestic": "work in the home country needs no certificate",
    "purpose.holiday": "a holiday is no work, so no posting",
    "purpose.transit": "a transit is no work, so no posting",
    "purpose.unknown_treated_as_work": "a trip of unknown purpose is assessed as work, to be confirmed",
    "certificate.issued": "an issued certificate for the host covers every day of the trip",
    "certificate.combined": "several issued certificates together cover the trip",
    "certificate.partial": "issued certificates cover only part of the trip; the rest is uncovered",
    "certificate.applied_pending": "an application for the uncovered days is recorded as pending",
    "apply_by.passed": "the apply-by date is before the decision date: apply now",
    "posting.limit_unverified": "the trip runs past a posting limit coverwatch has not verified: review",
    "review.out_of_scope": "no instrument applies to this person or date; a human must review",
    "bilateral.not_in_rules": "the pair's bilateral agreements are not in coverwatch's data",
    "agreement.signed_not_in_force": "a signed agreement is never applied before it is in force",
    "authority.not_in_data": "no competent institution recorded for the home: ask the home institution",
    "domestic_position.unknown": "the home country's own rules for work abroad are not in the data",
    "host.may_claim_contributions": "without an agreement the host may still claim contributions",
    "multi_state.threshold_met": "coverwatch's multi-state heuristic (policy.json) is met",
}


@dataclass(frozen=True)
class Fact:
    name: str
    value: str
    citation: Citation | None
    """None for coverwatch's own policy, which is not law."""


@dataclass(frozen=True)
class Fired:
    rule_id: str
    meaning: str
    facts: tuple[Fact, ...] = ()


def _record_facts(record: Record, home: str, exceeded: bool) -> tuple[Fact, ...]:
    c = record.citations
    since = record.in_force_since.isoformat() if record.in_force_since else "not yet known"
    until = f" until {record.in_force_until.isoformat()}" if record.in_force_until else ""
    months = f"{record.max_posting_months} months" if record.max_posting_months else "no fixed limit"
    doc = record.document.value + (
        f" ({record.document_names[home]})" if home in record.document_names else ""
    )
    scope = record.personal_scope
    who = (
        "any nationality" if scope.nationals_of is None else f"nationals of {len(scope.nationals_of)} states"
    )
    if scope.residence_in is not None:
        who += f", resident in {', '.join(scope.residence_in)}"
    facts = [
        Fact("instrument", f"{record.title}, {record.article}", c.instrument),
        Fact("in force", f"since {since}{until}", c.in_force_since),
        Fact(
            "max period",
            months if record.max_posting_verified else f"{months} (not verified)",
            c.max_posting_months,
        ),
        Fact("document", doc, c.document),
        Fact("branches", ", ".join(record.branches), c.branches),
        Fact("scope", f"{who}; {', '.join(e.value for e in record.employment_types)}", c.personal_scope),
    ]
    if exceeded and record.beyond_max:
        facts.append(Fact("beyond the limit", record.beyond_max, c.beyond_max))
    return tuple(facts)


def _tcn(book: Rulebook, tcn_id: str) -> ThirdCountryNationals | None:
    for regime in book.regimes:
        for record in regime.records:
            tcn = record.personal_scope.third_country_nationals
            if tcn is not None and tcn.id == tcn_id:
                return tcn
    return None


def _record_rule(book: Rulebook, rule: str) -> Fired | None:
    """Rules named after a record id: '<record>.not_in_force', '<record>.personal_scope...', ..."""
    for regime in book.regimes:
        for record in regime.records:
            if not rule.startswith(record.id + "."):
                continue
            rest = rule[len(record.id) + 1 :]
            c = record.citations
            if rest == "not_in_force":
                signed = f", signed on {record.signed_on.isoformat()}" if record.signed_on else ""
                since = record.in_force_since.isoformat() if record.in_force_since else "not yet known"
                until = f" until {record.in_force_until.isoformat()}" if record.in_force_until else ""
                state = "signed, not in force" if record.status == "signed" else "applies"
                value = f"{state}{signed}; from {since}{until}"
                return Fired(
                    rule,
                    f"{record.title} did not apply on the first day",
                    (Fact("in force", value, c.in_force_since),),
                )
            if rest.startswith(("personal_scope", "employment_type")):
                return Fired(
                    rule,
                    f"the employee is outside the personal scope of {record.title}",
                    (Fact("scope", rest.replace(".", " ").replace("_", " "), c.personal_scope),),
                )
    return None


def _data_rule(book: Rulebook, rule: str) -> Fired | None:
    head, _, tail = rule.partition(".")
    if head == "no_agreement":
        claim = book.completeness(tail, tail)
        if claim is not None:
            value = f"{len(claim.partners)} partners, reviewed {claim.last_reviewed_on.isoformat()}"
            return Fired(
                rule,
                f"the complete list of {tail}'s agreements has no agreement for this pair",
                (Fact("complete list", value, claim.citation),),
            )
    if head == "domestic_position":
        position = book.domestic_position(tail)
        if position is not None:
            return Fired(
                rule,
                f"{tail}'s own law where no agreement applies",
                (Fact("home coverage", position.home_coverage, position.citation),),
            )
    if head == "authority":
        country, _, doc = tail.partition(".")
        found = book.authority(country, DocumentType(doc)) if doc in {"A1", "CoC"} else None
        if found is not None:
            return Fired(
                rule,
                f"the institution in {country} that issues the {doc}",
                (Fact("authority", found.name, found.citation),),
            )
    for regime in book.regimes:
        for gap in regime.gaps:
            if gap.id == rule:
                return Fired(rule, "a known gap in coverwatch's data", (Fact("gap", gap.note, gap.citation),))
    return None


def trace(assessment: Assessment, book: Rulebook, home: str) -> list[Fired]:
    """Every rule id of ``assessment``, in order, with what it means and the facts it used."""
    record = book.record(assessment.instrument.id) if assessment.instrument else None
    out: list[Fired] = []
    for rule in assessment.rule_ids:
        if record is not None and rule == record.rule_id:
            out.append(
                Fired(
                    rule, f"posting under {record.title}", _record_facts(record, home, assessment.exceeds_max)
                )
            )
            continue
        if rule == "posting.exceeds_maximum" and record is not None:
            facts = (Fact("beyond the limit", record.beyond_max or "-", record.citations.beyond_max),)
            out.append(Fired(rule, "the trip runs past the maximum posting period", facts))
            continue
        if rule == "apply_by.authority_processing_time" and assessment.document is not None:
            found = book.authority(home, assessment.document)
            if found is not None and found.processing_citation is not None:
                fact = Fact("processing time", f"{found.processing_days} days", found.processing_citation)
                out.append(
                    Fired(rule, "apply-by = first uncovered day − the institution's processing time", (fact,))
                )
                continue
        if rule == "apply_by.policy_default" and assessment.document is not None:
            days = book.policy.lead_days[assessment.document]
            fact = Fact("lead time", f"{days} days (coverwatch policy, policy.json: not law)", None)
            out.append(
                Fired(rule, "apply-by = first uncovered day − coverwatch's default lead time", (fact,))
            )
            continue
        tcn = _tcn(book, rule.removesuffix(".not_applicable"))
        if tcn is not None:
            fact = Fact("extension", f"{tcn.title}, from {tcn.in_force_since.isoformat()}", tcn.citation)
            applied = not rule.endswith(".not_applicable")
            meaning = "personal scope extended to other nationals" if applied else "extension does not apply"
            out.append(Fired(rule, meaning, (fact,)))
            continue
        found_rule = _record_rule(book, rule) or _data_rule(book, rule)
        if found_rule is not None:
            out.append(found_rule)
            continue
        out.append(Fired(rule, PROCEDURAL.get(rule, "coverwatch rule")))
    return out
