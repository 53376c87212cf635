"""Finds the one instrument that applies to a trip, or says precisely why none does.

Records are tried in precedence order (EU/EEA/Swiss regulations before the UK-EU agreement before
bilateral agreements), so the regulation wins between states it binds. A record is skipped when it
was not yet in force on the first day of the trip or the employee is outside its personal scope;
each skip leaves a reason and a rule id, so a "needs review" answer always says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.countries import country_name
from chalicelib.models import Employee, Trip
from chalicelib.rules.rulebook import Match, Rulebook
from chalicelib.rules.schema import Record

SIGNED_NOT_IN_FORCE = "agreement.signed_not_in_force"


@dataclass(frozen=True)
class Selection:
    """The applicable record (if any), the reasons others were skipped, and the rules that fired."""

    match: Match | None
    reasons: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    scope_note: str = ""
    only_not_in_force: bool = False


@dataclass
class _Check:
    reasons: list[str] = field(default_factory=list)
    rule_ids: list[str] = field(default_factory=list)
    note: str = ""


def _nationality(record: Record, employee: Employee, trip: Trip, check: _Check) -> bool:
    scope = record.personal_scope
    if scope.nationals_of is None or set(employee.nationalities) & set(scope.nationals_of):
        return True
    tcn = scope.third_country_nationals
    home, host, res = employee.home_country, trip.country, employee.residence_country
    nats = ", ".join(country_name(n) for n in employee.nationalities)
    why = f"{record.title} covers nationals of the states it binds, and the employee is a national of {nats}"
    if tcn is None:
        check.reasons.append(f"{why}; no extension to other nationals applies between these states.")
    elif trip.start < tcn.in_force_since:
        check.reasons.append(f"{why}; {tcn.title} only extends it from {tcn.in_force_since.isoformat()}.")
    elif home not in tcn.countries or host not in tcn.countries:
        outside = country_name(host if host not in tcn.countries else home)
        check.reasons.append(f"{why}; {tcn.title} extends it to other nationals, but not for {outside}.")
    elif res not in tcn.residence_in:
        check.reasons.append(f"{why}; {tcn.title} needs legal residence in a state it binds.")
    else:
        check.rule_ids.append(tcn.id)
        check.note = (
            f" (as a national of {nats} legally resident in {country_name(res)}, through {tcn.title})"
        )
        return True
    check.rule_ids.append(f"{record.id}.personal_scope.not_met")
    if tcn is not None:
        check.rule_ids.append(f"{tcn.id}.not_applicable")
    return False


def _in_scope(record: Record, employee: Employee, trip: Trip, check: _Check) -> bool:
    kind = employee.employment_type
    if kind not in record.employment_types:
        check.reasons.append(
            f"coverwatch does not model {kind.value.replace('_', ' ')}s under {record.title}."
        )
        check.rule_ids.append(f"{record.id}.employment_type.{kind.value}")
        return False
    residence = record.personal_scope.residence_in
    if residence is not None and employee.residence_country not in residence:
        check.reasons.append(
            f"{record.title} covers people legally resident in the states it binds, "
            f"and the employee lives in {country_name(employee.residence_country)}."
        )
        check.rule_ids.append(f"{record.id}.personal_scope.residence")
        return False
    return _nationality(record, employee, trip, check)


def select(rulebook: Rulebook, trip: Trip, employee: Employee) -> Selection:
    """The first record, by precedence, in force on ``trip.start`` whose personal scope fits."""
    check = _Check()
    in_force_seen = False
    for match in rulebook.matches(employee.home_country, trip.country):
        record = match.record
        if not record.in_force_on(trip.start):
            check.reasons.append(record.not_in_force_reason(trip.start))
            check.rule_ids.append(f"{record.id}.not_in_force")
            if record.status == "signed":
                check.rule_ids.append(SIGNED_NOT_IN_FORCE)
            continue
        in_force_seen = True
        if _in_scope(record, employee, trip, check):
            return Selection(match, tuple(check.reasons), tuple(check.rule_ids), check.note)
    return Selection(None, tuple(check.reasons), tuple(check.rule_ids), "", not in_force_seen)
