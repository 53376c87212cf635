"""Queue messages that ask a worker to sync one connection, the function that sends them, and the
hourly fan-out.

Webhooks (Graph change notifications, Google push) and the scheduler never sync inline: they put a
``SyncJob`` on the scan queue and answer at once, so the provider gets its reply within seconds and a
burst of notifications costs one sync per connection in the worker.

The fan-out respects a provider's back-off (``Retry-After`` recorded by a worker): while Graph asks us
to wait, its connections are queued with a delay (or, for a wait longer than SQS can delay a message,
left to the next hour), so the queue carries no jobs that could only be turned away.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from chalicelib.models import Model, SourceKind

if TYPE_CHECKING:
    from chalicelib.store.repository import Repository

SyncReason = Literal["schedule", "notification", "lifecycle", "resync", "manual"]

THROTTLED_TOGETHER = frozenset({SourceKind.GRAPH, SourceKind.GOOGLE})
"""Providers whose throttling concerns the whole app (one API, one quota): a ``Retry-After`` from one
mailbox makes every worker wait. ICS feeds are separate servers, so only the one job waits."""
MAX_DELAY_SECONDS = 900
"""The longest SQS ``DelaySeconds``."""
SEND_THREADS = 8
"""Parallel SendMessageBatch calls during the fan-out: 50,000 connections are 5,000 calls, which take
over a minute one after the other at ~15 ms each, and a few seconds eight at a time."""

log = logging.getLogger("coverwatch.jobs")


class SyncJob(Model):
    connection_id: str = Field(min_length=1, max_length=256)
    reason: SyncReason = "schedule"


def enqueue_sync(sqs: Any, queue_url: str, jobs: list[SyncJob], *, delay_seconds: int = 0) -> int:
    """Send ``jobs`` in batches of ten (the SQS limit); returns how many were accepted."""
    sent = 0
    delay = {"DelaySeconds": delay_seconds} if delay_seconds else {}
    for start in range(0, len(jobs), 10):
        batch = jobs[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": job.model_dump_json(), **delay} for i, job in enumerate(batch)
            ],
        )
        sent += len(answer.get("Successful", []))
    return sent


@dataclass(frozen=True)
class FanOutReport:
    connections: int
    """Pulled connections (bookings are pushed to us, never pulled)."""
    queued: int
    """Jobs SQS accepted, delayed ones included."""
    delayed: int
    """Jobs queued with DelaySeconds because their provider is backing off."""
    skipped: int
    """Connections left to the next run: their provider asked for a wait longer than SQS can delay."""


def fan_out(repo: Repository, sqs: Any, queue_url: str, now: datetime) -> FanOutReport:
    """Queue one sync job per pulled connection, holding back those of a provider in back-off."""
    pulled = [c for c in repo.all_connections() if c.source is not SourceKind.BOOKING]
    waits = _provider_waits(repo, {c.source for c in pulled}, now)
    groups: dict[int, list[SyncJob]] = {}
    skipped = 0
    for connection in pulled:
        wait = waits.get(connection.source, 0)
        if wait > MAX_DELAY_SECONDS:
            skipped += 1
            continue
        groups.setdefault(wait, []).append(SyncJob(connection_id=connection.id, reason="schedule"))
    queued = sum(_send_parallel(sqs, queue_url, jobs, delay) for delay, jobs in groups.items())
    delayed = sum(len(jobs) for delay, jobs in groups.items() if delay)
    if delayed or skipped:
        log.warning(
            "fan-out: %d jobs delayed, %d connections left to the next run (providers backing off: %s)",
            delayed,
            skipped,
            ", ".join(sorted(s.value for s, w in waits.items() if w)),
        )
    return FanOutReport(len(pulled), queued, delayed, skipped)


def _provider_waits(repo: Repository, sources: Iterable[SourceKind], now: datetime) -> dict[SourceKind, int]:
    waits = {}
    for source in sources:
        until = repo.provider_backoff(source.value) if source in THROTTLED_TOGETHER else None
        waits[source] = max(0, math.ceil((until - now).total_seconds())) if until else 0
    return waits


def _send_parallel(sqs: Any, queue_url: str, jobs: list[SyncJob], delay: int) -> int:
    slices = [jobs[i : i + 500] for i in range(0, len(jobs), 500)]
    if len(slices) <= 1:
        return enqueue_sync(sqs, queue_url, jobs, delay_seconds=delay)
    from concurrent.futures import ThreadPoolExecutor  # only the scheduler needs threads

    with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:  # boto3 clients are thread-safe
        return sum(pool.map(lambda part: enqueue_sync(sqs, queue_url, part, delay_seconds=delay), slices))
