"""Deciding one employee's trips: events -> trips -> assessments -> store -> HR alerts.

HR hears of every future trip it must act on or look at: a certificate to get, a posting past the
agreement's limit, no agreement at all, or a case coverwatch cannot decide (``compose.ALERTED``).

Side effects come last and are idempotent: trips are upserted by content hash, alerts are claimed
before sending. Replaying the same job therefore changes nothing and sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from chalicelib.alerts.compose import ALERTED, AlertFacts, alert_key_prefix, build_alert, build_resolved
from chalicelib.alerts.notifier import Notifier
from chalicelib.alerts.outbox import send_once
from chalicelib.detection.trips import detect_trips
from chalicelib.models import (
    Assessment,
    CalendarEvent,
    Employee,
    Language,
    SourceProblem,
    Status,
    Trip,
)
from chalicelib.rules import assess
from chalicelib.store.repository import Repository, WriteOutcome


@dataclass(frozen=True)
class TripResult:
    trip: Trip
    assessment: Assessment
    write: WriteOutcome
    alerted: bool


@dataclass
class ScanReport:
    employee: Employee
    results: list[TripResult] = field(default_factory=list)
    cancelled: list[Trip] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    @property
    def alerts_sent(self) -> int:
        return sum(r.alerted for r in self.results)


@dataclass(frozen=True)
class ScanDeps:
    repo: Repository
    notifier: Notifier
    hr_email: str
    decided_on: date
    hr_language: Language = Language.EN
    """The language of every message to HR (alerts, reminders, digest); travelers get their own."""


class UnknownEmployeeError(LookupError):
    """The job names an employee the store does not know; the message cannot succeed on retry."""


def scan_employee(employee: Employee, events: Sequence[CalendarEvent], deps: ScanDeps) -> ScanReport:
    report = ScanReport(employee=employee)
    trips = detect_trips(employee.id, employee.home_country, events)
    report.results = _decide(employee, trips, deps)
    report.cancelled = _cancel_vanished(employee, {t.id for t in trips}, deps)
    return report


def reassess_employee(employee: Employee, deps: ScanDeps) -> ScanReport:
    """Decide the stored trips again (a certificate or the profile changed); calendars are not re-read."""
    trips = [s.trip for s in deps.repo.trips_of(employee.id) if not s.trip.cancelled]
    return ScanReport(employee=employee, results=_decide(employee, trips, deps))


def _decide(employee: Employee, trips: Sequence[Trip], deps: ScanDeps) -> list[TripResult]:
    """Assess, store and (once) alert each trip; the side effects are idempotent."""
    certificates = deps.repo.certificates_of(employee.id)
    answers = deps.repo.trip_answers(employee.id)
    before = {s.trip.id: s for s in deps.repo.trips_of(employee.id)}
    results = []
    for detected in trips:
        trip = detected
        if detected.id in answers:  # the traveler's own answer outranks the calendar's hints
            trip = detected.model_copy(update={"purpose": answers[detected.id], "confirm": False})
        assessment = assess(trip, employee, certificates, deps.decided_on)
        write = deps.repo.save_trip(trip, assessment)
        alerted = False
        previous = before.get(trip.id)
        moved = None
        if previous is not None and (previous.trip.start, previous.trip.end) != (trip.start, trip.end):
            moved = (previous.trip.start, previous.trip.end)
        if assessment.status in ALERTED and trip.end >= deps.decided_on:
            alert = build_alert(
                AlertFacts(employee, trip, assessment, moved), deps.hr_email, language=deps.hr_language
            )
            alerted = send_once(alert, deps.repo, deps.notifier, deps.decided_on)
        elif previous is not None and previous.assessment.status in ALERTED and trip.end >= deps.decided_on:
            reason = "covered" if assessment.status is Status.COVERED else "not_required"
            _resolve(employee, trip, reason, deps, moved)
        results.append(TripResult(trip, assessment, write, alerted))
    return results


def _resolve(
    employee: Employee,
    trip: Trip,
    reason: str,
    deps: ScanDeps,
    moved: tuple[date, date] | None = None,
) -> None:
    """Tell HR a case it was alerted about needs nothing more (once per trip, dates and reason)."""
    if deps.repo.alert_was_sent(employee.id, alert_key_prefix(trip)):
        alert = build_resolved(
            employee, trip, reason, deps.hr_email, moved_from=moved, language=deps.hr_language
        )
        send_once(alert, deps.repo, deps.notifier, deps.decided_on)


def _cancel_vanished(employee: Employee, seen: set[str], deps: ScanDeps) -> list[Trip]:
    """A future trip we stored before but no longer see was cancelled or moved away: close its case."""
    cancelled = []
    for stored in deps.repo.trips_of(employee.id):
        trip = stored.trip
        if trip.id in seen or trip.cancelled or trip.end < deps.decided_on:
            continue
        gone = trip.model_copy(update={"cancelled": True})
        deps.repo.save_trip(gone, stored.assessment)
        if stored.assessment.status in ALERTED:
            _resolve(employee, gone, "cancelled", deps)
        cancelled.append(gone)
    return cancelled
