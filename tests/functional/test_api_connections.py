"""Calendar connections through the API: connect, see the last sync and the last error, disconnect."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import Scope
from chalicelib.api.views import ConnectionCreated, ConnectionStatus
from chalicelib.bootstrap import Settings
from chalicelib.connectors.base import ConnectorError, SyncResult, SyncWindow
from chalicelib.jobs import SyncJob
from chalicelib.models import Channel, Connection, SourceKind, SyncState
from chalicelib.routes import directory_http
from chalicelib.worker import process_messages
from tests.builders import paris_meeting, scan_deps
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}
ANNA = {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}
GRAPH = {"employee_id": "emp-1", "source": "graph", "account": "anna.schmidt@example.com"}


def _send(api: KeyedClient, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    return api.http.request(method, path, headers=headers, body=None if body is None else json.dumps(body))


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


def _queued(settings: Settings) -> list[dict[str, Any]]:
    sqs = bootstrap.aws_client("sqs", settings)
    url = sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    return [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


@pytest.fixture
def anna(api: KeyedClient) -> KeyedClient:
    assert _send(api, "PUT", "/v1/employees/emp-1", ANNA).status_code == 200
    return api


class DeltaSource:
    """Answers the first sync with the whole calendar and a delta link, as Graph does."""

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        event = paris_meeting(date(2027, 3, 3), "evt-1", SourceKind.GRAPH)
        return SyncResult(events=[event], cursor="https://graph.example/delta?$deltatoken=s3cr3t", full=True)


class FailingSource:
    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        raise ConnectorError(
            "graph", "mailbox anna.schmidt@example.com has no Exchange licence", permanent=True
        )


def test_a_connected_calendar_is_found_at_its_location_with_its_sync(
    anna: KeyedClient, mocked_aws: Settings
) -> None:
    r = _send(anna, "POST", "/v1/connections", GRAPH)
    assert r.status_code == 201
    connection = ConnectionCreated.model_validate(_json(r)).connection
    assert (connection.employee_id, connection.source) == ("emp-1", SourceKind.GRAPH)
    assert r.headers["Location"] == f"/v1/connections/{connection.id}"
    assert [(m["connection_id"], m["reason"]) for m in _queued(mocked_aws)] == [(connection.id, "manual")]

    status = ConnectionStatus.model_validate(_json(anna.http.get(r.headers["Location"])))
    assert (status.connection, status.last_sync, status.last_error) == (connection, None, None)

    again = _send(
        anna,
        "POST",
        "/v1/employees/emp-1/connections",
        {k: v for k, v in GRAPH.items() if k != "employee_id"},
    )
    assert _json(again)["connection"]["id"] == connection.id, "the same calendar is one connection either way"
    entries = [
        json.loads(i["data"]["S"])
        for i in bootstrap.aws_client("dynamodb", mocked_aws).scan(TableName=mocked_aws.table_name)["Items"]
        if i["PK"]["S"].startswith("AUDIT#")
    ]
    assert sorted(e["action"] for e in entries) == [
        "connection.create",
        "connection.create",
        "employee.create",
    ]
    assert "anna.schmidt" not in json.dumps(entries)


class OpeningManager:
    """A provider that opens a channel for every connection it is asked about."""

    def __init__(self, settings: Settings) -> None:
        self.repo = bootstrap.repository(settings)

    def open(self, connection: Connection) -> Channel:
        channel = Channel(
            id=f"sub-{connection.id}",
            source=connection.source,
            connection_id=connection.id,
            secret_sha256="b" * 64,
            expires_at=datetime.now(UTC) + timedelta(days=3),
        )
        self.repo.put_channel(channel)
        return channel

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        return channel


def test_connecting_opens_the_push_channel_when_the_provider_is_configured(
    anna: KeyedClient, mocked_aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        bootstrap, "channel_managers", lambda _: {SourceKind.GRAPH: OpeningManager(mocked_aws)}
    )
    connection_id = _json(_send(anna, "POST", "/v1/connections", GRAPH))["connection"]["id"]
    channels = bootstrap.repository(mocked_aws).channels_of(connection_id)
    assert [c.id for c in channels] == [f"sub-{connection_id}"]


def test_the_last_sync_is_shown_without_its_cursor(
    anna: KeyedClient, mocked_aws: Settings, tmp_path: Path
) -> None:
    connection_id = _json(_send(anna, "POST", "/v1/connections", GRAPH))["connection"]["id"]
    deps = scan_deps(mocked_aws, tmp_path)
    job = SyncJob(connection_id=connection_id).model_dump_json()
    assert process_messages([("m1", job)], deps, {SourceKind.GRAPH: DeltaSource()}).failed == {}
    state = bootstrap.repository(mocked_aws).get_sync_state(connection_id)
    assert state is not None
    assert state.cursor

    r = anna.http.get(f"/v1/connections/{connection_id}")
    body = _json(r)
    assert body["last_sync"]["has_cursor"] is True
    assert state.window_start is not None
    assert body["last_sync"]["window_start"] == state.window_start.isoformat()
    assert datetime.fromisoformat(body["last_sync"]["synced_at"]) == state.synced_at
    assert "s3cr3t" not in r.body.decode()
    assert body["last_error"] is None


def test_a_failed_read_is_kept_and_shown_as_the_last_error(
    anna: KeyedClient, mocked_aws: Settings, tmp_path: Path
) -> None:
    connection_id = _json(_send(anna, "POST", "/v1/connections", GRAPH))["connection"]["id"]
    deps = scan_deps(mocked_aws, tmp_path)
    job = SyncJob(connection_id=connection_id).model_dump_json()
    before = datetime.now(UTC)
    result = process_messages([("m1", job)], deps, {SourceKind.GRAPH: FailingSource()})
    assert list(result.failed) == ["m1"], "the message is still retried"

    status = ConnectionStatus.model_validate(_json(anna.http.get(f"/v1/connections/{connection_id}")))
    assert status.last_error is not None
    assert "no Exchange licence" in status.last_error.reason
    assert status.last_error.permanent is True
    assert before - timedelta(seconds=1) <= status.last_error.at <= datetime.now(UTC)
    assert status.last_sync is None

    # a message for a calendar that was disconnected meanwhile leaves nothing behind
    assert anna.http.delete(f"/v1/connections/{connection_id}").status_code == 204
    process_messages([("m2", job)], deps, {SourceKind.GRAPH: FailingSource()})
    assert bootstrap.repository(mocked_aws).last_sync_failure(connection_id) is None


def test_ids_with_reserved_characters_are_addressed_encoded(anna: KeyedClient, mocked_aws: Settings) -> None:
    repo = bootstrap.repository(mocked_aws)
    graph_id = "graph:anna@example.com/calendars#work+1="
    repo.put_connection(
        Connection(id=graph_id, employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com")
    )
    r = anna.http.get(f"/v1/connections/{quote(graph_id, safe='')}")
    assert r.status_code == 200
    assert _json(r)["connection"]["id"] == graph_id

    ics = _send(
        anna,
        "POST",
        "/v1/connections",
        {**GRAPH, "source": "ics", "account": "https://feeds.example.com/a.ics"},
    )
    ics_id = _json(ics)["connection"]["id"]
    assert ics_id.startswith("ics-")
    assert _json(anna.http.get(ics.headers["Location"]))["connection"]["id"] == ics_id

    assert anna.http.delete(f"/v1/connections/{quote(graph_id, safe='')}").status_code == 204
    assert repo.get_connection(graph_id) is None
    assert repo.get_connection(ics_id) is not None


class RecordingStopper:
    def __init__(self) -> None:
        self.stopped: list[tuple[str, str]] = []

    def stop(self, channel: Channel, connection: Connection) -> None:
        self.stopped.append((channel.id, connection.id))


def test_disconnecting_stops_the_channel_and_forgets_state_and_events(
    anna: KeyedClient, mocked_aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopper = RecordingStopper()
    monkeypatch.setattr(directory_http, "channel_stoppers", lambda _: {SourceKind.GRAPH: stopper})
    repo = bootstrap.repository(mocked_aws)
    connection_id = _json(_send(anna, "POST", "/v1/connections", GRAPH))["connection"]["id"]
    other = _json(_send(anna, "POST", "/v1/connections", {**GRAPH, "account": "anna@other.example"}))[
        "connection"
    ]
    for cid in (connection_id, other["id"]):
        repo.save_sync_state(SyncState(connection_id=cid, source=SourceKind.GRAPH, cursor="delta-token"))
        repo.apply_event_changes(cid, [paris_meeting(date(2027, 3, 3))], [], replace_all=False)
        repo.put_channel(
            Channel(
                id=f"sub-{cid}",
                source=SourceKind.GRAPH,
                connection_id=cid,
                secret_sha256="a" * 64,
                expires_at=datetime.now(UTC) + timedelta(days=3),
            )
        )

    assert anna.http.delete(f"/v1/connections/{connection_id}").status_code == 204
    assert stopper.stopped == [(f"sub-{connection_id}", connection_id)]
    assert anna.http.get(f"/v1/connections/{connection_id}").status_code == 404
    items = bootstrap.aws_client("dynamodb", mocked_aws).scan(TableName=mocked_aws.table_name)["Items"]
    left = [i for i in items if connection_id in json.dumps(i) and not i["PK"]["S"].startswith("AUDIT#")]
    assert left == []
    assert [c.id for c in repo.all_connections()] == [other["id"]]
    assert len(repo.events_of(other["id"])) == 1
    assert repo.get_sync_state(other["id"]) is not None
    assert [c.id for c in repo.channels_of(other["id"])] == [f"sub-{other['id']}"]
    assert anna.http.delete(f"/v1/connections/{connection_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**GRAPH, "employee_id": "ghost"}, 404, "employee_id"),
        ({**GRAPH, "source": "booking"}, 422, "(body)"),
        ({**GRAPH, "source": "ics", "account": "feeds.example.com/a.ics"}, 422, "(body)"),
        ({k: v for k, v in GRAPH.items() if k != "employee_id"}, 400, "employee_id"),
        ({**GRAPH, "source": "fax"}, 400, "source"),
    ],
)
def test_a_connection_that_cannot_be_made_names_the_field(
    anna: KeyedClient, mocked_aws: Settings, body: dict[str, Any], status: int, field: str
) -> None:
    r = _send(anna, "POST", "/v1/connections", body)
    assert r.status_code == status
    assert _json(r)["errors"][0]["field"] == field
    assert bootstrap.repository(mocked_aws).all_connections() == []
    assert _queued(mocked_aws) == []


def test_connections_need_read_to_look_and_write_to_change(anna: KeyedClient, mocked_aws: Settings) -> None:
    connection_id = _json(_send(anna, "POST", "/v1/connections", GRAPH))["connection"]["id"]
    reader = issue_key(mocked_aws, Scope.READ)
    booking_tool = issue_key(mocked_aws, Scope.CHECK)
    assert _send(anna, "GET", f"/v1/connections/{connection_id}", key=booking_tool).status_code == 403
    assert _send(anna, "GET", f"/v1/connections/{connection_id}", key=reader).status_code == 200
    assert _send(anna, "POST", "/v1/connections", GRAPH, key=reader).status_code == 403
    assert _send(anna, "DELETE", f"/v1/connections/{connection_id}", key=reader).status_code == 403
    assert anna.http.get("/v1/connections/nope").status_code == 404
    assert _json(anna.http.get("/v1/connections/nope"))["errors"][0]["field"] == "connection_id"


def test_a_private_feed_url_is_never_shown_back_in_full(anna: KeyedClient) -> None:
    feed = "https://calendar.example.com/ical/anna%40example.com/private-9f86d081884c7d659a2feaa0c55ad015/basic.ics?token=s3cr3t"
    created = _send(
        anna, "POST", "/v1/connections", {"employee_id": "emp-1", "source": "ics", "account": feed}
    )
    assert created.status_code == 201
    shown = _json(created)["connection"]["account"]
    assert shown.startswith("https://calendar.example.com/ical/")
    assert "s3cr3t" not in shown
    assert "9f86d081884c7d659a2feaa0c55ad015" not in shown
    status = _send(anna, "GET", created.headers["Location"])
    assert "s3cr3t" not in json.dumps(_json(status))
