"""Sync one connection, then re-decide its employee's trips only if something changed.

The promise to the employer is that an unchanged calendar is cheap: one request to the provider
(an empty delta page, an empty sync-token page, a 304) and no write to DynamoDB. So an unchanged
result keeps the old cursor (it is still valid, nothing happened since) and stops there. A change is
applied to the stored events of that connection (replacing them all after a full re-sync), and then
the employee's trips are rebuilt from the events of all their connections, because a trip seen in
Outlook and in a booking is one trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.connectors.base import CalendarSource, ConnectorError, SyncWindow
from chalicelib.jobs import SyncJob
from chalicelib.models import CalendarEvent, Connection, SourceKind, SourceProblem, SyncState
from chalicelib.scan import ScanDeps, ScanReport, UnknownEmployeeError, scan_employee

LOOK_BACK_DAYS = 30
LOOK_AHEAD_DAYS = 365


class UnknownConnectionError(LookupError):
    """The job names a connection the store does not know; retrying cannot help."""


def sync_window(today: date, back: int = LOOK_BACK_DAYS, ahead: int = LOOK_AHEAD_DAYS) -> SyncWindow:
    """The window to read, anchored on the Monday of the week so it moves once a week, not daily.

    Moving the window forces a full re-sync at Graph (the window is baked into the delta token), so a
    weekly step trades a few extra days of look-back for 6 in 7 days of cheap incremental syncs.
    """
    monday = today - timedelta(days=today.weekday())
    return SyncWindow(start=monday - timedelta(days=back), end=monday + timedelta(days=ahead + 7))


@dataclass(frozen=True)
class SyncOutcome:
    connection_id: str
    unchanged: bool
    requests: int
    event_writes: int
    problems: tuple[SourceProblem, ...]
    report: ScanReport | None
    """The employee's re-decided trips, when the calendar changed."""


def sync_connection(
    job: SyncJob, sources: Mapping[SourceKind, CalendarSource], deps: ScanDeps
) -> SyncOutcome:
    repo = deps.repo
    connection = repo.get_connection(job.connection_id)
    if connection is None:
        raise UnknownConnectionError(f"no connection with id {job.connection_id!r}")
    source = sources.get(connection.source)
    if source is None:
        raise ConnectorError(
            connection.source.value, "no connector configured for this source", permanent=True
        )
    state = repo.get_sync_state(connection.id)
    window = sync_window(deps.decided_on)
    result = source.sync(connection, state.cursor if state else None, window)
    problems = tuple(result.problems)
    if result.unchanged and state is not None:
        return SyncOutcome(connection.id, True, result.requests, 0, problems, None)
    writes = repo.apply_event_changes(connection.id, result.events, result.removed, replace_all=result.full)
    base = state or SyncState(connection_id=connection.id, source=connection.source)
    repo.save_sync_state(
        base.model_copy(
            update={
                "cursor": result.cursor,
                "window_start": window.start,
                "window_end": window.end,
                "synced_at": datetime.now(UTC),
            }
        )
    )
    report = rescan_employee(connection.employee_id, deps)
    report.problems = list(problems)
    return SyncOutcome(connection.id, False, result.requests, writes, problems, report)


def rescan_employee(employee_id: str, deps: ScanDeps) -> ScanReport:
    """Rebuild an employee's trips from the stored events of all their connections (and bookings)."""
    repo = deps.repo
    employee = repo.get_employee(employee_id)
    if employee is None:
        raise UnknownEmployeeError(f"no employee with id {employee_id!r}")
    events: list[CalendarEvent] = []
    for each in repo.connections_of(employee.id):
        events.extend(repo.events_of(each.id))
    return scan_employee(employee, events, deps)


def accept_bookings(
    employee_id: str, events: list[CalendarEvent], cancelled_uids: list[str], deps: ScanDeps
) -> ScanReport | None:
    """Store booking segments under the employee's booking connection and re-decide their trips.

    A re-sent confirmation has the same uids and changes nothing; a cancellation removes its segments.
    Returns None when nothing changed.
    """
    repo = deps.repo
    if repo.get_employee(employee_id) is None:
        raise UnknownEmployeeError(f"no employee with id {employee_id!r}")
    connection = Connection(
        id=f"booking-{employee_id}",
        employee_id=employee_id,
        source=SourceKind.BOOKING,
        account="bookings",
        calendar_id="bookings",
    )
    if repo.get_connection(connection.id) is None:
        repo.put_connection(connection)
    held = {e.uid: e for e in repo.events_of(connection.id)}
    changed = [e for e in events if not e.cancelled and held.get(e.uid) != e]
    removed = [uid for uid in cancelled_uids if uid in held]
    if not changed and not removed:
        return None
    repo.apply_event_changes(connection.id, changed, removed, replace_all=False)
    return rescan_employee(employee_id, deps)


def accept_upload(connection_id: str, events: list[CalendarEvent], deps: ScanDeps) -> ScanReport | None:
    """An uploaded .ics replaces what the connection held; the trips are re-decided if anything changed."""
    connection = deps.repo.get_connection(connection_id)
    if connection is None:
        raise UnknownConnectionError(f"no connection with id {connection_id!r}")
    if not deps.repo.apply_event_changes(connection.id, events, [], replace_all=True):
        return None
    return rescan_employee(connection.employee_id, deps)
