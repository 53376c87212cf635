"""The daily digest for HR: every open case by urgency, what is new since yesterday, certificates that
end during a trip. Nothing is sent on a day with nothing new, unless the employer asks for a daily
mail anyway. One digest per day: its key is the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from chalicelib.alerts.notifier import send_once
from chalicelib.countries import country_name
from chalicelib.models import Alert, AlertKind
from chalicelib.scan import ScanDeps
from chalicelib.store.repository import StoredTrip

HORIZON_DAYS = 365
HR_INBOX = "_hr"
"""The pseudo-employee under which the digests' once-only claims are kept."""


@dataclass(frozen=True)
class Digest:
    open_cases: list[StoredTrip]
    """Sorted by urgency: days left to apply (overdue first), then departure."""
    new: list[StoredTrip]
    ending_during_trip: list[StoredTrip]


def collect(deps: ScanDeps) -> Digest:
    today = deps.decided_on
    cases = [
        s
        for s in deps.repo.trips_lacking_certificate(today, today + timedelta(days=HORIZON_DAYS))
        if s.trip.end >= today
    ]

    def urgency(s: StoredTrip) -> tuple[int, date]:
        apply_by = s.assessment.apply_by or s.trip.start
        return ((apply_by - today).days, s.trip.start)

    cases.sort(key=urgency)
    new = [s for s in cases if s.first_seen is not None and s.first_seen >= today - timedelta(days=1)]
    ending = [s for s in cases if "certificate.partial" in s.assessment.rule_ids]
    return Digest(cases, new, ending)


def _line(s: StoredTrip, today: date) -> str:
    t, a = s.trip, s.assessment
    doc = a.document.value if a.document else "certificate"
    days = (a.apply_by - today).days if a.apply_by else None
    when = (
        "apply now (overdue)"
        if days is not None and days < 0
        else (f"apply within {days} days" if days is not None else "review")
    )
    return (
        f"{t.employee_id}: {country_name(t.country)} {t.start}–{t.end}, {doc} {a.status.value}, {when}, "
        f"departs in {(t.start - today).days} days"
    )


def build(digest: Digest, today: date, recipient: str) -> Alert:
    sections = [
        ("Open cases, most urgent first", digest.open_cases),
        ("New since yesterday", digest.new),
        ("A certificate ends during the trip", digest.ending_during_trip),
    ]
    text_parts, html_parts = [], []
    for title, items in sections:
        lines = [_line(s, today) for s in items] or ["none"]
        text_parts += [f"{title} ({len(items)}):", *[f"- {line}" for line in lines], ""]
        html_parts.append(
            f"<h3>{escape(title)} ({len(items)})</h3><ul>"
            + "".join(f"<li>{escape(line)}</li>" for line in lines)
            + "</ul>"
        )
    return Alert(
        key=f"digest:{today.isoformat()}",
        kind=AlertKind.DIGEST,
        employee_id=HR_INBOX,
        trip_id="-",
        recipient=recipient,
        subject=f"[coverwatch] Daily digest {today}: {len(digest.open_cases)} open, {len(digest.new)} new",
        text="\n".join(text_parts),
        html="<html><body style='font-family:sans-serif'>" + "".join(html_parts) + "</body></html>",
    )


def send_digest(deps: ScanDeps, *, send_when_quiet: bool = False) -> bool:
    """Send today's digest if there is news (or always, when configured); True when one went out."""
    digest = collect(deps)
    if not digest.new and not digest.ending_during_trip and not send_when_quiet:
        return False
    return send_once(build(digest, deps.decided_on, deps.hr_email), deps.repo, deps.notifier, deps.decided_on)
