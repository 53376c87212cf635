"""Embedded local AWS: a moto server on 127.0.0.1 with a free port, and the resources coverwatch needs.

``make demo``, ``make serve`` and the integration tests start it in-process; boto3 reaches it over HTTP
through ``AWS_ENDPOINT_URL``, exactly as it would reach AWS. Nothing here is imported by Lambda code.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any

from chalicelib.bootstrap import Settings, aws_client, dead_letter_queue_name
from chalicelib.store.schema import TTL_ATTRIBUTE, table_definition

MAX_RECEIVES_BEFORE_DLQ = 5
"""As on AWS (infra/build.py): a job that failed five times is dead-lettered."""
# moto accepts any credentials; setting them keeps boto3 from looking for a real AWS profile.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


@contextmanager
def local_aws(settings: Settings) -> Iterator[Settings]:
    """Run a moto server for the duration of the block; yields ``settings`` pointing at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call otherwise
    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield replace(settings, endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()


def provision(settings: Settings) -> dict[str, Any]:
    """Create the table (with TTL), the scan queue with its dead-letter queue and the verified SES
    sender; safe to call twice."""
    dynamodb = aws_client("dynamodb", settings)
    with suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(**table_definition(settings.table_name))
    dynamodb.get_waiter("table_exists").wait(TableName=settings.table_name)
    ttl = dynamodb.describe_time_to_live(TableName=settings.table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    sqs = aws_client("sqs", settings)
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue_name(settings))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES_BEFORE_DLQ})
    queue_url = sqs.create_queue(QueueName=settings.queue_name, Attributes={"RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    ses = aws_client("ses", settings)
    ses.verify_email_identity(EmailAddress=settings.sender)
    return {
        "table": settings.table_name,
        "queue_url": queue_url,
        "dead_letter_queue_url": dlq_url,
        "sender": settings.sender,
    }
