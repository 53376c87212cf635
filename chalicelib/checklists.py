"""Daily: send each traveler their pre-trip checklist a few days before departure, exactly once.

The key includes the trip's version, so a trip that moves after its checklist went out gets a new one
with the new dates; a rerun of the same day sends nothing. Holidays and transits get no checklist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.alerts.checklist import build_checklist
from chalicelib.alerts.outbox import send_once
from chalicelib.models import Purpose
from chalicelib.rules.host_notes import notes_for
from chalicelib.scan import ScanDeps

DAYS_AHEAD = 7


def send_checklists(
    deps: ScanDeps,
    *,
    now: datetime,
    answer_base_url: str | None,
    secret: bytes | None,
    days_ahead: int = DAYS_AHEAD,
) -> int:
    """Checklists for trips starting within ``days_ahead`` days; returns how many went out."""
    repo, today = deps.repo, deps.decided_on
    last = today + timedelta(days=days_ahead)
    sent = 0
    for employee_id in sorted({c.employee_id for c in repo.all_connections()}):
        employee = repo.get_employee(employee_id)
        if employee is None or not employee.email:
            continue
        certificates = repo.certificates_of(employee_id)
        for stored in repo.trips_of(employee_id):
            trip = stored.trip
            if (
                trip.cancelled
                or trip.purpose in (Purpose.HOLIDAY, Purpose.TRANSIT)
                or not today <= trip.start <= last
            ):
                continue
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
