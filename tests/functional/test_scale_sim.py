"""The scale simulation at a tiny size: the promises it measures hold (never its timings).

An unchanged calendar costs one provider request, no event write and no message; a first scan reads
each calendar once and alerts HR once per trip. And moto's sped-up paths (benchmarks/moto_scale.py)
answer exactly as moto itself does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.moto_scale import moto_at_scale
from benchmarks.scale import simulate


def test_a_second_unchanged_scan_costs_one_provider_request_per_calendar_and_nothing_else() -> None:
    first, second, moved, trip, next_week = simulate(20, 5, echo=lambda _: None, changes=0.25)

    assert (first.synced, first.unchanged, first.not_done, first.dead_letters) == (20, 0, 0, 0)
    assert first.provider_requests == 20  # one delta page per calendar (5 events fit in a page)
    assert first.event_writes == 20 * 5
    assert first.alerts == first.emails == 20  # every calendar holds one trip abroad
    assert first.sqs_messages_sent == 20

    assert (second.synced, second.unchanged, second.not_done, second.dead_letters) == (20, 20, 0, 0)
    assert second.provider_requests == 20
    assert second.token_requests == 0  # msal kept its token
    assert second.event_writes == 0
    assert (second.alerts, second.emails) == (0, 0)
    assert "BatchWriteItem" not in second.dynamo_calls
    assert "UpdateItem" not in second.dynamo_calls
    assert second.dynamo_writes == 2 * 20  # the lease, taken and given back

    assert (moved.unchanged, moved.event_writes, moved.alerts) == (15, 5, 0)  # a quarter changed
    assert (trip.unchanged, trip.event_writes, trip.alerts, trip.emails) == (15, 10, 5, 5)
    # a week later the window moved: every calendar is read in full again, but nothing is re-decided
    assert (next_week.provider_requests, next_week.event_writes, next_week.alerts) == (20, 0, 0)
    assert "UpdateItem" not in next_week.dynamo_calls


def _both_ways(run: Callable[[Any, Any], Any]) -> tuple[Any, Any]:
    """``run(dynamodb, sqs)`` on fresh moto, once as moto is and once sped up."""
    import boto3
    from moto import mock_aws

    answers = []
    for faster in (False, True):
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="eu-central-1")
            sqs = boto3.client("sqs", region_name="eu-central-1")
            if faster:
                with moto_at_scale():
                    answers.append(run(dynamodb, sqs))
            else:
                answers.append(run(dynamodb, sqs))
    return answers[0], answers[1]


def test_the_sped_up_query_answers_as_moto_does() -> None:
    def run(db: Any, _: Any) -> Any:
        from chalicelib.store.schema import table_definition

        db.create_table(**table_definition("t"))
        for pk in ("A", "B", "C"):
            for sk in ("x#1", "x#2", "x#3", "y#1"):
                db.put_item(TableName="t", Item={"PK": {"S": pk}, "SK": {"S": sk}, "v": {"S": pk + sk}})
        pages = db.get_paginator("query").paginate(
            TableName="t",
            KeyConditionExpression="PK = :p AND begins_with(SK, :x)",
            ExpressionAttributeValues={":p": {"S": "B"}, ":x": {"S": "x#"}},
            PaginationConfig={"PageSize": 2},
        )
        backwards = db.query(
            TableName="t",
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "C"}},
            ScanIndexForward=False,
        )
        missing = db.query(
            TableName="t", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "Z"}}
        )
        return [p["Items"] for p in pages], backwards["Items"], missing["Items"]

    plain, faster = _both_ways(run)
    assert plain == faster
    assert [len(page) for page in plain[0]] == [2, 1]


def test_the_sped_up_queue_counts_and_deletes_as_moto_does() -> None:
    def run(_: Any, sqs: Any) -> Any:
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for n in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", DelaySeconds=600 if n == 4 else 0)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=0
        )
        names = ["ApproximateNumberOf" + s for s in ("Messages", "MessagesNotVisible", "MessagesDelayed")]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        return [m["Body"] for m in got], counts, sorted(m["Body"] for m in again)

    plain, faster = _both_ways(run)
    assert plain == faster
    assert plain[1] == {
        "ApproximateNumberOfMessages": "2",
        "ApproximateNumberOfMessagesNotVisible": "1",
        "ApproximateNumberOfMessagesDelayed": "1",
    }
