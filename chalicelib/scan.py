"""Deciding one employee's trips: events -> trips -> assessments -> store -> HR alerts.

HR hears of every future trip it must act on or look at: a certificate to get, a posting past the
agreement's limit, no agreement at all, or a case coverwatch cannot decide (``compose.ALERTED``).

Who has the last word on a trip: the calendar suggests, the traveler's answer (work / holiday) outranks
the calendar, and HR's override (``PATCH /v1/trips/{id}``) outranks both. Overrides are stored apart from
the trips and applied on every decision, so a later calendar sync cannot undo them.

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
    Certificate,
    Employee,
    Language,
    SourceProblem,
    Status,
    Trip,
)
from chalicelib.rules import assess
from chalicelib.store.repository import (
    DISMISSED_RULE,
    Repository,
    StoredTrip,
    TripOverride,
    WriteOutcome,
    is_dismissed,
)


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
    """Decide the stored trips again (a certificate, the profile or HR's override changed); calendars are
    not re-read. Trips HR dismissed are decided again too, so withdrawing a dismissal brings them back."""
    trips = [
        _undismissed(s) for s in deps.repo.trips_of(employee.id) if not s.trip.cancelled or is_dismissed(s)
    ]
    return ScanReport(employee=employee, results=_decide(employee, trips, deps))


def _undismissed(stored: StoredTrip) -> Trip:
    """The trip as detected: a dismissal is never inherited from the stored trip, only from the override."""
    return stored.trip.model_copy(update={"cancelled": False}) if is_dismissed(stored) else stored.trip


def apply_override(trip: Trip, override: TripOverride) -> Trip:
    """``trip`` as HR says it is: their purpose, their dates (the id stays), and dismissed or not.

    A dismissed trip ("not a trip: the meeting was virtual") is stored as cancelled: every part that
    ignores cancelled trips (open cases, reminders, checklists, the multi-state count, journeys' history)
    then ignores it without learning a new flag, and its decision says why (``DISMISSED_RULE``), which
    tells it apart from a trip that left the calendar.
    """
    update: dict[str, object] = {}
    if override.purpose is not None:
        update.update(purpose=override.purpose, confirm=False)
    if override.start is not None and override.end is not None:
        update.update(start=override.start, end=override.end)
    if override.dismissed:
        update["cancelled"] = True
    return trip.model_copy(update=update) if update else trip


def _decision(
    trip: Trip,
    override: TripOverride | None,
    employee: Employee,
    certificates: Sequence[Certificate],
    decided_on: date,
) -> Assessment:
    """The rules' decision, marked with what HR changed; a dismissed trip needs nothing.

    A dismissal is ``not_required`` rather than a new status: the answer to "does this need a
    certificate?" is truly no, and the /v1/checks contract keeps its six statuses.
    """
    if override is not None and override.dismissed:
        return Assessment(
            status=Status.NOT_REQUIRED,
            explanation=f"HR dismissed this entry as not a trip: {override.reason}",
            rule_ids=(DISMISSED_RULE,),
            decided_on=decided_on,
        )
    assessment = assess(trip, employee, certificates, decided_on)
    if override is None:
        return assessment
    marks = [
        rule
        for rule, applies in (
            ("override.purpose", override.purpose is not None),
            ("override.dates", override.start is not None),
        )
        if applies
    ]
    return assessment.model_copy(update={"rule_ids": (*assessment.rule_ids, *marks)}) if marks else assessment


def _decide(employee: Employee, trips: Sequence[Trip], deps: ScanDeps) -> list[TripResult]:
    """Assess, store and (once) alert each trip; the side effects are idempotent."""
    certificates = deps.repo.certificates_of(employee.id)
    answers = deps.repo.trip_answers(employee.id)
    overrides = deps.repo.trip_overrides(employee.id)
    before = {s.trip.id: s for s in deps.repo.trips_of(employee.id)}
    results = []
    for detected in trips:
        trip = detected
        if detected.id in answers:  # the traveler's own answer outranks the calendar's hints
            trip = detected.model_copy(update={"purpose": answers[detected.id], "confirm": False})
        override = overrides.get(detected.id)
        if override is not None:  # and HR's override outranks both
            trip = apply_override(trip, override)
        assessment = _decision(trip, override, employee, certificates, deps.decided_on)
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
