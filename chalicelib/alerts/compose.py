"""The HR alert for a trip that lacks a certificate: subject, plain text and HTML, from one set of facts.

The alert's ``key`` names the trip and the facts HR acted on (country, dates, status): a replayed scan
produces the same key and therefore no second e-mail, while a trip that moves produces a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from chalicelib.countries import country_name
from chalicelib.models import Alert, AlertKind, Assessment, Employee, Status, Trip


@dataclass(frozen=True)
class AlertFacts:
    employee: Employee
    trip: Trip
    assessment: Assessment
    moved_from: tuple[date, date] | None = None
    """The dates HR was told before, when the trip has moved since."""


def alert_key_prefix(trip: Trip) -> str:
    """What every missing-certificate alert about ``trip`` starts with, whatever its dates or status."""
    return f"{AlertKind.MISSING_CERTIFICATE.value}:{trip.id}:"


def alert_key(trip: Trip, assessment: Assessment) -> str:
    return (
        f"{AlertKind.MISSING_CERTIFICATE.value}:{trip.id}:{trip.country}:"
        f"{trip.start.isoformat()}:{trip.end.isoformat()}:{assessment.status.value}"
    )


def _dates(trip: Trip) -> str:
    return _period(trip.start, trip.end)


def _document(a: Assessment) -> str:
    if a.document is None:
        return "-"
    return f"{a.document.value} ({a.document_name})" if a.document_name else a.document.value


def _period(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"


def _subject(f: AlertFacts) -> str:
    doc = f.assessment.document.value if f.assessment.document else "Certificate"
    where = country_name(f.trip.country)
    if f.assessment.status is Status.EXCEEDS_MAXIMUM:
        return f"[coverwatch] {doc} posting too long: {f.employee.name} in {where}, {_dates(f.trip)}"
    return f"[coverwatch] {doc} missing: {f.employee.name} in {where}, {_dates(f.trip)}"


def _lines(f: AlertFacts) -> list[tuple[str, str]]:
    a = f.assessment
    rows = [
        ("Employee", f"{f.employee.name} ({f.employee.id})"),
        ("Destination", f"{country_name(f.trip.country)} ({f.trip.country})"),
        ("Dates", f"{_dates(f.trip)} ({f.trip.days} day{'s' if f.trip.days != 1 else ''})"),
        (
            "Purpose",
            f"{f.trip.purpose.value} (confidence {f.trip.confidence:.0%})"
            + (" — mixed work and holiday: the traveler is asked to confirm" if f.trip.confirm else ""),
        ),
        ("Document needed", _document(a)),
        ("Apply by", a.apply_by.isoformat() if a.apply_by else "-"),
    ]
    if a.authority:
        rows.append(("Apply to", f"{a.authority.name} — {a.authority.how}"))
    whole_trip = [(f.trip.start, f.trip.end)]
    if a.uncovered and [(p.start, p.end) for p in a.uncovered] != whole_trip:
        rows.append(("Days not covered", ", ".join(_period(p.start, p.end) for p in a.uncovered)))
    if a.instrument:
        rows.append(
            (
                "Legal basis",
                f"{a.instrument.title}, {a.instrument.article} "
                f"(in force since {a.instrument.in_force_since.isoformat()})",
            )
        )
        rows.append(("Source", a.instrument.source))
    if a.max_months is not None:
        rows.append(("Maximum posting", f"{a.max_months} months"))
    return rows


def _moved_note(facts: AlertFacts) -> str | None:
    if facts.moved_from is None:
        return None
    start, end = facts.moved_from
    before = start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"
    return (
        f"This trip has moved (it was {before}): a certificate applied for or issued for the old dates "
        "may need to be amended."
    )


def resolved_key(trip: Trip, reason: str) -> str:
    return f"resolved:{trip.id}:{trip.start.isoformat()}:{trip.end.isoformat()}:{reason}"


RESOLVED_WHY = {
    "covered": "a certificate is now on record for it",
    "not_required": "it no longer needs a certificate (for example, the traveler said it is a holiday)",
    "cancelled": "it was cancelled or is no longer in the traveler's calendar",
}


def build_resolved(employee: Employee, trip: Trip, reason: str, recipient: str) -> Alert:
    """The all-clear for a case HR was alerted about."""
    where, why = country_name(trip.country), RESOLVED_WHY[reason]
    text = (
        f"Resolved: {employee.name}'s trip to {where} ({_dates(trip)}) needs no further action, because "
        f"{why}.\n\nNo reply is needed."
    )
    html = f"<html><body style='font-family:sans-serif'><p>{escape(text.splitlines()[0])}</p></body></html>"
    return Alert(
        key=resolved_key(trip, reason),
        kind=AlertKind.RESOLVED,
        employee_id=employee.id,
        trip_id=trip.id,
        recipient=recipient,
        subject=f"[coverwatch] Resolved: {employee.name} in {where}, {_dates(trip)}",
        text=text,
        html=html,
    )


def build_alert(facts: AlertFacts, recipient: str) -> Alert:
    a = facts.assessment
    rows = _lines(facts)
    evidence = [
        f"{e.day.isoformat()}: {e.summary}" + (f" ({e.place})" if e.place else "")
        for e in facts.trip.evidence
    ]
    moved = _moved_note(facts)
    text = "\n".join(
        ["A planned work trip has no social-security certificate on record.", *([moved] if moved else []), ""]
        + [f"{k}: {v}" for k, v in rows]
        + ["", a.explanation, "", "What to do:"]
        + [f"- {c}" for c in a.checklist]
        + ["", "Why we think this trip happens:"]
        + [f"- {e}" for e in evidence]
        + ["", f"Decided on {a.decided_on.isoformat()} by coverwatch (rules: {', '.join(a.rule_ids)})."]
    )
    table = "".join(f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    html = (
        "<html><body style='font-family:sans-serif'>"
        "<p>A planned work trip has no social-security certificate on record.</p>"
        + (f"<p><strong>{escape(moved)}</strong></p>" if moved else "")
        + f"<table>{table}</table><p>{escape(a.explanation)}</p>"
        "<h3>What to do</h3><ul>" + "".join(f"<li>{escape(c)}</li>" for c in a.checklist) + "</ul>"
        "<h3>Why we think this trip happens</h3><ul>"
        + "".join(f"<li>{escape(e)}</li>" for e in evidence)
        + "</ul>"
        f"<p style='color:#666'>Decided on {a.decided_on.isoformat()} by coverwatch "
        f"(rules: {escape(', '.join(a.rule_ids))}).</p></body></html>"
    )
    return Alert(
        key=alert_key(facts.trip, a),
        kind=AlertKind.MISSING_CERTIFICATE,
        employee_id=facts.employee.id,
        trip_id=facts.trip.id,
        recipient=recipient,
        subject=_subject(facts),
        text=text,
        html=html,
    )
