"""Exactly-once delivery: every message is claimed in the store, with its text, before anything is sent.

The claim is a create-once write keyed by the message's key (trip, kind, trip version…), so a replayed
scan or a duplicate SQS delivery finds the key taken and sends nothing. The claim holds the message and
a short lease; the channels that have delivered it are ticked off one by one. If the process dies between
claim and send, the lease runs out and the next run (``flush_outbox``, every few minutes, or the same job
retried) takes the message over and delivers what is still pending — nothing is lost. A channel that
keeps failing is retried with growing delays and, after ``MAX_RUNS`` runs, marked failed; HR's digest
lists it. The one window left is a crash after a channel accepted the message but before the store
recorded it: the retry then sends that message a second time. We accept that (it needs a crash in a
few milliseconds between two network calls) rather than risk losing a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from chalicelib.alerts.notifier import Channels, Notifier, is_transient
from chalicelib.models import Alert

if TYPE_CHECKING:
    from chalicelib.store.repository import OutboxEntry, Repository

LOG = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
"""How long a sender owns a claimed message; longer than any delivery run takes."""
MAX_RUNS = 5
"""Delivery runs (each with its own in-process retries) before a message is marked failed."""
RETRY_BASE = timedelta(minutes=5)
PERMANENT_RETRY_BASE = timedelta(hours=1)
"""A rejected message (bad address) is still retried a few times: HR may fix the address meanwhile."""


def _now(sent_on: date, now: datetime | None) -> datetime:
    if now is not None:
        return now
    wall = datetime.now(UTC)
    # Jobs decide "today" themselves (tests and the demo pin it); keep the claim on that day.
    return wall if wall.date() == sent_on else datetime.combine(sent_on, time(12), tzinfo=UTC)


def send_once(
    alert: Alert,
    repo: Repository,
    notifier: Notifier | Channels,
    sent_on: date,
    *,
    now: datetime | None = None,
) -> bool:
    """Send ``alert`` unless its key was claimed before; True when it was delivered now.

    A delivery failure is recorded for a later retry and does not raise, so one bad address cannot stop
    a job's other messages.
    """
    channels = Channels.of(notifier)
    moment = _now(sent_on, now)
    state = repo.alert_state(alert.employee_id, alert.key)
    if state in ("sent", "failed"):
        return False
    entry = None if state else repo.claim_alert(alert, channels.names_for(alert), moment, moment + LEASE)
    if entry is None:
        entry = repo.take_over_alert(alert.employee_id, alert.key, moment, moment + LEASE)
        if entry is None:
            return False
    return deliver(entry, repo, channels, moment)


def deliver(entry: OutboxEntry, repo: Repository, channels: Channels, now: datetime) -> bool:
    """Deliver a claimed message to each channel still pending; True when it is now delivered everywhere."""
    alert = entry.alert
    for name in entry.pending:
        try:
            message_id = channels.get(name).send(alert)
        except Exception as exc:
            runs = entry.attempts + 1
            base = RETRY_BASE if is_transient(exc) else PERMANENT_RETRY_BASE
            retry_at = now + base * 2 ** (runs - 1) if runs < MAX_RUNS else None
            repo.record_failure(entry, name, f"{type(exc).__name__}: {exc}", now, retry_at)
            fields = {
                "alert_key": alert.key,
                "channel": name,
                "error": type(exc).__name__,
                "run": runs,
                "gave_up": retry_at is None,
            }
            LOG.warning(
                "delivery failed: %(alert_key)s via %(channel)s, %(error)s, run %(run)s, "
                "gave up: %(gave_up)s",
                fields,
                extra=fields,
            )
            return False
        if repo.confirm_delivery(alert.employee_id, alert.key, name, message_id):
            return True
    return False


@dataclass(frozen=True)
class FlushReport:
    delivered: int
    not_delivered: int


def flush_outbox(repo: Repository, notifier: Notifier | Channels, now: datetime) -> FlushReport:
    """Deliver every message whose sender crashed or whose retry time has come."""
    channels = Channels.of(notifier)
    delivered = not_delivered = 0
    for employee_id, key in repo.due_outbox(now):
        entry = repo.take_over_alert(employee_id, key, now, now + LEASE)
        if entry is None:
            continue  # someone else took it meanwhile
        if deliver(entry, repo, channels, now):
            delivered += 1
        else:
            not_delivered += 1
    return FlushReport(delivered, not_delivered)
