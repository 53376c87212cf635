"""Graph subscriptions and the webhook routes, end to end: fake Graph -> Chalice test client -> SQS (moto).

The fake Graph performs the real validation handshake against the blueprint when a subscription is
created, and delivers change and lifecycle notifications the way Graph does. What HR would notice:
a change in Outlook leads to exactly one queued sync per calendar, forged notifications lead to
nothing, and subscriptions keep themselves alive (renewed, recreated) with a re-sync when Graph
says notifications were lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from chalicelib.connectors.base import SyncWindow
from chalicelib.connectors.channel_secrets import secret_digest
from chalicelib.connectors.graph import GraphCalendarSource, GraphHttp
from chalicelib.connectors.graph_auth import GraphCredentials, graph_auth
from chalicelib.connectors.graph_subscriptions import GraphSubscriptions, due_for_renewal
from chalicelib.jobs import SyncJob
from chalicelib.models import Channel, Connection, SourceKind
from chalicelib.routes import graph_webhook
from chalicelib.store.repository import Repository
from tests.fakes.graph_server import (
    GRAPH_BASE,
    LOGIN,
    ChaliceDeliverer,
    RunningGraph,
    make_event,
    running_graph,
)

NOTIFY_URL = "https://coverwatch.example.test/v1/webhooks/graph"
LIFECYCLE_URL = "https://coverwatch.example.test/v1/webhooks/graph/lifecycle"
ANNA = Connection(id="graph-anna", employee_id="anna", source=SourceKind.GRAPH, account="anna@example.com")
RAVI = Connection(id="graph-ravi", employee_id="ravi", source=SourceKind.GRAPH, account="ravi@example.com")


@dataclass
class World:
    fake: RunningGraph
    client: Any
    repo: Repository
    sqs: Any
    queue_url: str
    subs: GraphSubscriptions
    http: GraphHttp

    def jobs(self) -> list[SyncJob]:
        found: list[SyncJob] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return found
            for msg in got:
                found.append(SyncJob.model_validate_json(msg["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])

    def post(self, path: str, body: Any, content_type: str = "application/json") -> Any:
        raw = body if isinstance(body, str) else json.dumps(body)
        return self.client.http.post(path, headers={"Content-Type": content_type}, body=raw)


@pytest.fixture
def world(mocked_aws: Settings) -> Iterator[World]:
    repo = bootstrap.repository(mocked_aws)
    sqs = bootstrap.aws_client("sqs", mocked_aws)
    queue_url = sqs.get_queue_url(QueueName=mocked_aws.queue_name)["QueueUrl"]
    for connection in (ANNA, RAVI):
        repo.put_connection(connection)
    app = Chalice(app_name="graph-webhook-test")
    app.register_blueprint(graph_webhook.make_blueprint())
    with running_graph() as fake, Client(app, stage_name="dev") as client:
        fake.graph.register_client("tenant-1", "client-1", secret="s3cret")
        fake.graph.deliverer = ChaliceDeliverer(client)
        for user in (ANNA.account, RAVI.account):
            fake.graph.mailbox(user)
        creds = GraphCredentials.model_validate(
            {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "s3cret"}
        )
        auth = graph_auth(creds, authority_host=LOGIN, http_client=fake.session)
        http = GraphHttp(auth, fake.session, sleep=lambda _s: None)
        subs = GraphSubscriptions(
            http, repo, notification_url=NOTIFY_URL, lifecycle_url=LIFECYCLE_URL, graph_base=GRAPH_BASE
        )
        graph_webhook.configure(
            graph_webhook.GraphWebhookDeps(repo, sqs, queue_url, subscriptions=lambda: subs)
        )
        yield World(fake, client, repo, sqs, queue_url, subs, http)
    graph_webhook.configure(None)


def _meeting(event_id: str, subject: str) -> dict[str, Any]:
    start = datetime(2027, 4, 5, 9, tzinfo=UTC)
    return make_event(
        event_id, subject, start, start + timedelta(hours=8), location={"displayName": "Boston"}
    )


def test_creating_a_subscription_passes_the_validation_handshake(world: World) -> None:
    before = datetime.now(UTC)
    channel = world.subs.create(ANNA)

    sub = world.fake.graph.subscriptions[channel.id]
    assert sub["resource"] == "users/anna@example.com/events"
    assert sub["changeType"] == "created,updated,deleted"
    assert (sub["notificationUrl"], sub["lifecycleNotificationUrl"]) == (NOTIFY_URL, LIFECYCLE_URL)
    assert timedelta(days=6) < channel.expires_at - before <= timedelta(minutes=10080)
    stored = world.repo.get_channel(channel.id)
    assert stored == channel
    assert stored.secret_sha256 == secret_digest(sub["clientState"])
    assert sub["clientState"] not in stored.model_dump_json()


def test_validation_token_is_echoed_as_plain_text(world: World) -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id: 42 +/&"
    for path in (graph_webhook.NOTIFICATION_PATH, graph_webhook.LIFECYCLE_PATH):
        resp = world.client.http.post(
            f"{path}?{urlencode({'validationToken': token})}",
            headers={"Content-Type": "text/plain"},
            body=b"",
        )
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "text/plain"
        assert resp.body.decode() == token


def test_a_burst_of_changes_queues_one_sync_per_calendar(world: World) -> None:
    world.subs.create(ANNA)
    world.subs.create(RAVI)
    for n in range(3):
        world.fake.graph.put_event(ANNA.account, _meeting(f"a{n}", f"Boston visit {n}"))
    world.fake.graph.delete_event(ANNA.account, "a0")
    world.fake.graph.put_event(RAVI.account, _meeting("r1", "Copenhagen"))

    replies = world.fake.graph.deliver_notifications()

    assert [status for status, _, _ in replies] == [202, 202]
    jobs = world.jobs()
    assert sorted((j.connection_id, j.reason) for j in jobs) == [
        ("graph-anna", "notification"),
        ("graph-ravi", "notification"),
    ]


def test_forged_and_unknown_notifications_are_ignored_but_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    channel = world.subs.create(ANNA)
    caplog.set_level(logging.WARNING)
    forged = {"subscriptionId": channel.id, "clientState": "guess", "changeType": "updated", "resource": "x"}
    stranger = {**forged, "subscriptionId": "00000000-0000-0000-0000-000000000000"}
    missing_state = {k: v for k, v in forged.items() if k != "clientState"}

    resp = world.post(graph_webhook.NOTIFICATION_PATH, {"value": [forged, stranger, missing_state]})

    assert resp.status_code == 202
    assert world.jobs() == []
    assert "wrong clientState" in caplog.text
    assert "unknown subscription 00000000-0000-0000-0000-000000000000" in caplog.text
    assert "guess" not in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        ("{not json", "application/json", "(body)"),
        ("hello", "text/plain", "(body)"),
        ("[1, 2]", "application/json", "(body)"),
        ('{"value": []}', "application/json", "value"),
        ('{"value": [{"clientState": "x"}]}', "application/json", "value.0.subscriptionId"),
    ],
)
def test_malformed_bodies_get_a_problem(world: World, body: str, content_type: str, field: str) -> None:
    resp = world.post(graph_webhook.NOTIFICATION_PATH, body, content_type)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in json.loads(resp.body)["errors"]] == [field]


def test_queue_outage_answers_503_so_graph_retries(world: World) -> None:
    world.subs.create(ANNA)
    world.fake.graph.put_event(ANNA.account, _meeting("a1", "Boston"))
    graph_webhook.configure(
        graph_webhook.GraphWebhookDeps(world.repo, world.sqs, world.queue_url + "-missing")
    )

    [(status, _headers, body)] = world.fake.graph.deliver_notifications()

    assert status == 503
    assert json.loads(body)["status"] == 503


def test_reauthorization_required_renews_the_subscription(world: World) -> None:
    channel = world.subs.create(ANNA)
    world.fake.graph.subscriptions[channel.id]["expirationDateTime"] = "2027-01-01T00:00:00.0000000Z"

    status, _, _ = world.fake.graph.send_lifecycle(channel.id, "reauthorizationRequired")

    assert status == 202
    patches = [c for c in world.fake.graph.calls if c.method == "PATCH"]
    assert [c.path for c in patches] == [f"/v1.0/subscriptions/{channel.id}"]
    renewed = world.repo.get_channel(channel.id)
    assert renewed is not None
    assert renewed.expires_at > datetime.now(UTC) + timedelta(days=6)
    assert world.jobs() == []


def test_renewing_a_subscription_graph_forgot_recreates_it(world: World) -> None:
    channel = world.subs.create(ANNA)
    world.fake.graph.subscriptions.pop(channel.id)

    renewed = world.subs.renew(channel, ANNA)

    assert renewed.id != channel.id
    assert world.repo.get_channel(channel.id) is None
    assert world.repo.get_channel(renewed.id) == renewed


def test_removed_subscription_is_recreated_and_the_calendar_resynced(world: World) -> None:
    channel = world.subs.create(ANNA)

    status, _, _ = world.fake.graph.send_lifecycle(channel.id, "subscriptionRemoved")

    assert status == 202
    assert world.repo.get_channel(channel.id) is None
    [new_id] = world.fake.graph.subscriptions
    new = world.repo.get_channel(new_id)
    assert new is not None
    assert new.connection_id == ANNA.id
    assert [(j.connection_id, j.reason) for j in world.jobs()] == [("graph-anna", "resync")]


def test_missed_notifications_queue_a_resync(world: World) -> None:
    channel = world.subs.create(ANNA)
    assert world.fake.graph.send_lifecycle(channel.id, "missed")[0] == 202
    assert [(j.connection_id, j.reason) for j in world.jobs()] == [("graph-anna", "resync")]


def test_forged_lifecycle_event_changes_nothing(world: World) -> None:
    channel = world.subs.create(ANNA)
    assert world.fake.graph.send_lifecycle(channel.id, "subscriptionRemoved", client_state="guess")[0] == 202
    assert world.repo.get_channel(channel.id) == channel
    assert world.jobs() == []


def test_deleting_a_subscription_forgets_its_channel(world: World) -> None:
    channel = world.subs.create(ANNA)
    world.subs.delete(channel)
    world.subs.delete(channel)  # already gone at Graph: still fine
    assert channel.id not in world.fake.graph.subscriptions
    assert world.repo.get_channel(channel.id) is None


def test_subscription_lifetime_is_capped_at_graphs_maximum(world: World) -> None:
    with pytest.raises(ValueError, match="10,080"):
        GraphSubscriptions(
            world.http,
            world.repo,
            notification_url=NOTIFY_URL,
            lifecycle_url=LIFECYCLE_URL,
            lifetime=timedelta(minutes=10081),
        )
    soon = Channel(
        id="s",
        source=SourceKind.GRAPH,
        connection_id="c",
        secret_sha256="0" * 64,
        expires_at=datetime(2027, 1, 2, tzinfo=UTC),
    )
    assert due_for_renewal(soon, datetime(2027, 1, 1, 1, tzinfo=UTC))
    assert not due_for_renewal(soon, datetime(2026, 12, 30, tzinfo=UTC))


def test_notification_to_delta_sync_round_trip(world: World) -> None:
    source = GraphCalendarSource(world.http.auth, session=world.fake.session, graph_base=GRAPH_BASE)
    window = SyncWindow(date(2027, 1, 1), date(2027, 12, 31))
    first = source.sync(ANNA, None, window)
    world.subs.create(ANNA)

    world.fake.graph.put_event(ANNA.account, _meeting("a9", "Customer visit Boston"))
    world.fake.graph.deliver_notifications()
    [job] = world.jobs()
    connection = world.repo.get_connection(job.connection_id)
    assert connection is not None
    result = source.sync(connection, first.cursor, window)

    assert [(e.uid, e.title) for e in result.events] == [("a9", "Customer visit Boston")]
    assert result.requests == 1
