"""The daily digest for HR: every open case by urgency, what is new since yesterday, certificates that
end during a trip, and messages that could not be delivered. Nothing is sent on a day with nothing
new, unless the employer asks for a daily mail anyway. One digest per day: its key is the date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.alerts.outbox import send_once
from chalicelib.alerts.render import format_date, format_period, render, translate, translate_count
from chalicelib.countries import country_name
from chalicelib.models import Alert, AlertKind, FailedMessage, Language
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
    failed: list[FailedMessage] = field(default_factory=list)
    """Messages whose delivery gave up: HR must know, or a traveler or a case goes unwarned."""


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
    return Digest(cases, new, ending, failed=deps.repo.failed_messages())


def _line(s: StoredTrip, today: date, language: Language) -> str:
    t, a = s.trip, s.assessment
    doc = a.document.value if a.document else translate(language, "alert.certificate")
    days = (a.apply_by - today).days if a.apply_by else None
    if days is None:
        when = translate(language, "digest.when.review")
    elif days < 0:
        when = translate(language, "digest.when.overdue")
    else:
        when = translate_count(language, "digest.apply_within", days)
    until = (t.start - today).days
    if until > 0:
        departs = translate_count(language, "digest.departs", until)
    elif until == 0:
        departs = translate(language, "digest.departs_today")
    else:
        departs = translate(language, "digest.under_way", date=format_date(t.start, language))
    return translate(
        language,
        "digest.line",
        employee=t.employee_id,
        country=country_name(t.country, language),
        dates=format_period(t.start, t.end, language),
        status=translate(language, f"digest.status.{a.status.value}", doc=doc),
        when=when,
        departs=departs,
    )


def _failed_line(m: FailedMessage, language: Language) -> str:
    return translate(
        language,
        "digest.failed_line",
        kind=translate(language, f"kind.{m.kind.value}"),
        recipient=m.recipient,
        subject=m.subject,
        attempts=translate_count(language, "digest.attempts", m.attempts),
        error=m.last_error,
    )


def build(digest: Digest, today: date, recipient: str, *, language: Language = Language.EN) -> Alert:
    sections = [
        (translate(language, f"digest.section.{name}"), [_line(s, today, language) for s in items])
        for name, items in (
            ("open", digest.open_cases),
            ("new", digest.new),
            ("ending", digest.ending_during_trip),
        )
    ]
    counts = {
        "date": format_date(today, language),
        "open": len(digest.open_cases),
        "new": len(digest.new),
        "failed": len(digest.failed),
    }
    text, html = render(
        "digest",
        language,
        headline=translate(language, "digest.headline", date=counts["date"]),
        sections=sections,
        failed=[_failed_line(m, language) for m in digest.failed],
    )
    return Alert(
        key=f"digest:{today.isoformat()}",
        kind=AlertKind.DIGEST,
        employee_id=HR_INBOX,
        trip_id="-",
        recipient=recipient,
        subject=translate(language, "digest.subject_failed" if digest.failed else "digest.subject", **counts),
        text=text,
        html=html,
    )


def send_digest(deps: ScanDeps, *, send_when_quiet: bool = False) -> bool:
    """Send today's digest if there is news (or always, when configured); True when one went out."""
    digest = collect(deps)
    news = digest.new or digest.ending_during_trip or digest.failed
    if not news and not send_when_quiet:
        return False
    alert = build(digest, deps.decided_on, deps.hr_email, language=deps.hr_language)
    return send_once(alert, deps.repo, deps.notifier, deps.decided_on)
