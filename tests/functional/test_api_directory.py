"""Employees, certificates and calendar connections pushed through the API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from tests.builders import assessment, trip
from tests.functional.conftest import KeyedClient

ANNA = {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}


@pytest.fixture
def client(mocked_aws: Settings, api: KeyedClient) -> KeyedClient:
    return api


def _send(client: KeyedClient, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    r = getattr(client.http, method)(
        path, headers={"Content-Type": "application/json"}, body=json.dumps(body)
    )
    return r.status_code, json.loads(r.body)


def _queued(settings: Settings) -> list[dict[str, Any]]:
    sqs = bootstrap.aws_client("sqs", settings)
    url = sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_an_employee_is_created_from_the_path_id_and_validated(client: KeyedClient) -> None:
    status, body = _send(client, "put", "/v1/employees/emp-1", ANNA)
    assert status == 200
    assert body["employee"]["id"] == "emp-1"
    status, problem = _send(client, "put", "/v1/employees/emp-2", {**ANNA, "home_country": "Deutschland"})
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["home_country"]


def test_recording_a_certificate_covers_the_stored_trip_at_once(
    client: KeyedClient, mocked_aws: Settings
) -> None:
    _send(client, "put", "/v1/employees/emp-1", ANNA)
    bootstrap.repository(mocked_aws).save_trip(trip(date(2027, 3, 3)), assessment())
    status, body = _send(
        client,
        "put",
        "/v1/certificates/a1-77",
        {
            "employee_id": "emp-1",
            "document": "A1",
            "issuing_country": "DE",
            "host_countries": ["FR"],
            "valid_from": "2027-03-01",
            "valid_to": "2027-03-31",
            "reference": "TK-2027-77",
        },
    )
    assert status == 200
    assert body["trips"] == [{"trip_id": "trp_1", "country": "FR", "status": "covered"}]
    assert (
        bootstrap.repository(mocked_aws).trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    )


def test_a_certificate_for_an_unknown_employee_is_404(client: KeyedClient) -> None:
    status, problem = _send(
        client,
        "put",
        "/v1/certificates/a1-1",
        {
            "employee_id": "ghost",
            "document": "A1",
            "issuing_country": "DE",
            "host_countries": ["FR"],
            "valid_from": "2027-03-01",
            "valid_to": "2027-03-31",
        },
    )
    assert status == 404
    assert problem["errors"][0]["field"] == "employee_id"


def test_connecting_a_calendar_is_idempotent_and_queues_its_first_sync(
    client: KeyedClient, mocked_aws: Settings
) -> None:
    _send(client, "put", "/v1/employees/emp-1", ANNA)
    request = {"source": "graph", "account": "anna.schmidt@example.com"}
    status, first = _send(client, "post", "/v1/employees/emp-1/connections", request)
    assert status == 201
    _, again = _send(client, "post", "/v1/employees/emp-1/connections", request)
    assert first["connection"]["id"] == again["connection"]["id"]
    assert [c.id for c in bootstrap.repository(mocked_aws).connections_of("emp-1")] == [
        first["connection"]["id"]
    ]
    queued = _queued(mocked_aws)
    assert {(m["connection_id"], m["reason"]) for m in queued} == {(first["connection"]["id"], "manual")}


@pytest.mark.parametrize(
    ("request_body", "field", "expected"),
    [
        ({"source": "booking", "account": "x@example.com"}, "(body)", 422),
        ({"source": "ics", "account": "feeds.example.com/anna.ics"}, "(body)", 422),
        ({"source": "fax", "account": "x@example.com"}, "source", 400),
    ],
)
def test_a_bad_connection_names_the_problem(
    client: KeyedClient, request_body: dict[str, str], field: str, expected: int
) -> None:
    _send(client, "put", "/v1/employees/emp-1", ANNA)
    status, problem = _send(client, "post", "/v1/employees/emp-1/connections", request_body)
    assert status == expected
    assert problem["errors"][0]["field"] == field


def test_the_hourly_fan_out_queues_every_connection(client: KeyedClient, mocked_aws: Settings) -> None:
    _send(client, "put", "/v1/employees/emp-1", ANNA)
    for account in ("anna@example.com", "https://feeds.example.com/anna.ics"):
        source = "ics" if account.startswith("https") else "graph"
        _send(client, "post", "/v1/employees/emp-1/connections", {"source": source, "account": account})
    _queued(mocked_aws)  # drain the first-sync jobs
    result = client.lambda_.invoke(
        "fan_out_syncs",
        client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        ),
    ).payload
    assert result == {"connections": 2, "queued": 2}
    assert {m["reason"] for m in _queued(mocked_aws)} == {"schedule"}
