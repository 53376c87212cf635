"""Scale simulation: thousands of Outlook calendars through the real fan-out and worker, twice.

``python -m benchmarks.scale --connections 5000 --events 50`` (``make bench`` runs the default size).

What runs is the production path, not a model of it: the hourly fan-out (``chalicelib.jobs.fan_out``)
puts one message per connection on SQS; a loop that stands in for Lambda's event source mapping takes
batches of 10 and hands them to ``chalicelib.worker.process_messages`` (lease, provider back-off,
``sync_connection`` with the real Graph connector, msal and requests, detection, rules, the outbox and
SES) and ``settle``, then deletes what was done. The first scan reads every calendar in full; the
second finds them all unchanged.

Where it runs: AWS is moto in-process (``mock_aws``: DynamoDB, SQS, SES). The fake Graph server
(tests/fakes/graph_server.py, the one the connector's tests use) runs in a child process on
127.0.0.1, like a remote service: its CPU and memory are not the worker's, and it uses the second core.

What is counted: provider requests at the fake server; DynamoDB calls, and the read and write request
units they would cost on demand (estimated from item sizes with DynamoDB's rounding: moto reports a
fixed figure per call), through botocore events on the worker's client; SQS requests and messages the
same way; e-mails at moto's SES. Memory: the peak traced by tracemalloc while one batch of 10 (one
Lambda invocation) runs, and the process's maximum resident size (which includes moto's tables).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from typing import Any

from benchmarks.moto_scale import moto_at_scale

TODAY = date(2027, 1, 15)
TENANT, CLIENT, SECRET = "tenant-1", "client-1", "bench-secret"
READ_CALLS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITE_CALLS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
GSI_KEYS = ("GSI1PK", "GSI2PK")
LOCAL_PLACES = ["Room 4.12", "Microsoft Teams Meeting", "", "Canteen", "Room 2.01"]
LOCAL_TITLES = ["Team sync", "1:1", "Planning", "Budget review", "Interview", "Sprint review"]
ABROAD = ["Paris", "Madrid", "Vienna", "Milan", "Amsterdam", "Warsaw", "Zurich", "London"]


# --- the fake provider, in its own process ------------------------------------------------------


def mailbox_events(n: int, events: int) -> list[dict[str, Any]]:
    """Mailbox ``n``: weekday meetings at the office over the window, and one two-day trip abroad.

    About what a consultant's calendar holds; the trip is what makes a first scan alert HR once per
    employee (DE home, a host without a certificate on file).
    """
    from tests.fakes.graph_server import make_event

    template = make_event(
        "template", "", datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, tzinfo=UTC)
    )
    out = []
    first = datetime(2027, 1, 18, 9, tzinfo=UTC)
    trip_at = n % max(1, events - 1)
    for e in range(events):
        if e in (trip_at, trip_at + 1):
            day = first + timedelta(days=7 * trip_at + (e - trip_at))
            subject, place = "Client workshop", ABROAD[n % len(ABROAD)]
        else:
            day = first + timedelta(days=(e * 3) % 250, hours=e % 6)
            subject, place = LOCAL_TITLES[(n + e) % len(LOCAL_TITLES)], LOCAL_PLACES[e % len(LOCAL_PLACES)]
        event = dict(template)  # the body, attendees and organiser are shared: the fake only serves them
        event.update(
            id=f"m{n}-e{e}",
            iCalUId=f"0400000082-m{n}-e{e}",
            subject=subject,
            start={"dateTime": day.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
            end={
                "dateTime": (day + timedelta(hours=8 if place in ABROAD else 1)).strftime(
                    "%Y-%m-%dT%H:%M:%S.0000000"
                ),
                "timeZone": "UTC",
            },
            location={"displayName": place},
        )
        out.append(event)
    return out


def user_of(n: int) -> str:
    return f"user{n}@example.com"


def changed_calendars(mailboxes: int, share: float) -> list[int]:
    """Every k-th mailbox, so that ``share`` of them change."""
    step = max(1, round(1 / share)) if share > 0 else mailboxes + 1
    return list(range(0, mailboxes, step))


def change_mailbox(graph: Any, n: int, events: int, kind: str) -> None:
    """``moved``: a meeting at the office moves a day (the trips stay as they were). ``trip``: two days
    at a client abroad are added in another week (a new trip: HR is alerted)."""
    from tests.fakes.graph_server import make_event

    trip_at = n % max(1, events - 1)
    first = datetime(2027, 1, 18, 9, tzinfo=UTC)
    if kind == "moved":
        moved = next(e for e in range(events) if e not in (trip_at, trip_at + 1))
        event = dict(graph.mailbox(user_of(n)).events[f"m{n}-e{moved}"])
        for edge in ("start", "end"):
            when = datetime.fromisoformat(event[edge]["dateTime"][:19]).replace(tzinfo=UTC) + timedelta(
                days=1
            )
            event[edge] = {"dateTime": when.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
        graph.put_event(user_of(n), event)
        return
    week = (trip_at + 20) % max(1, events - 1)
    for day in range(2):
        start = first + timedelta(days=7 * week + 2 + day)
        place = {"displayName": ABROAD[(n + 3) % len(ABROAD)]}
        new = make_event(f"m{n}-x{day}", "Customer visit", start, start + timedelta(hours=8), location=place)
        graph.put_event(user_of(n), new)


def _serve_fake(pipe: Pipe, mailboxes: int, events: int) -> None:
    """Child process: fill the fake Graph, serve it on 127.0.0.1, answer "counts" until "stop"."""
    from tests.fakes.graph_server import FakeGraph
    from tests.fakes.loopback import serving

    graph = FakeGraph()
    graph.register_client(TENANT, CLIENT, secret=SECRET)
    for n in range(mailboxes):
        for event in mailbox_events(n, events):
            graph.put_event(user_of(n), event)
    with serving(graph) as server:
        pipe.send(server.port)
        while (command := pipe.recv()) != "stop":
            if command[0] == "change":  # ("change", kind, share)
                for n in changed_calendars(mailboxes, command[2]):
                    change_mailbox(graph, n, events, command[1])
            pipe.send(
                {"graph": len(graph.graph_calls()), "login": len(graph.calls) - len(graph.graph_calls())}
            )


@dataclass
class FakeGraphProcess:
    pipe: Pipe
    port: int

    def counts(self) -> dict[str, int]:
        self.pipe.send(("counts",))
        answer: dict[str, int] = self.pipe.recv()
        return answer

    def change(self, kind: str, share: float) -> None:
        self.pipe.send(("change", kind, share))
        self.pipe.recv()


@contextmanager
def fake_graph_process(mailboxes: int, events: int) -> Iterator[FakeGraphProcess]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve_fake, args=(theirs, mailboxes, events), daemon=True)
    child.start()
    try:
        if not ours.poll(600):
            raise RuntimeError("the fake Graph server did not start")
        yield FakeGraphProcess(ours, ours.recv())
    finally:
        ours.send("stop")
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()


# --- counting at the AWS clients ------------------------------------------------------------------


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers ~digits/2)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return len(str(raw)) // 2 + 1
    if kind in ("SS", "NS"):
        return sum(len(str(v).encode()) for v in raw)
    if kind == "M":
        return 3 + item_bytes(raw)
    if kind == "L":
        return 3 + sum(_value_bytes(v) for v in raw)
    return 1


@dataclass
class DynamoCounter:
    """Calls, and on-demand request units estimated from what each call reads and writes."""

    calls: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def reset(self) -> None:
        self.calls.clear()
        self.rru = self.wru = 0.0

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op in READ_CALLS)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITE_CALLS)

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["coverwatch_params"] = params

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        op, params = model.name, context.get("coverwatch_params", {})
        self.calls[op] += 1
        if op in ("GetItem", "Query", "Scan"):
            items = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            units = max(1, math.ceil(sum(item_bytes(i) for i in items) / 4096))
            self.rru += units * (1.0 if params.get("ConsistentRead") else 0.5)
        elif op == "PutItem":
            self.wru += _write_units(params.get("Item", {}))
        elif op == "UpdateItem":
            written = {**params.get("Key", {}), **params.get("ExpressionAttributeValues", {})}
            self.wru += _write_units(written) + sum(
                1 for key in GSI_KEYS if key in params.get("UpdateExpression", "")
            )
        elif op == "DeleteItem":
            self.wru += 1
        elif op == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    self.wru += _write_units(request["PutRequest"]["Item"]) if "PutRequest" in request else 1
        elif op == "TransactWriteItems":
            self.wru += 2 * len(params.get("TransactItems", []))


def _write_units(item: dict[str, Any]) -> int:
    """1 unit per started KB, plus one per index the item is written to."""
    return max(1, math.ceil(item_bytes(item) / 1024)) + sum(1 for key in GSI_KEYS if key in item)


@dataclass
class SqsCounter:
    requests: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    received: int = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("after-call.sqs", self._after)

    def reset(self) -> None:
        self.requests.clear()
        self.sent = self.received = 0

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        if model.name == "SendMessageBatch":
            self.sent += len(parsed.get("Successful", []))
        elif model.name == "ReceiveMessage":
            self.received += len(parsed.get("Messages", []))


# --- seeding and SES at moto ----


class _ItemRecorder:
    """Stands in for the DynamoDB client while the repository writes the seed: it keeps the items."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.items.append(Item)
        return {}


def seed(dynamodb: Any, table: str, connections: int) -> None:
    """One employee (DE) and one Outlook connection each, as the repository writes them (its own
    ``put_employee`` / ``put_connection`` build the items), sent 25 to a BatchWriteItem call: the seed
    is not what is measured, and 20,000 single puts would take half a minute."""
    from chalicelib.models import Connection, Employee, SourceKind
    from chalicelib.store.repository import DynamoRepository

    recorder = _ItemRecorder()
    repo = DynamoRepository(recorder, table)  # type: ignore[arg-type]  # only put_item is used
    for n in range(connections):
        repo.put_employee(
            Employee(
                id=f"e{n}",
                name=f"Employee {n}",
                home_country="DE",
                nationalities=("DE",),
                residence_country="DE",
            )
        )
        repo.put_connection(
            Connection(id=f"graph-{n}", employee_id=f"e{n}", source=SourceKind.GRAPH, account=user_of(n))
        )
    for start in range(0, len(recorder.items), 25):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": i}} for i in recorder.items[start : start + 25]]
        }
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _emails_sent(region: str) -> int:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    return len(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


# --- the simulation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanFigures:
    label: str
    seconds: float
    cpu_seconds: float
    """This process's CPU time (the fake provider's is not in it): steadier than wall time on a shared box."""
    connections: int
    invocations: int
    """Batches of up to 10, i.e. Lambda invocations of the worker."""
    synced: int
    unchanged: int
    not_done: int
    provider_requests: int
    token_requests: int
    dynamo_calls: dict[str, int]
    dynamo_reads: int
    dynamo_writes: int
    rru: float
    wru: float
    event_writes: int
    sqs_requests: dict[str, int]
    sqs_messages_sent: int
    alerts: int
    emails: int
    batch_peak_bytes: int
    max_rss_bytes: int
    dead_letters: int


def simulate(
    connections: int, events: int, echo: Callable[[str], None] = print, changes: float = 0.0
) -> list[ScanFigures]:
    """Seed ``connections`` Outlook calendars of ``events`` events, then scan twice; the figures.

    With ``changes`` (a share, e.g. 0.05), three more scans follow: after a meeting moved in that share
    of the calendars, after a new trip abroad appeared in them, and a week later, when the sync window
    has moved and Graph's delta links with it, so every calendar is read in full again (docs/cost.md).
    """
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    # one INFO line per job is right for operators, noise for a 10,000-job benchmark (and its timings)
    logging.getLogger("coverwatch").setLevel(logging.WARNING)
    logging.getLogger("chalicelib").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    with fake_graph_process(connections, events) as fake, mock_aws(), moto_at_scale():
        ready = time.perf_counter() - t0
        echo(f"  fake Graph: {connections} mailboxes x {events} events ready in {ready:.1f} s")
        world = _World.build(connections, fake)
        echo(f"  seeded {connections} employees and connections in {time.perf_counter() - t0:.1f} s")
        figures = [world.scan("first scan (full)", echo), world.scan("second scan (unchanged)", echo)]
        if changes:
            fake.change("moved", changes)
            figures.append(world.scan(f"third scan ({changes:.0%} with a meeting moved)", echo))
            fake.change("trip", changes)
            figures.append(world.scan(f"fourth scan ({changes:.0%} with a new trip abroad)", echo))
            world.deps = replace(world.deps, decided_on=TODAY + timedelta(days=7))
            figures.append(
                world.scan("fifth scan (a week later: the window moved, every calendar re-read)", echo)
            )
        return figures


@dataclass
class _World:
    settings: Any
    fake: FakeGraphProcess
    deps: Any
    sources: Any
    sqs: Any
    queue_url: str
    dlq_url: str
    dynamo: DynamoCounter
    queue: SqsCounter
    connections: int

    @classmethod
    def build(cls, connections: int, fake: FakeGraphProcess) -> _World:
        from chalicelib import bootstrap
        from chalicelib.alerts.notifier import Channels, RetryingNotifier, SesNotifier
        from chalicelib.bootstrap import Settings
        from chalicelib.connectors.graph import GraphCalendarSource
        from chalicelib.connectors.graph_auth import GraphCredentials, graph_auth
        from chalicelib.models import SourceKind
        from chalicelib.scan import ScanDeps
        from chalicelib.store.repository import DynamoRepository
        from coverwatch.localaws import provision
        from tests.fakes.graph_server import GRAPH_BASE, LOGIN, LoopbackSession

        settings = Settings(today=TODAY)
        resources = provision(settings)
        dynamodb = bootstrap.aws_client("dynamodb", settings)
        repo = DynamoRepository(dynamodb, settings.table_name)
        seed(dynamodb, settings.table_name, connections)
        session = LoopbackSession(fake.port)
        creds = GraphCredentials.model_validate(
            {"tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
        )
        source = GraphCalendarSource(
            graph_auth(creds, authority_host=LOGIN, http_client=session),
            session=session,
            graph_base=GRAPH_BASE,
        )
        dynamo, queue = DynamoCounter(), SqsCounter()
        dynamo.attach(dynamodb)  # counted from here on: seeding is not part of a scan
        sqs = bootstrap.aws_client("sqs", settings)
        queue.attach(sqs)
        notifier = Channels(
            RetryingNotifier(SesNotifier(bootstrap.aws_client("ses", settings), settings.sender)), None
        )
        deps = ScanDeps(repo=repo, notifier=notifier, hr_email=settings.hr_email, decided_on=TODAY)
        return cls(
            settings,
            fake,
            deps,
            {SourceKind.GRAPH: source},
            sqs,
            resources["queue_url"],
            resources["dead_letter_queue_url"],
            dynamo,
            queue,
            connections,
        )

    def scan(self, label: str, echo: Callable[[str], None]) -> ScanFigures:
        from chalicelib.jobs import fan_out
        from chalicelib.sync import SyncControl
        from chalicelib.worker import QueueMessage, process_messages, settle

        self.dynamo.reset()
        self.queue.reset()
        before, emails_before = self.fake.counts(), _emails_sent(self.settings.region)
        t0, c0 = time.perf_counter(), time.process_time()
        fan_out(self.deps.repo, self.sqs, self.queue_url, datetime.now(UTC))
        invocations = synced = unchanged = not_done = event_writes = alerts = 0
        peak = 0
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
            )
            received = answer.get("Messages", [])
            if not received:
                break
            messages = [
                QueueMessage(
                    m["MessageId"],
                    m["Body"],
                    m["ReceiptHandle"],
                    int(m["Attributes"]["ApproximateReceiveCount"]),
                )
                for m in received
            ]
            traced = invocations == 0
            if traced:
                tracemalloc.start()
            result = process_messages(
                ((m.id, m.body) for m in messages), self.deps, self.sources, SyncControl()
            )
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            failures = settle(self.sqs, self.queue_url, lambda: self.dlq_url, messages, result)
            reported = {f["itemIdentifier"] for f in failures["batchItemFailures"]}
            done = [m for m in messages if m.id not in reported]
            if done:  # what Lambda's event source mapping deletes after the invocation
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(done)],
                )
            invocations += 1
            synced += len(result.synced)
            unchanged += sum(o.unchanged for o in result.synced)
            event_writes += sum(o.event_writes for o in result.synced)
            alerts += sum(r.alerts_sent for r in result.reports)
            not_done += len(reported)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        after = self.fake.counts()
        dead = int(
            self.sqs.get_queue_attributes(
                QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        figures = ScanFigures(
            label=label,
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            connections=self.connections,
            invocations=invocations,
            synced=synced,
            unchanged=unchanged,
            not_done=not_done,
            provider_requests=after["graph"] - before["graph"],
            token_requests=after["login"] - before["login"],
            dynamo_calls=dict(sorted(self.dynamo.calls.items())),
            dynamo_reads=self.dynamo.reads,
            dynamo_writes=self.dynamo.writes,
            rru=self.dynamo.rru,
            wru=self.dynamo.wru,
            event_writes=event_writes,
            sqs_requests=dict(sorted(self.queue.requests.items())),
            sqs_messages_sent=self.queue.sent,
            alerts=alerts,
            emails=_emails_sent(self.settings.region) - emails_before,
            batch_peak_bytes=peak,
            max_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            dead_letters=dead,
        )
        echo(describe(figures))
        return figures


def describe(f: ScanFigures) -> str:
    n = f.connections
    calls = ", ".join(f"{op} {count}" for op, count in f.dynamo_calls.items())
    sqs = ", ".join(f"{op} {count}" for op, count in f.sqs_requests.items())
    return "\n".join(
        [
            f"scale, {f.label}: {n} Graph connections in {f.seconds:.1f} s wall, {f.cpu_seconds:.1f} s CPU "
            f"({f.cpu_seconds / n * 1000:.1f} ms CPU each), {f.invocations} worker invocations; "
            f"synced {f.synced}, unchanged {f.unchanged}, not done {f.not_done}, "
            f"dead-lettered {f.dead_letters}",
            f"  provider requests {f.provider_requests} ({f.provider_requests / n:.2f} per connection) "
            f"+ {f.token_requests} to the token endpoint",
            f"  DynamoDB reads {f.dynamo_reads} ({f.dynamo_reads / n:.2f}/conn), writes {f.dynamo_writes} "
            f"({f.dynamo_writes / n:.2f}/conn), est. {f.rru:,.0f} RRU ({f.rru / n:.2f}/conn) and "
            f"{f.wru:,.0f} WRU ({f.wru / n:.2f}/conn); event writes {f.event_writes}",
            f"  DynamoDB calls: {calls}",
            f"  SQS requests {sum(f.sqs_requests.values())} ({sqs}); messages sent {f.sqs_messages_sent}",
            f"  alerts {f.alerts}, e-mails {f.emails}",
            f"  memory: peak traced in one batch of 10 {f.batch_peak_bytes / 1e6:.1f} MB; "
            f"process max RSS {f.max_rss_bytes / 1e6:.0f} MB (moto's tables included)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument(
        "--changes", type=float, default=0.0, help="share of calendars changed in two more scans (e.g. 0.05)"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    figures = simulate(args.connections, args.events, changes=args.changes)
    if args.json:
        print(json.dumps([f.__dict__ for f in figures], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
