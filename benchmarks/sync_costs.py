"""What a scan of unchanged Outlook calendars costs: provider requests and DynamoDB writes per calendar.

Runs the real worker path (sync_connection with GraphCalendarSource, msal, requests, boto3) against
the local fake Graph server and in-process moto, first a full sync, then an unchanged one.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib import bootstrap
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.bootstrap import Settings
from chalicelib.connectors.graph import GraphCalendarSource
from chalicelib.connectors.graph_auth import GraphCredentials, graph_auth
from chalicelib.jobs import SyncJob
from chalicelib.models import Connection, Employee, SourceKind
from chalicelib.scan import ScanDeps
from chalicelib.store.repository import DynamoRepository
from chalicelib.sync import sync_connection
from tests.fakes.graph_server import GRAPH_BASE, LOGIN, make_event, running_graph

CITIES = ["Paris", "Berlin", "Madrid", "Boston", "Zurich", "Teams meeting", "Room 4.12", "Vienna"]
WRITE_CALLS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class WriteCounter:
    def __init__(self) -> None:
        self.writes = 0

    def __call__(self, model: Any, **_: Any) -> None:
        if model.name in WRITE_CALLS:
            self.writes += 1


def run(calendars: int = 50, events_each: int = 50, outbox: Path | None = None) -> None:
    import os

    from moto import mock_aws

    from coverwatch.localaws import provision

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    settings = Settings(today=date(2027, 1, 15))
    with running_graph() as fake, mock_aws():
        provision(settings)
        fake.graph.register_client("tenant-1", "client-1", secret="bench-secret")
        creds = GraphCredentials.model_validate(
            {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "bench-secret"}
        )
        source = GraphCalendarSource(
            graph_auth(creds, authority_host=LOGIN, http_client=fake.session),
            session=fake.session,
            graph_base=GRAPH_BASE,
        )
        dynamodb = bootstrap.aws_client("dynamodb", settings)
        counter = WriteCounter()
        dynamodb.meta.events.register("before-call.dynamodb", counter)
        repo = DynamoRepository(dynamodb, settings.table_name)  # this client's calls are counted
        deps = ScanDeps(
            repo=repo,
            notifier=OutboxNotifier(outbox or Path("outbox-bench"), settings.sender),
            hr_email="hr@example.com",
            decided_on=settings.decision_date(),
        )
        start = datetime(2027, 2, 1, 9, tzinfo=UTC)
        for c in range(calendars):
            user = f"user{c}@example.com"
            repo.put_employee(
                Employee(
                    id=f"e{c}",
                    name=f"Employee {c}",
                    home_country="DE",
                    nationalities=("DE",),
                    residence_country="DE",
                )
            )
            repo.put_connection(
                Connection(id=f"graph-{c}", employee_id=f"e{c}", source=SourceKind.GRAPH, account=user)
            )
            for e in range(events_each):
                when = start + timedelta(days=(e * 3) % 200, hours=e % 5)
                fake.graph.put_event(
                    user,
                    make_event(
                        f"u{c}-e{e}",
                        "Client workshop",
                        when,
                        when + timedelta(hours=2),
                        location={"displayName": CITIES[(c + e) % len(CITIES)]},
                    ),
                )
        sources = {SourceKind.GRAPH: source}
        for label in ("first (full) scan", "second scan, unchanged"):
            counter.writes = 0
            before = len(fake.graph.graph_calls()) + len(fake.graph.token_calls())
            t0 = time.perf_counter()
            outcomes = [
                sync_connection(SyncJob(connection_id=f"graph-{c}"), sources, deps) for c in range(calendars)
            ]
            elapsed = time.perf_counter() - t0
            requests = len(fake.graph.graph_calls()) + len(fake.graph.token_calls()) - before
            print(
                f"sync {label}: {calendars} calendars x {events_each} events in {elapsed:.2f} s; "
                f"provider requests {requests} ({requests / calendars:.2f} per calendar), "
                f"DynamoDB writes {counter.writes} ({counter.writes / calendars:.2f} per calendar), "
                f"unchanged {sum(o.unchanged for o in outcomes)}"
            )
