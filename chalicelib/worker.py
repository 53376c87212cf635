"""The scan worker's loop over queue messages, shared by the Lambda handler and the local demo.

Each message is a ``SyncJob``: sync one connection incrementally, then re-decide its employee's trips
if anything changed. A message
that fails is reported back by id (SQS partial batch response) and the others go on, so one bad
calendar or unknown employee never blocks the rest of a batch. Failures that a retry cannot fix
(malformed message, unknown connection or employee, revoked access) are reported the same way; the
queue's redrive policy moves them to the dead-letter queue with the reason in the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from chalicelib.connectors.base import CalendarSource, ConnectorError
from chalicelib.jobs import SyncJob
from chalicelib.models import SourceKind
from chalicelib.scan import ScanDeps, ScanReport, UnknownEmployeeError
from chalicelib.sync import SyncOutcome, UnknownConnectionError, sync_connection

log = logging.getLogger("coverwatch.worker")


@dataclass
class BatchResult:
    reports: list[ScanReport] = field(default_factory=list)
    synced: list[SyncOutcome] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """message id -> reason, for the batchItemFailures answer and the logs."""

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid in self.failed]}


def process_messages(
    messages: Iterable[tuple[str, str]],
    deps: ScanDeps,
    sources: Mapping[SourceKind, CalendarSource] | None = None,
) -> BatchResult:
    """Run each (message id, JSON body) as a SyncJob."""
    result = BatchResult()
    for message_id, body in messages:
        try:
            outcome = sync_connection(SyncJob.model_validate_json(body), sources or {}, deps)
            result.synced.append(outcome)
            if outcome.report is not None:
                result.reports.append(outcome.report)
        except (ValidationError, UnknownEmployeeError, UnknownConnectionError) as exc:
            result.failed[message_id] = f"{type(exc).__name__}: {exc}"
            log.error("job %s rejected: %s", message_id, result.failed[message_id])
        except ConnectorError as exc:
            result.failed[message_id] = f"ConnectorError: {exc}"
            log.warning(
                "job %s: source unavailable (%s, retry after %s s)", message_id, exc.reason, exc.retry_after
            )
        except Exception as exc:  # retried by SQS, then dead-lettered
            result.failed[message_id] = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", message_id)
    return result
