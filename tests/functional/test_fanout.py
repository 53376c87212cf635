"""Fan-out and the scan worker against moto's SQS: leases, provider back-off, poison messages.

What the employer would notice: a calendar is never read by two workers at once, Microsoft throttling
slows the Outlook syncs and nothing else, and a job that can never succeed lands in the dead-letter
queue at once with the reason, instead of failing five times. The worker's decisions are carried out
by ``settle`` on a real (moto) queue; after it, each test acknowledges what Lambda would delete.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from chalicelib.connectors.base import CalendarSource, ConnectorError, SyncResult, SyncWindow
from chalicelib.connectors.graph import GraphCalendarSource
from chalicelib.connectors.graph_auth import GraphCredentials, graph_auth
from chalicelib.jobs import SyncJob, enqueue_sync, fan_out
from chalicelib.models import Connection, SourceKind
from chalicelib.scan import ScanDeps
from chalicelib.store.repository import Repository
from chalicelib.sync import SyncControl
from chalicelib.worker import BatchResult, QueueMessage, Verdict, process_messages, settle
from tests.builders import employee, paris_meeting
from tests.builders import scan_deps as build_deps
from tests.fakes.graph_server import GRAPH_BASE, LOGIN, RunningGraph, make_event, running_graph
from tests.fakes.memory_source import MemorySource

ANNA, CARL, BEN, DORA = "anna@example.com", "carl@example.com", "ben@example.com", "dora@example.com"


@dataclass
class World:
    settings: Settings
    deps: ScanDeps
    sqs: Any
    queue_url: str
    dlq_url: str
    graph: RunningGraph
    sources: dict[SourceKind, CalendarSource]
    google: MemorySource
    sleeps: list[float]

    @property
    def repo(self) -> Repository:
        return self.deps.repo

    def fan_out(self) -> None:
        fan_out(self.repo, self.sqs, self.queue_url, datetime.now(UTC))

    def receive(self, url: str | None = None) -> list[QueueMessage]:
        answer = self.sqs.receive_message(
            QueueUrl=url or self.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        return [
            QueueMessage(
                m["MessageId"], m["Body"], m["ReceiptHandle"], int(m["Attributes"]["ApproximateReceiveCount"])
            )
            for m in answer.get("Messages", [])
        ]

    def work(
        self, messages: list[QueueMessage], control: SyncControl | None = None
    ) -> tuple[BatchResult, set[str]]:
        """One Lambda invocation: decide, settle, and delete what Lambda would delete (the rest)."""
        result = process_messages(((m.id, m.body) for m in messages), self.deps, self.sources, control)
        answer = settle(self.sqs, self.queue_url, lambda: self.dlq_url, messages, result)
        reported = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        done = [m for m in messages if m.id not in reported]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(done)],
            )
        return result, reported

    def on_queue(self, url: str | None = None) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self.sqs.get_queue_attributes(QueueUrl=url or self.queue_url, AttributeNames=names)
        return {k.removeprefix("ApproximateNumberOf"): int(v) for k, v in attributes["Attributes"].items()}

    def delta_calls(self, user: str) -> int:
        return len(self.graph.graph.graph_calls(f"/users/{user}/calendarView/delta"))

    def hidden_for(self) -> list[int]:
        """Seconds until each invisible message of the scan queue shows again (moto's own record)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.core.utils import unix_time_millis
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[DEFAULT_ACCOUNT_ID][self.settings.region].queues[self.settings.queue_name]
        now = unix_time_millis()
        return sorted(round((m.visible_at - now) / 1000) for m in queue._messages if not m.visible)


def _graph_meeting(event_id: str, day: int) -> dict[str, Any]:
    start = datetime(2027, 3, day, 9, tzinfo=UTC)
    return make_event(
        event_id, "Client workshop", start, start + timedelta(hours=8), location={"displayName": "Paris"}
    )


@pytest.fixture
def world(mocked_aws: Settings, tmp_path: Path) -> Iterator[World]:
    sleeps: list[float] = []
    with running_graph() as graph:
        graph.graph.register_client("tenant-1", "client-1", secret="s3cret")
        creds = GraphCredentials.model_validate(
            {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "s3cret"}
        )
        outlook = GraphCalendarSource(
            graph_auth(creds, authority_host=LOGIN, http_client=graph.session),
            session=graph.session,
            graph_base=GRAPH_BASE,
            sleep=sleeps.append,
        )
        deps = build_deps(mocked_aws, tmp_path / "outbox")
        for n, (user, source) in enumerate(
            [(ANNA, SourceKind.GRAPH), (CARL, SourceKind.GRAPH), (BEN, SourceKind.GOOGLE)]
        ):
            deps.repo.put_employee(employee(id=f"emp-{n}", name=f"Employee {n}"))
            deps.repo.put_connection(
                Connection(id=f"{source.value}:{user}", employee_id=f"emp-{n}", source=source, account=user)
            )
            if source is SourceKind.GRAPH:
                graph.graph.put_event(user, _graph_meeting(f"{user}-1", 3 + n))
        google = MemorySource()
        google.put(paris_meeting(date(2027, 4, 7), "ben-1", SourceKind.GOOGLE))
        sqs = bootstrap.aws_client("sqs", mocked_aws)
        yield World(
            settings=mocked_aws,
            deps=deps,
            sqs=sqs,
            queue_url=bootstrap.queue_url(mocked_aws),
            dlq_url=bootstrap.dead_letter_queue_url(mocked_aws),
            graph=graph,
            sources={SourceKind.GRAPH: outlook, SourceKind.GOOGLE: google},
            google=google,
            sleeps=sleeps,
        )
    bootstrap.queue_url.cache_clear()
    bootstrap.dead_letter_queue_url.cache_clear()


def _job(connection_id: str) -> str:
    return SyncJob(connection_id=connection_id, reason="notification").model_dump_json()


# leases -------------------------------------------------------------------------------------------


def test_a_held_lease_sends_the_job_back_until_the_lease_ends_without_calling_the_provider(
    world: World,
) -> None:
    now = datetime.now(UTC)
    assert (
        world.repo.take_lease(f"graph:{ANNA}", "a-running-worker", now, now + timedelta(seconds=45)) is None
    )
    enqueue_sync(world.sqs, world.queue_url, [SyncJob(connection_id=f"graph:{ANNA}")])

    result, reported = world.work(world.receive())

    assert world.delta_calls(ANNA) == 0
    assert [d.verdict for d in result.decisions.values()] == [Verdict.LATER]
    assert len(reported) == 1  # left on the queue for Lambda ...
    [hidden] = world.hidden_for()
    assert 44 <= hidden <= 46  # ... and back when the running sync's lease ends
    assert world.on_queue()["MessagesNotVisible"] == 1

    assert world.receive() == []  # nobody sees it meanwhile
    world.repo.release_lease(f"graph:{ANNA}", "a-running-worker")  # the running sync finished
    [message] = _make_visible(world)
    result, reported = world.work([message])
    assert (world.delta_calls(ANNA), reported, len(result.synced)) == (1, set(), 1)
    assert world.on_queue() == {"Messages": 0, "MessagesNotVisible": 0, "MessagesDelayed": 0}


def _make_visible(world: World) -> list[QueueMessage]:
    """Let the wait pass: what SQS does when the visibility timeout ends (no sleeping in tests)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[DEFAULT_ACCOUNT_ID][world.settings.region].queues[world.settings.queue_name]
    for message in queue._messages:
        message.visible_at = 0
        message.delayed_until = 0
    return world.receive()


def test_a_duplicate_job_while_a_sync_runs_never_makes_two_syncs_at_once(world: World) -> None:
    gate = _Gate(world.google)
    world.sources[SourceKind.GOOGLE] = gate
    job = _job(f"google:{BEN}")
    first: list[BatchResult] = []
    running = threading.Thread(
        target=lambda: first.append(process_messages([("m1", job)], world.deps, world.sources))
    )
    running.start()
    assert gate.entered.wait(timeout=10)  # worker 1 is inside the provider call, holding the lease

    duplicate = process_messages([("m2", job)], world.deps, world.sources)  # worker 2, same connection

    gate.leave.set()
    running.join(timeout=10)
    assert gate.concurrent_max == 1
    assert world.google.calls == 1
    assert duplicate.decisions["m2"].verdict is Verdict.LATER
    assert duplicate.synced == []
    assert first[0].failed == {}
    assert len(first[0].synced) == 1
    again = process_messages([("m2", job)], world.deps, world.sources)  # the retried duplicate
    assert again.failed == {}
    assert world.google.calls == 2


class _Gate:
    """A Google source that holds the first sync inside the provider call until the test lets it go."""

    def __init__(self, inner: MemorySource) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.leave = threading.Event()
        self.inside = 0
        self.concurrent_max = 0
        self._lock = threading.Lock()

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        with self._lock:
            self.inside += 1
            self.concurrent_max = max(self.concurrent_max, self.inside)
        self.entered.set()
        self.leave.wait(timeout=10)
        try:
            return self.inner.sync(connection, cursor, window)
        finally:
            with self._lock:
                self.inside -= 1


def test_two_jobs_for_one_connection_in_one_batch_cost_one_sync(world: World) -> None:
    job = _job(f"google:{BEN}")
    result = process_messages([("m1", job), ("m2", job)], world.deps, world.sources)
    assert result.failed == {}
    assert world.google.calls == 1


# provider back-off --------------------------------------------------------------------------------


def test_graph_throttling_holds_back_every_outlook_job_and_spares_google(world: World) -> None:
    world.graph.graph.fail_next(429, times=5, retry_after="30")  # longer than a worker sleeps in-process
    world.fan_out()
    messages = world.receive()
    assert len(messages) == 3

    result, reported = world.work(messages)

    throttled = world.delta_calls(ANNA) + world.delta_calls(CARL)
    assert throttled == 1  # one job asked once and handed the wait to the queue; the other never called
    assert world.sleeps == []
    until = world.repo.provider_backoff("graph")
    assert until is not None
    assert 25 <= (until - datetime.now(UTC)).total_seconds() <= 31
    graph_jobs = {m.id for m in messages if "graph:" in m.body}
    assert reported == graph_jobs
    assert {result.decisions[i].verdict for i in graph_jobs} == {Verdict.LATER}
    assert all(29 <= s <= 31 for s in world.hidden_for())  # they come back when Graph said
    assert len(world.hidden_for()) == 2
    assert [s.connection_id for s in result.synced] == [f"google:{BEN}"]
    assert world.google.calls == 1

    world.fan_out()  # the next hourly run while Graph still asks us to wait
    fresh = world.receive()
    assert [json.loads(m.body)["connection_id"] for m in fresh] == [f"google:{BEN}"]
    assert world.on_queue()["MessagesDelayed"] == 2  # the Outlook jobs wait in the queue instead


def test_a_long_provider_back_off_leaves_its_connections_to_the_next_run(world: World) -> None:
    world.repo.extend_provider_backoff("graph", datetime.now(UTC) + timedelta(hours=2))
    report = fan_out(world.repo, world.sqs, world.queue_url, datetime.now(UTC))
    assert (report.connections, report.queued, report.delayed, report.skipped) == (3, 1, 0, 2)


def test_a_back_off_never_shrinks(world: World) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    world.repo.extend_provider_backoff("google", later)
    world.repo.extend_provider_backoff("google", later - timedelta(minutes=9))
    until = world.repo.provider_backoff("google")
    assert until is not None
    assert abs((until - later).total_seconds()) < 1


def test_a_job_told_to_wait_again_and_again_is_queued_afresh_not_dead_lettered(world: World) -> None:
    world.repo.extend_provider_backoff("graph", datetime.now(UTC) + timedelta(seconds=120))
    enqueue_sync(world.sqs, world.queue_url, [SyncJob(connection_id=f"graph:{ANNA}")])
    [message] = world.receive()
    fourth_time = replace(message, receive_count=3)

    result, reported = world.work([fourth_time])

    assert result.decisions[message.id].verdict is Verdict.LATER
    assert reported == set()
    assert world.on_queue() == {"Messages": 0, "MessagesNotVisible": 0, "MessagesDelayed": 1}
    [copy] = _make_visible(world)
    assert (copy.body, copy.receive_count) == (message.body, 1)


# poison and transient failures ----------------------------------------------------------------------


def test_poison_jobs_go_straight_to_the_dead_letter_queue_with_their_reason(world: World) -> None:
    world.graph.graph.deny_mailbox(CARL)  # the mailbox's access was revoked
    world.repo.put_connection(  # a mailbox that no longer exists at Microsoft
        Connection(id="graph:dora", employee_id="emp-0", source=SourceKind.GRAPH, account=DORA)
    )
    jobs = ("not json", _job("graph:nobody@example.com"), _job(f"graph:{CARL}"), _job("graph:dora"))
    for body in jobs:
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=body)

    result, reported = world.work(world.receive())

    assert reported == set()  # acknowledged on the main queue: no five retries
    assert world.on_queue() == {"Messages": 0, "MessagesNotVisible": 0, "MessagesDelayed": 0}
    assert {d.verdict for d in result.decisions.values()} == {Verdict.POISON}
    dead = world.sqs.receive_message(
        QueueUrl=world.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    found = {
        m["Body"]: (
            m["MessageAttributes"]["connection_id"]["StringValue"],
            m["MessageAttributes"]["reason"]["StringValue"],
        )
        for m in dead
    }
    assert found["not json"][0] == "-"
    assert found["not json"][1].startswith("malformed job")
    assert found[_job("graph:nobody@example.com")][0] == "graph:nobody@example.com"
    assert "UnknownConnectionError" in found[_job("graph:nobody@example.com")][1]
    carl_id, carl_reason = found[_job(f"graph:{CARL}")]
    assert carl_id == f"graph:{CARL}"
    assert "403" in carl_reason
    dora_id, dora_reason = found[_job("graph:dora")]
    assert dora_id == "graph:dora"
    assert "not found" in dora_reason
    assert DORA not in dora_reason  # dead letters name the connection, never the mailbox address


def test_a_transient_failure_stays_on_the_main_queue_for_the_redrive_policy(world: World) -> None:
    world.sources[SourceKind.GOOGLE] = _Unreachable()
    enqueue_sync(world.sqs, world.queue_url, [SyncJob(connection_id=f"google:{BEN}")])
    [message] = world.receive()

    result, reported = world.work([message])

    assert result.decisions[message.id].verdict is Verdict.RETRY
    assert reported == {message.id}
    queue_timeout = world.sqs.get_queue_attributes(
        QueueUrl=world.queue_url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]["VisibilityTimeout"]
    assert world.hidden_for() == [int(queue_timeout)]  # untouched: the queue's own timeout applies
    assert world.on_queue()["MessagesNotVisible"] == 1
    assert "Messages" not in world.sqs.receive_message(QueueUrl=world.dlq_url)
    assert world.repo.provider_backoff("google") is None


class _Unreachable:
    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        raise ConnectorError("google", "connection reset")


def test_the_lambda_handler_settles_with_sqs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real handler: poison to the DLQ, receipt handles from the event, an answer for Lambda."""
    from chalice.test import Client

    import app as app_module

    monkeypatch.setenv("COVERWATCH_TODAY", "2027-01-15")
    bootstrap.default_settings.cache_clear()
    for body in ("{}", _job("ics:unknown")):
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=body)
    records = [
        {
            "messageId": m.id,
            "receiptHandle": m.receipt_handle,
            "body": m.body,
            "attributes": {"ApproximateReceiveCount": str(m.receive_count)},
        }
        for m in world.receive()
    ]
    with Client(app_module.app, stage_name="dev") as client:
        answer = client.lambda_.invoke("scan_worker", {"Records": records}).payload

    assert answer == {"batchItemFailures": []}
    dead = world.sqs.receive_message(QueueUrl=world.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(["{}", _job("ics:unknown")])
