"""The scan worker's loop over queue messages, shared by the Lambda handler and the local demo.

Each message is a ``SyncJob``: sync one connection incrementally, then re-decide its employee's trips
if anything changed. Every message gets a verdict, so one bad calendar or unknown employee never
blocks the rest of a batch:

- done: acknowledged (a second job for a connection already synced in the same batch is done too:
  both were queued before the batch was received, so the sync that ran after saw what they announce);
- later: the lease is held by another worker or the provider asked us to wait (``Retry-After``); the
  message comes back after exactly that wait (its visibility is changed), without counting as an error;
- retry: a transient failure; SQS redelivers it after the visibility timeout and, after 5 receives,
  the redrive policy moves it to the dead-letter queue;
- poison: it can never succeed (malformed body, unknown connection or employee, revoked access), so
  it goes straight to the dead-letter queue with the reason, instead of failing five times first.

``process_messages`` only decides; ``settle`` is the thin part that tells SQS (it needs the receipt
handles, which only the Lambda handler has), so the decisions are testable without a queue.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from chalicelib.connectors.base import CalendarSource, ConnectorError
from chalicelib.jobs import MAX_DELAY_SECONDS, SyncJob
from chalicelib.models import SourceKind
from chalicelib.scan import ScanDeps, ScanReport, UnknownEmployeeError
from chalicelib.store.repository import Repository, SyncFailure
from chalicelib.sync import (
    SyncControl,
    SyncDeferredError,
    SyncOutcome,
    UnknownConnectionError,
    sync_connection,
)

log = logging.getLogger("coverwatch.worker")

REQUEUE_AFTER_RECEIVES = 3
"""A message told to wait this often is sent again as a new message (with DelaySeconds) instead of
having its visibility changed: the scan queue dead-letters after 5 receives (infra/build.py), and
waiting for a provider must never walk a message into the dead-letter queue."""
MAX_VISIBILITY_SECONDS = 43200
"""SQS's longest visibility timeout (12 hours)."""
LEASE_MARGIN_SECONDS = 5.0
"""Added to an invocation's remaining time for its leases, for clocks that differ between hosts."""


class Verdict(StrEnum):
    LATER = "later"
    RETRY = "retry"
    POISON = "poison"


@dataclass(frozen=True)
class Decision:
    """What to do with a message that was not done."""

    verdict: Verdict
    reason: str
    retry_after: float | None = None
    """Seconds until the message should come back (``later`` only)."""
    connection_id: str | None = None


@dataclass
class BatchResult:
    reports: list[ScanReport] = field(default_factory=list)
    synced: list[SyncOutcome] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """message id -> reason for every message not done, for the batchItemFailures answer and the logs."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    """message id -> what ``settle`` does with it (same keys as ``failed``)."""

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        """Every message not done, for a caller that does not ``settle`` (the redrive policy decides)."""
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid in self.failed]}

    def decide(self, message_id: str, decision: Decision) -> None:
        self.failed[message_id] = decision.reason
        self.decisions[message_id] = decision


def process_messages(
    messages: Iterable[tuple[str, str]],
    deps: ScanDeps,
    sources: Mapping[SourceKind, CalendarSource] | None = None,
    control: SyncControl | None = None,
) -> BatchResult:
    """Run each (message id, JSON body) as a SyncJob and decide what becomes of the message."""
    control = control or SyncControl()
    result = BatchResult()
    synced_here: set[str] = set()
    for message_id, body in messages:
        job: SyncJob | None = None
        try:
            job = SyncJob.model_validate_json(body)
            if job.connection_id in synced_here:
                continue
            outcome = sync_connection(job, sources or {}, deps, control)
            synced_here.add(job.connection_id)
            result.synced.append(outcome)
            if outcome.report is not None:
                result.reports.append(outcome.report)
            report = outcome.report
            log.info(  # ids and counts only: never titles, places or names
                "job %s synced %s: %s, %d request(s), %d event write(s), %d unreadable, %d trip(s), "
                "%d alert(s)",
                message_id,
                outcome.connection_id,
                "unchanged" if outcome.unchanged else "changed",
                outcome.requests,
                outcome.event_writes,
                len(outcome.problems),
                len(report.results) if report else 0,
                report.alerts_sent if report else 0,
            )
        except ValidationError as exc:
            reason = f"malformed job: {_validation_summary(exc)}"
            result.decide(message_id, Decision(Verdict.POISON, reason, connection_id=_connection_id_in(body)))
            log.error("job %s rejected: %s", message_id, reason)
        except (UnknownEmployeeError, UnknownConnectionError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            result.decide(message_id, Decision(Verdict.POISON, reason, connection_id=_id(job)))
            log.error("job %s rejected: %s", message_id, reason)
        except SyncDeferredError as exc:
            result.decide(
                message_id,
                Decision(
                    Verdict.LATER, str(exc), retry_after=exc.retry_after, connection_id=exc.connection_id
                ),
            )
            log.info("job %s waits: %s", message_id, exc)
        except ConnectorError as exc:
            reason = f"ConnectorError: {_scrub(str(exc))}"
            if exc.permanent:
                decision = Decision(Verdict.POISON, reason, connection_id=_id(job))
            elif exc.retry_after is not None:
                decision = Decision(
                    Verdict.LATER, reason, retry_after=exc.retry_after, connection_id=_id(job)
                )
            else:
                decision = Decision(Verdict.RETRY, reason, connection_id=_id(job))
            result.decide(message_id, decision)
            log.warning(
                "job %s: source unavailable (%s, retry after %s s)",
                message_id,
                _scrub(exc.reason),
                exc.retry_after,
            )
            if job is not None:
                _remember_failure(deps.repo, job.connection_id, exc)
        except Exception as exc:  # retried by SQS, then dead-lettered
            result.decide(message_id, Decision(Verdict.RETRY, f"{type(exc).__name__}: {exc}", None, _id(job)))
            log.exception("job %s failed", message_id)
    return result


def _remember_failure(repo: Repository, connection_id: str, exc: ConnectorError) -> None:
    """Keep the reason for ``GET /v1/connections/{id}``, so HR sees why a calendar stopped updating.

    Never fails the batch: the message is already reported for retry, and the log has the reason.
    """
    failure = SyncFailure(
        connection_id=connection_id,
        at=datetime.now(UTC),
        reason=exc.reason,
        permanent=exc.permanent,
        retry_after=exc.retry_after,
    )
    try:
        repo.record_sync_failure(failure)
    except Exception:
        log.exception("could not record the failure of connection %s", connection_id)


def _id(job: SyncJob | None) -> str | None:
    return job.connection_id if job is not None else None


def _validation_summary(exc: ValidationError) -> str:
    """Field and rule of each problem, never the input (a malformed body may hold anything)."""
    return "; ".join(
        (".".join(map(str, e["loc"])) + ": " if e["loc"] else "") + e["msg"]
        for e in exc.errors(include_url=False, include_input=False)
    )


def _connection_id_in(body: str) -> str | None:
    """The connection a malformed job meant, when its body still says so (for the DLQ attribute)."""
    match = re.search(r'"connection_id"\s*:\s*"([A-Za-z0-9_.:@#/+=-]{1,256})"', body)
    return match.group(1) if match else None


_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _scrub(text: str) -> str:
    """Providers' messages may name the mailbox; logs and dead letters carry ids, never addresses."""
    return _ADDRESS.sub("<address>", text)


def sync_control(lambda_context: Any) -> SyncControl:
    """Leases that last as long as this invocation can (its remaining time, plus a little for clocks):
    a crashed worker blocks its connections only until its deadline, a slow one never loses them."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return SyncControl()
    return SyncControl(lease_seconds=remaining() / 1000 + LEASE_MARGIN_SECONDS)


# telling SQS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueMessage:
    """One received SQS message, with what SQS needs to act on it."""

    id: str
    body: str
    receipt_handle: str
    receive_count: int = 1

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> QueueMessage:
        """A record of Lambda's SQS event (``SQSRecord.to_dict()``)."""
        count = record.get("attributes", {}).get("ApproximateReceiveCount", "1")
        return cls(record["messageId"], record["body"], record["receiptHandle"], int(count))


def settle(
    sqs: Any,
    queue_url: str,
    dead_letter_url: Callable[[], str],
    messages: Sequence[QueueMessage],
    result: BatchResult,
) -> dict[str, list[dict[str, str]]]:
    """Carry out the decisions with SQS and return the partial batch response for Lambda.

    ``later``: the message's visibility becomes its wait, and it is reported, so Lambda leaves it on
    the queue and it returns after exactly that wait (or, once received ``REQUEUE_AFTER_RECEIVES``
    times, a fresh copy is queued with DelaySeconds and the original acknowledged). ``poison``: sent to
    the dead-letter queue (looked up only then) with ``reason`` and ``connection_id`` attributes, then
    acknowledged. ``retry``: reported, for the visibility timeout and the redrive policy. Whatever SQS
    refuses stays reported, so no message is lost.
    """
    received = {m.id: m for m in messages}
    pending = set(result.failed)
    chosen = [(received[i], d) for i, d in result.decisions.items() if i in received]
    later = [(m, d) for m, d in chosen if d.verdict is Verdict.LATER]
    requeue = [(m, d) for m, d in later if m.receive_count >= REQUEUE_AFTER_RECEIVES]
    pending -= _send(sqs, queue_url, [(m, {"DelaySeconds": _delay(d)}) for m, d in requeue], "requeue")
    _change_visibility(sqs, queue_url, [(m, d) for m, d in later if m.receive_count < REQUEUE_AFTER_RECEIVES])
    poison = [(m, d) for m, d in chosen if d.verdict is Verdict.POISON]
    for message, decision in poison:
        log.error(
            "job %s (connection %s) goes to the dead-letter queue: %s",
            message.id,
            decision.connection_id or "-",
            decision.reason,
        )
    if poison:
        pending -= _send(
            sqs, _safe(dead_letter_url), [(m, _dead_letter(d)) for m, d in poison], "dead-letter"
        )
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in result.failed if mid in pending]}


def _delay(decision: Decision) -> int:
    return min(MAX_DELAY_SECONDS, max(0, math.ceil(decision.retry_after or 0)))


def _dead_letter(decision: Decision) -> dict[str, Any]:
    attributes = {
        "reason": {"DataType": "String", "StringValue": decision.reason[:1000] or "unknown"},
        "connection_id": {"DataType": "String", "StringValue": decision.connection_id or "-"},
    }
    return {"MessageAttributes": attributes}


def _safe(lookup: Callable[[], str]) -> str | None:
    try:
        return lookup()
    except Exception:
        log.exception("the dead-letter queue cannot be found; poison messages stay for the redrive policy")
        return None


def _send(
    sqs: Any, url: str | None, entries: list[tuple[QueueMessage, dict[str, Any]]], what: str
) -> set[str]:
    """Send each message's body with its extra fields; the ids of the messages SQS accepted."""
    accepted: set[str] = set()
    if url is None:
        return accepted
    for start in range(0, len(entries), 10):
        chunk = entries[start : start + 10]
        try:
            answer = sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "MessageBody": m.body, **extra} for n, (m, extra) in enumerate(chunk)
                ],
            )
        except Exception:
            log.exception("%s of %d messages failed; they stay on the queue", what, len(chunk))
            continue
        accepted |= {chunk[int(ok["Id"])][0].id for ok in answer.get("Successful", [])}
    return accepted


def _change_visibility(sqs: Any, queue_url: str, later: list[tuple[QueueMessage, Decision]]) -> None:
    for start in range(0, len(later), 10):
        chunk = later[start : start + 10]
        entries = [
            {
                "Id": str(n),
                "ReceiptHandle": m.receipt_handle,
                "VisibilityTimeout": min(MAX_VISIBILITY_SECONDS, max(1, math.ceil(d.retry_after or 0))),
            }
            for n, (m, d) in enumerate(chunk)
        ]
        try:
            answer = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        except Exception:
            log.exception("could not delay %d messages; they return after the visibility timeout", len(chunk))
            continue
        if answer.get("Failed"):
            log.warning("%d messages could not be delayed", len(answer["Failed"]))
