"""Push channels are renewed before they lapse; one failure does not stop the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from chalicelib.channels import open_channel, renew_channels
from chalicelib.connectors.base import ConnectorError
from chalicelib.models import Channel, Connection, SourceKind
from chalicelib.store.repository import DynamoRepository

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


class RecordingManager:
    """A channel manager that extends channels by a week, or fails for chosen connections."""

    def __init__(self, repo: DynamoRepository, failing: set[str] | None = None) -> None:
        self.repo = repo
        self.failing = failing or set()
        self.renewed: list[str] = []

    def open(self, connection: Connection) -> Channel:
        if connection.id in self.failing:
            raise ConnectorError("graph", "mailbox not licensed for Exchange Online")
        channel = Channel(
            id=f"sub-{connection.id}",
            source=connection.source,
            connection_id=connection.id,
            secret_sha256="a" * 64,
            expires_at=NOW + timedelta(days=3),
        )
        self.repo.put_channel(channel)
        return channel

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        if connection.id in self.failing:
            raise ConnectorError("graph", "subscription quota reached")
        renewed = channel.model_copy(update={"expires_at": NOW + timedelta(days=7)})
        self.repo.put_channel(renewed)
        self.renewed.append(channel.id)
        return renewed


@pytest.fixture
def repo(mocked_aws: Settings) -> DynamoRepository:
    r = bootstrap.repository(mocked_aws)
    assert isinstance(r, DynamoRepository)
    return r


def _connection(repo: DynamoRepository, name: str, source: SourceKind = SourceKind.GRAPH) -> Connection:
    connection = Connection(id=name, employee_id="emp-1", source=source, account=f"{name}@example.com")
    repo.put_connection(connection)
    return connection


def _channel(repo: DynamoRepository, connection_id: str, expires_in: timedelta) -> None:
    repo.put_channel(
        Channel(
            id=f"sub-{connection_id}",
            source=SourceKind.GRAPH,
            connection_id=connection_id,
            secret_sha256="b" * 64,
            expires_at=NOW + expires_in,
        )
    )


def test_channels_expiring_soon_are_renewed_and_later_ones_left_alone(repo: DynamoRepository) -> None:
    for name, expires_in in [
        ("soon", timedelta(hours=10)),
        ("tomorrow", timedelta(hours=30)),
        ("later", timedelta(days=5)),
    ]:
        _connection(repo, name)
        _channel(repo, name, expires_in)
    manager = RecordingManager(repo)
    report = renew_channels(repo, {SourceKind.GRAPH: manager}, NOW)
    assert report.renewed == ["sub-soon", "sub-tomorrow"]
    assert repo.channels_expiring_before(NOW + timedelta(days=2)) == []  # nothing left close to lapsing
    assert renew_channels(repo, {SourceKind.GRAPH: manager}, NOW).renewed == []


def test_a_failed_renewal_is_reported_and_the_others_go_on(repo: DynamoRepository) -> None:
    for name in ("broken", "fine"):
        _connection(repo, name)
        _channel(repo, name, timedelta(hours=5))
    report = renew_channels(repo, {SourceKind.GRAPH: RecordingManager(repo, failing={"broken"})}, NOW)
    assert report.renewed == ["sub-fine"]
    assert report.failed == {"sub-broken": "subscription quota reached"}


def test_a_channel_whose_connection_is_gone_is_forgotten(repo: DynamoRepository) -> None:
    _channel(repo, "deleted-connection", timedelta(hours=5))
    report = renew_channels(repo, {SourceKind.GRAPH: RecordingManager(repo)}, NOW)
    assert report.orphaned == ["sub-deleted-connection"]
    assert repo.get_channel("sub-deleted-connection") is None
    assert repo.channels_expiring_before(NOW + timedelta(days=30)) == []


def test_opening_a_channel_never_fails_the_connection(repo: DynamoRepository) -> None:
    manager = RecordingManager(repo, failing={"unlicensed"})
    assert open_channel(_connection(repo, "unlicensed"), {SourceKind.GRAPH: manager}) is None
    opened = open_channel(_connection(repo, "ok"), {SourceKind.GRAPH: manager})
    assert opened is not None
    assert repo.get_channel(opened.id) == opened
    assert open_channel(_connection(repo, "ics", SourceKind.ICS), {SourceKind.GRAPH: manager}) is None


def test_a_connection_without_a_channel_gets_one_from_the_renewal_schedule(repo: DynamoRepository) -> None:
    """The API role holds no provider credentials, so the schedule opens the first channel."""
    manager = RecordingManager(repo, failing={"unlicensed"})
    _connection(repo, "new")
    _connection(repo, "unlicensed")
    _connection(repo, "has-one")
    _channel(repo, "has-one", timedelta(days=5))
    _connection(repo, "feed", SourceKind.ICS)  # no push for ICS feeds: nothing to open
    report = renew_channels(repo, {SourceKind.GRAPH: manager}, NOW)
    assert report.opened == ["new"]
    again = renew_channels(repo, {SourceKind.GRAPH: manager}, NOW)
    assert again.opened == []
