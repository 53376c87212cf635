"""The scan worker's loop over queue messages, shared by the Lambda handler and the local demo.

A message that fails is reported back by id (SQS partial batch response) and the others go on, so one
bad calendar or unknown employee never blocks the rest of a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from chalicelib.scan import ScanDeps, ScanJob, ScanReport, UnknownEmployeeError, run_job

log = logging.getLogger("coverwatch.worker")


@dataclass
class BatchResult:
    reports: list[ScanReport] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """message id -> reason, for the batchItemFailures answer and the logs."""

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid in self.failed]}


def process_messages(messages: Iterable[tuple[str, str]], deps: ScanDeps) -> BatchResult:
    """Run each (message id, JSON body) as a ScanJob."""
    result = BatchResult()
    for message_id, body in messages:
        try:
            result.reports.append(run_job(ScanJob.model_validate_json(body), deps))
        except (ValidationError, UnknownEmployeeError) as exc:
            result.failed[message_id] = f"{type(exc).__name__}: {exc}"
            log.error("scan job %s rejected: %s", message_id, result.failed[message_id])
        except Exception as exc:  # retried by SQS, then dead-lettered
            result.failed[message_id] = f"{type(exc).__name__}: {exc}"
            log.exception("scan job %s failed", message_id)
    return result
