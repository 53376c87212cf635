"""Sync one connection, then re-decide its employee's trips only if something changed.

The promise to the employer is that an unchanged calendar is cheap: one request to the provider
(an empty delta page, an empty sync-token page, a 304) and no DynamoDB write but the lease's two small
ones. So an unchanged result keeps the old cursor (it is still valid, nothing happened since) and stops
there. A change is
applied to the stored events of that connection (replacing them all after a full re-sync), and then
the employee's trips are rebuilt from the events of all their connections, because a trip seen in
Outlook and in a booking is one trip.

A worker syncs a connection only while it holds the connection's lease (a conditional write in the
table, valid until the worker's own deadline), so a notification and the hourly job, or a message
delivered twice, never read and write one calendar at the same time. A provider that answers with
``Retry-After`` slows all workers for that provider (a back-off item in the table), not the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from chalicelib.connectors.base import CalendarSource, ConnectorError, SyncWindow
from chalicelib.jobs import THROTTLED_TOGETHER, SyncJob
from chalicelib.models import CalendarEvent, Connection, SourceKind, SourceProblem, SyncState
from chalicelib.scan import ScanDeps, ScanReport, UnknownEmployeeError, scan_employee
from chalicelib.store.repository import Repository

LOOK_BACK_DAYS = 30
LOOK_AHEAD_DAYS = 365
DEFAULT_LEASE_SECONDS = 60.0
"""Chalice's default Lambda timeout: no sync can outlive it. The handler passes its real deadline."""

log = logging.getLogger("coverwatch.sync")


class UnknownConnectionError(LookupError):
    """The job names a connection the store does not know; retrying cannot help."""


class SyncDeferredError(Exception):
    """The job cannot run now and should come back after ``retry_after`` seconds; nothing failed."""

    def __init__(self, connection_id: str, why: str, retry_after: float) -> None:
        super().__init__(f"{connection_id}: {why}; again in {retry_after:.0f} s")
        self.connection_id = connection_id
        self.retry_after = retry_after


class LeaseHeldError(SyncDeferredError):
    """Another worker is syncing this connection right now.

    The job is retried, not dropped: its message may announce a change (a Graph notification, a
    Google push) made after the running sync had already read past that point of the calendar, and
    only a sync that starts after the running one is sure to see it. If there was nothing new, the
    retry costs one empty delta request.
    """


class ProviderBackoffError(SyncDeferredError):
    """The connection's provider asked every worker to wait (``Retry-After``): the provider is not called."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SyncControl:
    """One worker invocation's part in the fleet: the owner id of its leases, how long they last, and
    the providers' back-off as it last read it (once per provider and invocation, not once per job)."""

    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    clock: Callable[[], datetime] = _utcnow
    backoff: dict[SourceKind, datetime | None] = field(default_factory=dict)

    def wait_for(self, repo: Repository, source: SourceKind) -> float:
        """Seconds every worker must still leave ``source`` alone; 0 when it may be called."""
        if source not in THROTTLED_TOGETHER:
            return 0.0
        if source not in self.backoff:
            self.backoff[source] = repo.provider_backoff(source.value)
        until = self.backoff[source]
        return max(0.0, (until - self.clock()).total_seconds()) if until else 0.0

    def back_off(self, repo: Repository, source: SourceKind, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        repo.extend_provider_backoff(source.value, until)
        known = self.backoff.get(source)
        self.backoff[source] = max(until, known) if known else until


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
    job: SyncJob,
    sources: Mapping[SourceKind, CalendarSource],
    deps: ScanDeps,
    control: SyncControl | None = None,
) -> SyncOutcome:
    """Sync ``job``'s connection under its lease; SyncDeferredError when it must wait (lease held by
    another worker, provider backing off), without calling the provider."""
    control = control or SyncControl()
    repo = deps.repo
    connection = repo.get_connection(job.connection_id)
    if connection is None:
        raise UnknownConnectionError(f"no connection with id {job.connection_id!r}")
    source = sources.get(connection.source)
    if source is None:
        raise ConnectorError(
            connection.source.value, "no connector configured for this source", permanent=True
        )
    wait = control.wait_for(repo, connection.source)
    if wait > 0:
        raise ProviderBackoffError(connection.id, f"{connection.source.value} is backing off", wait)
    now = control.clock()
    held_until = repo.take_lease(
        connection.id, control.owner, now, now + timedelta(seconds=control.lease_seconds)
    )
    if held_until is not None:
        wait = max(1.0, (held_until - now).total_seconds())
        raise LeaseHeldError(connection.id, "another worker is syncing it", wait)
    try:
        return _sync_leased(connection, source, deps, control)
    finally:
        _release(repo, connection.id, control.owner)


def _release(repo: Repository, connection_id: str, owner: str) -> None:
    """Give the lease back; if that fails the lease simply runs out at the worker's deadline."""
    try:
        repo.release_lease(connection_id, owner)
    except Exception:
        log.warning("could not release the sync lease of %s; it runs out by itself", connection_id)


def _sync_leased(
    connection: Connection, source: CalendarSource, deps: ScanDeps, control: SyncControl
) -> SyncOutcome:
    repo = deps.repo
    state = repo.get_sync_state(connection.id)
    window = sync_window(deps.decided_on)
    try:
        result = source.sync(connection, state.cursor if state else None, window)
    except ConnectorError as exc:
        if exc.retry_after is not None and not exc.permanent and connection.source in THROTTLED_TOGETHER:
            control.back_off(repo, connection.source, exc.retry_after)
            log.warning(
                "%s asks to wait %.0f s (connection %s): every worker holds back",
                connection.source.value,
                exc.retry_after,
                connection.id,
            )
        raise
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
    if writes == 0 and state is not None:
        # a full re-read (the weekly window move, a lost delta link) that found what was stored:
        # the events are as they were, so the trips are too
        return SyncOutcome(connection.id, True, result.requests, 0, problems, None)
    # after a full read the connection holds exactly what was read: no need to read it back
    known = {connection.id: _whole_calendar(result.events, result.removed)} if result.full else {}
    report = rescan_employee(connection.employee_id, deps, known)
    report.problems = list(problems)
    return SyncOutcome(connection.id, False, result.requests, writes, problems, report)


def _whole_calendar(events: list[CalendarEvent], removed: list[str]) -> list[CalendarEvent]:
    """What ``apply_event_changes(replace_all=True)`` leaves stored: each uid's last version."""
    gone = set(removed)
    return [e for e in {e.uid: e for e in events}.values() if e.uid not in gone]


def rescan_employee(
    employee_id: str, deps: ScanDeps, known: Mapping[str, list[CalendarEvent]] | None = None
) -> ScanReport:
    """Rebuild an employee's trips from the stored events of all their connections (and bookings).

    ``known`` holds, by connection id, events the caller has just stored and need not be read back.
    """
    repo = deps.repo
    employee = repo.get_employee(employee_id)
    if employee is None:
        raise UnknownEmployeeError(f"no employee with id {employee_id!r}")
    events: list[CalendarEvent] = []
    for each in repo.connections_of(employee.id):
        events.extend(known[each.id] if known and each.id in known else repo.events_of(each.id))
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
