"""Queue messages that ask a worker to sync one connection, and the one function that sends them.

Webhooks (Graph change notifications, Google push) and the scheduler never sync inline: they put a
``SyncJob`` on the scan queue and answer at once, so the provider gets its reply within seconds and a
burst of notifications costs one sync per connection in the worker.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.models import Model

SyncReason = Literal["schedule", "notification", "lifecycle", "resync", "manual"]


class SyncJob(Model):
    connection_id: str = Field(min_length=1, max_length=256)
    reason: SyncReason = "schedule"


def enqueue_sync(sqs: Any, queue_url: str, jobs: list[SyncJob]) -> int:
    """Send ``jobs`` in batches of ten (the SQS limit); returns how many were accepted."""
    sent = 0
    for start in range(0, len(jobs), 10):
        batch = jobs[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": job.model_dump_json()} for i, job in enumerate(batch)],
        )
        sent += len(answer.get("Successful", []))
    return sent
