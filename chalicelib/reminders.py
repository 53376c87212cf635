"""Daily: remind HR of open cases as deadlines approach, and escalate when departure is close.

Points are relative to the apply-by date and to departure (defaults: apply-by - 7 days, departure - 3,
departure - 1; COVERWATCH_REMINDERS). Only the latest point already reached is sent, so a system
switched on late does not send a burst of stale reminders. Within 3 days of departure
(COVERWATCH_ESCALATE_DAYS) the case also goes to an escalation address. Keys carry the trip's
version and the point, so each goes out once per trip version. Both are the HR alert again under a
banner that says how close departure is (``compose.build_reminder``).
"""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.alerts.compose import AlertFacts, build_reminder
from chalicelib.alerts.outbox import send_once
from chalicelib.scan import ScanDeps
from chalicelib.store.repository import StoredTrip

POINTS: tuple[tuple[str, int], ...] = (("apply_by", -7), ("start", -3), ("start", -1))
ESCALATE_DAYS = 3
HORIZON_DAYS = 400


def due_point(stored: StoredTrip, today: date, points: tuple[tuple[str, int], ...] = POINTS) -> str | None:
    """The latest reminder point reached on ``today`` for a trip that has not started, if any."""
    trip, assessment = stored.trip, stored.assessment
    if today >= trip.start:
        return None
    reached = []
    for anchor, offset in points:
        base = assessment.apply_by if anchor == "apply_by" else trip.start
        if base is not None and base + timedelta(days=offset) <= today:
            reached.append((base + timedelta(days=offset), f"{anchor}{offset:+d}"))
    return max(reached)[1] if reached else None


def send_reminders(
    deps: ScanDeps,
    *,
    escalation_email: str | None = None,
    points: tuple[tuple[str, int], ...] = POINTS,
    escalate_within_days: int = ESCALATE_DAYS,
) -> int:
    """Reminders and escalations for today's open cases; returns how many e-mails went out."""
    today, repo, sent = deps.decided_on, deps.repo, 0
    for stored in repo.trips_lacking_certificate(today, today + timedelta(days=HORIZON_DAYS)):
        point = due_point(stored, today, points)
        if point is None:
            continue  # most open cases on most days: no read of the employee needed
        employee = repo.get_employee(stored.trip.employee_id)
        if employee is None:
            continue
        trip, days = stored.trip, (stored.trip.start - today).days
        facts = AlertFacts(employee, trip, stored.assessment)
        reminder = build_reminder(
            facts,
            deps.hr_email,
            key=f"reminder:{trip.id}:v{stored.version}:{point}",
            days_left=days,
            language=deps.hr_language,
        )
        sent += send_once(reminder, repo, deps.notifier, today)
        if escalation_email and days <= escalate_within_days:
            escalation = build_reminder(
                facts,
                escalation_email,
                key=f"escalation:{trip.id}:v{stored.version}",
                days_left=days,
                escalation=True,
                language=deps.hr_language,
            )
            sent += send_once(escalation, repo, deps.notifier, today)
    return sent
