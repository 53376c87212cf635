"""Google push channels and the webhook route, end to end: fake Google, Chalice test client, moto.

What a user relies on: a change in an employee's calendar queues a sync within seconds; channels are
replaced before Google lets them lapse; and a forged or late notification changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.bootstrap import Settings
from chalicelib.connectors.base import ConnectorError
from chalicelib.connectors.channel_secrets import secret_digest
from chalicelib.connectors.google_auth import GoogleServices, ServiceAccountKey
from chalicelib.connectors.google_watch import GoogleChannels
from chalicelib.models import Connection, SourceKind
from chalicelib.routes import google_webhook
from chalicelib.store.repository import DynamoRepository
from tests.fakes.google_server import FakeGoogle, new_service_account, serve

ANNA = "anna.schmidt@example.com"
ADDRESS = "https://coverwatch.example.test/v1/webhooks/google"
CONNECTION = Connection(id="google:anna", employee_id="anna", source=SourceKind.GOOGLE, account=ANNA)
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
# Chalice consumes a blueprint's route options on registration: a fresh blueprint for this test app.
APP = Chalice(app_name="google-webhook-test")
APP.register_blueprint(google_webhook.make_blueprint())


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with serve() as running:
        running.add_user(ANNA)
        yield running


@pytest.fixture
def repo(mocked_aws: Settings) -> DynamoRepository:
    return DynamoRepository(boto3.client("dynamodb", region_name=mocked_aws.region), mocked_aws.table_name)


@pytest.fixture
def queue(mocked_aws: Settings) -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name=mocked_aws.region)
    return sqs, sqs.get_queue_url(QueueName=mocked_aws.queue_name)["QueueUrl"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def secrets_issued() -> list[str]:
    return []


@pytest.fixture
def channels(
    fake: FakeGoogle, repo: DynamoRepository, clock: Clock, secrets_issued: list[str]
) -> GoogleChannels:
    info, public_pem = new_service_account(fake.token_uri)
    fake.register_service_account(info, public_pem)
    services = GoogleServices(ServiceAccountKey.model_validate(info), api_endpoint=fake.api_endpoint)

    def new_secret() -> str:
        secrets_issued.append(f"secret-{len(secrets_issued) + 1}-x7Qp2")
        return secrets_issued[-1]

    return GoogleChannels(services, repo, ADDRESS, clock=clock, new_secret=new_secret)


@pytest.fixture
def client(repo: DynamoRepository, queue: tuple[Any, str]) -> Iterator[Client]:
    google_webhook.configure(google_webhook.GoogleWebhookDeps(repo, queue[0], queue[1]))
    with Client(APP) as test_client:
        yield test_client
    google_webhook.configure(None)


def _queued(queue: tuple[Any, str]) -> list[dict[str, Any]]:
    sqs, url = queue
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_opening_a_channel_stores_only_a_digest_of_its_secret(
    fake: FakeGoogle, channels: GoogleChannels, repo: DynamoRepository, secrets_issued: list[str]
) -> None:
    channel = channels.open(CONNECTION)

    at_google = fake.channels[channel.id]
    assert at_google.address == ADDRESS
    assert at_google.token == secrets_issued[0]
    stored = repo.get_channel(channel.id)
    assert stored == channel
    assert channel.secret_sha256 == secret_digest(secrets_issued[0])
    assert secrets_issued[0] not in channel.model_dump_json()
    assert channel.resource_id == at_google.resource_id
    assert channel.connection_id == CONNECTION.id
    watch = fake.api_requests()[-1]
    assert watch.path == "/calendar/v3/calendars/primary/events/watch"
    assert watch.body is not None
    assert watch.body["type"] == "web_hook"


def test_google_expiry_is_trusted_over_the_one_asked_for(fake: FakeGoogle, channels: GoogleChannels) -> None:
    fake.max_channel_ttl = timedelta(hours=1)
    asked = fake.requests  # the fake caps expiry relative to its own clock, as Google does

    channel = channels.open(CONNECTION)

    assert channel.expires_at < NOW + timedelta(days=7)
    assert channel.expires_at == datetime.fromtimestamp(fake.channels[channel.id].expiration_ms / 1000, UTC)
    assert asked[-1].body is not None
    assert int(asked[-1].body["expiration"]) == int((NOW + timedelta(days=7)).timestamp() * 1000)


def test_a_channel_is_renewed_before_it_expires_new_first_then_old_stopped(
    fake: FakeGoogle, channels: GoogleChannels, repo: DynamoRepository, clock: Clock
) -> None:
    old = channels.open(CONNECTION)
    expiry = old.expires_at
    clock.now = expiry - timedelta(days=3)
    assert channels.renew_if_due(old, CONNECTION) == old  # not due yet: nothing happens
    clock.now = expiry - timedelta(hours=20)

    new = channels.renew_if_due(old, CONNECTION)

    assert new.id != old.id
    assert new.secret_sha256 != old.secret_sha256
    paths = [r.path for r in fake.api_requests()]
    assert paths[-2:] == ["/calendar/v3/calendars/primary/events/watch", "/calendar/v3/channels/stop"]
    assert fake.stopped == [old.id]
    assert repo.get_channel(old.id) is None
    assert repo.get_channel(new.id) == new


def test_stopping_a_channel_google_already_forgot_just_forgets_it(
    fake: FakeGoogle, channels: GoogleChannels, repo: DynamoRepository
) -> None:
    channel = channels.open(CONNECTION)
    del fake.channels[channel.id]  # expired at Google

    channels.stop(channel, CONNECTION)

    assert repo.get_channel(channel.id) is None


def test_a_change_notification_queues_one_sync_of_the_connection(
    fake: FakeGoogle, channels: GoogleChannels, client: Client, queue: tuple[Any, str]
) -> None:
    channel = channels.open(CONNECTION)

    created = fake.notify(client, channel.id, "sync")
    changed = fake.notify(client, channel.id, "exists")

    assert created.status_code == 200
    assert changed.status_code == 200
    assert _queued(queue) == [{"connection_id": CONNECTION.id, "reason": "notification"}]


def test_a_deleted_calendar_notification_also_queues_a_sync(
    fake: FakeGoogle, channels: GoogleChannels, client: Client, queue: tuple[Any, str]
) -> None:
    channel = channels.open(CONNECTION)

    assert fake.notify(client, channel.id, "not_exists").status_code == 200
    assert len(_queued(queue)) == 1


def test_a_wrong_or_missing_token_is_ignored_and_logged_without_the_token(
    fake: FakeGoogle,
    channels: GoogleChannels,
    client: Client,
    queue: tuple[Any, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = channels.open(CONNECTION)

    with caplog.at_level(logging.WARNING):
        forged = fake.notify(client, channel.id, token="guessed-token-123")
        bare = fake.notify(client, channel.id, use_token=False)

    assert (forged.status_code, bare.status_code) == (204, 204)
    assert _queued(queue) == []
    assert "wrong channel token" in caplog.text
    assert channel.id in caplog.text
    assert "guessed-token-123" not in caplog.text


def test_late_messages_from_a_stopped_channel_are_ignored(
    fake: FakeGoogle,
    channels: GoogleChannels,
    client: Client,
    queue: tuple[Any, str],
    secrets_issued: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = channels.open(CONNECTION)
    channels.renew(old, CONNECTION)

    with caplog.at_level(logging.WARNING):
        late = fake.notify(client, old.id, token=secrets_issued[0])

    assert late.status_code == 204
    assert _queued(queue) == []
    assert "unknown channel" in caplog.text


def test_notifications_without_google_headers_are_rejected_with_a_problem(client: Client) -> None:
    answer = client.http.post(
        google_webhook.NOTIFICATION_PATH, headers={"X-Goog-Resource-State": "changed"}, body=b""
    )

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in json.loads(answer.body)["errors"]}
    assert fields == {"x-goog-channel-id", "x-goog-resource-state"}


def test_a_queue_failure_answers_503_so_google_delivers_again(
    fake: FakeGoogle, channels: GoogleChannels, repo: DynamoRepository, queue: tuple[Any, str]
) -> None:
    channel = channels.open(CONNECTION)
    google_webhook.configure(google_webhook.GoogleWebhookDeps(repo, queue[0], queue[1] + "-missing"))
    try:
        with Client(APP) as broken:
            answer = fake.notify(broken, channel.id)
    finally:
        google_webhook.configure(None)

    assert answer.status_code == 503


def test_a_refused_watch_stores_nothing_and_says_whether_to_retry(
    fake: FakeGoogle, channels: GoogleChannels, repo: DynamoRepository
) -> None:
    fake.fail_next(403, reason="forbidden")
    with pytest.raises(ConnectorError) as refused:
        channels.open(CONNECTION)
    fake.fail_next(429, retry_after="30")
    with pytest.raises(ConnectorError) as throttled:
        channels.open(CONNECTION)

    assert refused.value.permanent
    assert not throttled.value.permanent
    assert throttled.value.retry_after == 30.0
    assert fake.channels == {}
