"""Daily: send each traveler their pre-trip checklist a few days before departure, exactly once.

The key includes the trip's version, so a trip that moves after its checklist went out gets a new one
with the new dates; a rerun of the same day sends nothing. Holidays and transits get no checklist.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.alerts.checklist import build_checklist
from chalicelib.alerts.outbox import send_once
from chalicelib.models import Certificate, Employee, Purpose
from chalicelib.rules.host_notes import notes_for
from chalicelib.scan import ScanDeps
from chalicelib.store.repository import Repository, StoredTrip

DAYS_AHEAD = 7


def send_checklists(
    deps: ScanDeps,
    *,
    now: datetime,
    answer_base_url: str | None,
    secret: bytes | None,
    days_ahead: int = DAYS_AHEAD,
) -> int:
    """Checklists for trips starting within ``days_ahead`` days; returns how many went out.

    The trips come from the trips-by-start-month index, so a day's run reads only the trips departing
    soon (and their travelers), not every employee's calendar.
    """
    repo, today = deps.repo, deps.decided_on
    last = today + timedelta(days=days_ahead)
    sent = 0
    people: dict[str, tuple[Employee | None, list[Certificate]]] = {}
    for stored in _departing(repo, today, last):
        trip = stored.trip
        if trip.employee_id not in people:
            found = repo.get_employee(trip.employee_id)
            people[trip.employee_id] = (found, repo.certificates_of(trip.employee_id) if found else [])
        employee, certificates = people[trip.employee_id]
        if employee is not None and employee.email:
            alert = build_checklist(
                employee,
                trip,
                stored.assessment,
                certificates,
                answer_base_url=answer_base_url,
                secret=secret,
                now=now,
                version=stored.version,
                host_notes=[
                    (n.text, n.source_title, n.source_url)
                    for n in notes_for(trip.country, trip.start, employee.language)
                ],
            )
            sent += send_once(alert, repo, deps.notifier, today)
    return sent


def _departing(repo: Repository, first: date, last: date) -> Iterator[StoredTrip]:
    """Work trips (or trips of unknown purpose) starting in [first, last], page by page."""
    resume: dict[str, Any] | None = None
    while True:
        page = repo.trips_starting(first, last, limit=200, resume=resume, keep=_needs_checklist)
        yield from page.trips
        if page.resume is None:
            return
        resume = page.resume


def _needs_checklist(stored: StoredTrip) -> bool:
    return not stored.trip.cancelled and stored.trip.purpose not in (Purpose.HOLIDAY, Purpose.TRANSIT)
