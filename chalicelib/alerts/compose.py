"""HR's messages about one trip: the alert, its reminders and escalation, and the all-clear.

Each status HR must act on gets its own subject line (so mail rules can sort them) and its own words
(templates ``alert.*`` and ``resolved.*``). The alert's ``key`` names the trip and the facts HR acted
on (country, dates, status): a replayed scan produces the same key and therefore no second e-mail,
while a trip that moves, or whose status changes, produces a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.alerts.render import format_period, render, translate, translate_count
from chalicelib.countries import country_name
from chalicelib.models import Alert, AlertKind, Assessment, Employee, Language, Status, Trip

ALERTED = frozenset(
    {Status.CERTIFICATE_REQUIRED, Status.EXCEEDS_MAXIMUM, Status.NO_AGREEMENT, Status.NEEDS_REVIEW}
)
"""Statuses HR is told about: a certificate to get, a limit passed, no agreement, or a human decision."""


@dataclass(frozen=True)
class AlertFacts:
    employee: Employee
    trip: Trip
    assessment: Assessment
    moved_from: tuple[date, date] | None = None
    """The dates HR was told before, when the trip has moved since."""


def alert_key_prefix(trip: Trip) -> str:
    """What every HR alert about ``trip`` starts with, whatever its dates or status."""
    return f"{AlertKind.MISSING_CERTIFICATE.value}:{trip.id}:"


def alert_key(trip: Trip, assessment: Assessment) -> str:
    return (
        f"{AlertKind.MISSING_CERTIFICATE.value}:{trip.id}:{trip.country}:"
        f"{trip.start.isoformat()}:{trip.end.isoformat()}:{assessment.status.value}"
    )


def headline(facts: AlertFacts, language: Language = Language.EN) -> str:
    """The subject without its tag, e.g. "A1 missing: Anna Schmidt in France, 2027-03-03"."""
    a, trip = facts.assessment, facts.trip
    # scan never alerts a covered or not-required trip; if a caller does, it reads as one to review
    status = a.status if a.status in ALERTED else Status.NEEDS_REVIEW
    return translate(
        language,
        f"alert.headline.{status.value}",
        doc=a.document.value if a.document else translate(language, "alert.certificate"),
        name=facts.employee.name,
        country=country_name(trip.country, language),
        dates=format_period(trip.start, trip.end, language),
    )


def _compose(
    facts: AlertFacts,
    recipient: str,
    *,
    kind: AlertKind,
    key: str,
    subject: str,
    banner: str | None,
    language: Language,
) -> Alert:
    a, trip = facts.assessment, facts.trip
    # the days no certificate covers, unless that is simply the whole trip (no certificate at all)
    partly = [(p.start, p.end) for p in a.uncovered] != [(trip.start, trip.end)]
    text, html = render(
        "alert",
        language,
        headline=headline(facts, language),
        banner=banner,
        status=a.status.value if a.status in ALERTED else Status.NEEDS_REVIEW.value,
        employee=facts.employee,
        home=facts.employee.home_country,
        trip=trip,
        a=a,
        moved=facts.moved_from,
        uncovered=list(a.uncovered) if a.uncovered and partly else [],
    )
    return Alert(
        key=key,
        kind=kind,
        employee_id=facts.employee.id,
        trip_id=trip.id,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
    )


def build_alert(facts: AlertFacts, recipient: str, *, language: Language = Language.EN) -> Alert:
    """The first message HR gets about a trip it must act on, worded for the trip's status."""
    return _compose(
        facts,
        recipient,
        kind=AlertKind.MISSING_CERTIFICATE,
        key=alert_key(facts.trip, facts.assessment),
        subject=translate(language, "alert.subject", headline=headline(facts, language)),
        banner=None,
        language=language,
    )


def build_reminder(
    facts: AlertFacts,
    recipient: str,
    *,
    key: str,
    days_left: int,
    escalation: bool = False,
    language: Language = Language.EN,
) -> Alert:
    """The alert again as departure nears, with a banner saying how close it is (and, escalated, that
    nothing has been recorded yet), so a reader who skipped the first mail sees why it is back."""
    which = "escalation" if escalation else "reminder"
    return _compose(
        facts,
        recipient,
        kind=AlertKind.ESCALATION if escalation else AlertKind.REMINDER,
        key=key,
        subject=translate_count(language, f"{which}.subject", days_left, headline=headline(facts, language)),
        banner=translate_count(language, f"{which}.banner", days_left),
        language=language,
    )


def resolved_key(trip: Trip, reason: str) -> str:
    return f"resolved:{trip.id}:{trip.start.isoformat()}:{trip.end.isoformat()}:{reason}"


RESOLVED_REASONS = ("covered", "not_required", "cancelled")


def build_resolved(
    employee: Employee,
    trip: Trip,
    reason: str,
    recipient: str,
    *,
    moved_from: tuple[date, date] | None = None,
    language: Language = Language.EN,
) -> Alert:
    """The all-clear for a case HR was alerted about; a trip that moved says so, since a certificate
    applied for under the old dates may need amending even though nothing more is needed now."""
    if reason not in RESOLVED_REASONS:
        raise ValueError(f"unknown reason {reason!r}; one of {', '.join(RESOLVED_REASONS)}")
    title = translate(
        language,
        "resolved.headline",
        name=employee.name,
        country=country_name(trip.country, language),
        dates=format_period(trip.start, trip.end, language),
    )
    text, html = render(
        "resolved",
        language,
        headline=title,
        employee=employee,
        trip=trip,
        reason=reason,
        moved=moved_from,
    )
    return Alert(
        key=resolved_key(trip, reason),
        kind=AlertKind.RESOLVED,
        employee_id=employee.id,
        trip_id=trip.id,
        recipient=recipient,
        subject=translate(language, "resolved.subject", headline=title),
        text=text,
        html=html,
    )
