"""Employee records through the API: create, read, erase everything of one, and import an HR export."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import Scope
from chalicelib.api.views import EmployeeRecord, EmployeeWritten, ImportReport
from chalicelib.bootstrap import Settings
from chalicelib.models import Channel, Connection, Employee, Purpose, SourceKind, Status, SyncState
from chalicelib.routes import directory_http
from chalicelib.store.repository import SyncFailure, TripOverride
from tests.builders import assessment, paris_meeting, trip
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}
NOW = datetime.now(UTC)
CSV = {"Content-Type": "text/csv"}
ANNA = {
    "name": "Anna Schmidt",
    "email": "anna.schmidt@example.com",
    "home_country": "DE",
    "nationalities": ["DE"],
    "residence_country": "DE",
}
FLIGHT = {
    "@context": "https://schema.org",
    "@type": "FlightReservation",
    "reservationNumber": "LH7QX2",
    "reservationFor": {
        "@type": "Flight",
        "flightNumber": "1034",
        "airline": {"@type": "Airline", "iataCode": "LH"},
        "departureAirport": {"@type": "Airport", "iataCode": "FRA"},
        "arrivalAirport": {"@type": "Airport", "iataCode": "CDG"},
        "departureTime": "2027-04-05T07:10:00+02:00",
        "arrivalTime": "2027-04-05T08:25:00+02:00",
    },
}


def _send(api: KeyedClient, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    raw = json.dumps(body) if body is not None else None
    return api.http.request(method, path, headers=headers, body=raw)


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


def _items(settings: Settings) -> list[dict[str, Any]]:
    db = bootstrap.aws_client("dynamodb", settings)
    items: list[dict[str, Any]] = []
    for page in db.get_paginator("scan").paginate(TableName=settings.table_name):
        items.extend(page["Items"])
    return items


def _audit(settings: Settings) -> list[dict[str, Any]]:
    entries = [json.loads(i["data"]["S"]) for i in _items(settings) if i["PK"]["S"].startswith("AUDIT#")]
    return sorted(entries, key=lambda e: e["at"])


# PUT and GET --------------------------------------------------------------------------------------------


def test_an_employee_is_created_read_back_and_replaced(api: KeyedClient, mocked_aws: Settings) -> None:
    r = _send(api, "PUT", "/v1/employees/emp-1", ANNA)
    assert r.status_code == 200
    assert EmployeeWritten.model_validate(_json(r)).employee.id == "emp-1"

    r = api.http.get("/v1/employees/emp-1")
    assert r.status_code == 200
    assert EmployeeRecord.model_validate(_json(r)).employee.name == "Anna Schmidt"

    r = _send(api, "PUT", "/v1/employees/emp-1", {**ANNA, "residence_country": "AT"})
    assert r.status_code == 200
    assert _json(api.http.get("/v1/employees/emp-1"))["employee"]["residence_country"] == "AT"

    actions = [(e["action"], e["fields"]) for e in _audit(mocked_aws)]
    assert actions == [("employee.create", sorted(ANNA)), ("employee.update", sorted(ANNA))]
    assert "Anna" not in json.dumps(_audit(mocked_aws))


def test_an_unknown_employee_is_404_and_reading_needs_the_read_scope(
    api: KeyedClient, mocked_aws: Settings
) -> None:
    r = api.http.get("/v1/employees/nobody")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert _json(r)["errors"][0]["field"] == "employee_id"

    _send(api, "PUT", "/v1/employees/emp-1", ANNA)
    booking_tool = issue_key(mocked_aws, Scope.CHECK)
    r = api.http.get("/v1/employees/emp-1", headers={"Authorization": f"Bearer {booking_tool}"})
    assert r.status_code == 403
    reader = issue_key(mocked_aws, Scope.READ)
    assert _send(api, "PUT", "/v1/employees/emp-2", ANNA, key=reader).status_code == 403
    assert (
        api.http.get("/v1/employees/emp-1", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**ANNA, "home_country": "Deutschland"}, 422, "home_country"),
        ({**ANNA, "salary": 1}, 400, "salary"),
        ({k: v for k, v in ANNA.items() if k != "name"}, 400, "name"),
        ([ANNA], 400, "(body)"),
    ],
)
def test_a_bad_employee_names_the_field(api: KeyedClient, body: Any, status: int, field: str) -> None:
    r = _send(api, "PUT", "/v1/employees/emp-1", body)
    assert r.status_code == status
    assert [e["field"] for e in _json(r)["errors"]] == [field]
    assert api.http.get("/v1/employees/emp-1").status_code == 404


def test_an_id_with_reserved_characters_travels_encoded(api: KeyedClient) -> None:
    assert _send(api, "PUT", "/v1/employees/hr%2F0042%40acme", ANNA).status_code == 200
    r = api.http.get("/v1/employees/hr%2F0042%40acme")
    assert _json(r)["employee"]["id"] == "hr/0042@acme"


# DELETE: erasure ----------------------------------------------------------------------------------------


class RecordingStopper:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.stopped: list[str] = []

    def stop(self, channel: Channel, connection: Connection) -> None:
        if self.fail:
            raise RuntimeError("provider unreachable")
        self.stopped.append(channel.id)


def _everything_of(api: KeyedClient, settings: Settings, employee_id: str) -> str:
    """An employee with one of every kind of record coverwatch keeps; returns their calendar's id."""
    repo = bootstrap.repository(settings)
    assert _send(api, "PUT", f"/v1/employees/{employee_id}", ANNA).status_code == 200
    repo.save_trip(trip(date(2027, 3, 3), employee_id=employee_id, id=f"trp-{employee_id}"), assessment())
    repo.put_trip_answer(employee_id, f"trp-{employee_id}", Purpose.WORK, date(2027, 3, 3))
    override = TripOverride(
        employee_id=employee_id, trip_id=f"trp-{employee_id}", purpose=Purpose.WORK, by="key:x", at=NOW
    )
    repo.put_trip_override(override, trip_version=1, trip_end=date(2027, 3, 3))
    certificate = {
        "document": "A1",
        "issuing_country": "DE",
        "host_countries": ["FR"],
        "valid_from": "2027-03-01",
        "valid_to": "2027-03-31",
        "status": "applied",
    }
    assert _send(api, "POST", f"/v1/employees/{employee_id}/certificates", certificate).status_code == 201
    r = _send(
        api, "POST", "/v1/connections", {"employee_id": employee_id, "source": "graph", "account": "a@x.eu"}
    )
    connection_id: str = _json(r)["connection"]["id"]
    repo.save_sync_state(
        SyncState(
            connection_id=connection_id, source=SourceKind.GRAPH, cursor="delta", synced_at=datetime.now(UTC)
        )
    )
    repo.apply_event_changes(connection_id, [paris_meeting(date(2027, 3, 3))], [], replace_all=False)
    repo.put_channel(
        Channel(
            id=f"sub-{employee_id}",
            source=SourceKind.GRAPH,
            connection_id=connection_id,
            secret_sha256="a" * 64,
            expires_at=datetime.now(UTC) + timedelta(days=3),
        )
    )
    repo.record_sync_failure(SyncFailure(connection_id, datetime.now(UTC), "mailbox not licensed", True))
    r = api.http.post(
        f"/v1/bookings?employee_id={employee_id}",
        headers={"Content-Type": "application/ld+json"},
        body=json.dumps(FLIGHT),
    )
    assert r.status_code == 202
    return connection_id


def test_erasing_an_employee_leaves_nothing_of_them_but_ids_in_the_audit_trail(
    api: KeyedClient, mocked_aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopper = RecordingStopper()
    monkeypatch.setattr(directory_http, "channel_stoppers", lambda _: {SourceKind.GRAPH: stopper})
    _everything_of(api, mocked_aws, "emp-anna-7")
    _everything_of(api, mocked_aws, "emp-ben-8")
    mentions = [i for i in _items(mocked_aws) if "emp-anna-7" in json.dumps(i)]
    kinds = {i["SK"]["S"].split("#")[0] for i in mentions} | {i["PK"]["S"].split("#")[0] for i in mentions}
    assert kinds >= {"PROFILE", "CERT", "TRIP", "TRIPHIST", "TRIPID", "ANSWER", "OVERRIDE", "ALERT", "CONN"}
    assert any(i["PK"]["S"] == "CONN#booking-emp-anna-7" for i in mentions), "the bookings calendar too"
    before = len(_items(mocked_aws))

    r = api.http.delete("/v1/employees/emp-anna-7")
    assert r.status_code == 204
    assert api.http.get("/v1/employees/emp-anna-7").status_code == 404
    left = [i for i in _items(mocked_aws) if "emp-anna-7" in json.dumps(i)]
    assert left, "the audit trail keeps the ids"
    assert all(i["PK"]["S"].startswith("AUDIT#") for i in left)
    assert len(_items(mocked_aws)) < before
    assert stopper.stopped == ["sub-emp-anna-7"]
    repo = bootstrap.repository(mocked_aws)
    assert api.http.get("/v1/employees/emp-ben-8").status_code == 200, "the other employee is untouched"
    assert "trp-emp-ben-8" in [t.trip.id for t in repo.trips_of("emp-ben-8")]
    assert len(repo.certificates_of("emp-ben-8")) == 1
    ben_calendars = repo.connections_of("emp-ben-8")
    assert len(ben_calendars) == 2
    assert [ch.id for c in ben_calendars for ch in repo.channels_of(c.id)] == ["sub-emp-ben-8"]
    assert [e["action"] for e in _audit(mocked_aws)][-1] == "employee.delete"
    assert "Anna" not in json.dumps(left)

    assert api.http.delete("/v1/employees/emp-anna-7").status_code == 404


def test_a_channel_the_provider_cannot_stop_is_forgotten_and_logged_by_id(
    api: KeyedClient, mocked_aws: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        directory_http, "channel_stoppers", lambda _: {SourceKind.GRAPH: RecordingStopper(True)}
    )
    connection_id = _everything_of(api, mocked_aws, "emp-anna-7")
    caplog.set_level(logging.WARNING, logger="coverwatch.directory")

    assert api.http.delete("/v1/employees/emp-anna-7").status_code == 204
    assert bootstrap.repository(mocked_aws).get_channel("sub-emp-anna-7") is None
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "coverwatch.directory"]
    assert "sub-emp-anna-7" in warning
    assert connection_id in warning
    assert "a@x.eu" not in warning


def test_erasure_is_for_admins_only(api: KeyedClient, mocked_aws: Settings) -> None:
    _send(api, "PUT", "/v1/employees/emp-1", ANNA)
    writer = issue_key(mocked_aws, Scope.WRITE)
    r = api.http.delete("/v1/employees/emp-1", headers={"Authorization": f"Bearer {writer}"})
    assert r.status_code == 403
    assert "'admin' scope" in _json(r)["detail"]
    assert api.http.get("/v1/employees/emp-1").status_code == 200
    assert api.http.delete("/v1/employees/nobody").status_code == 404


# POST /v1/employees/import ------------------------------------------------------------------------------

MESSY = (
    "\ufeffID;Name;Home Country;NATIONALITIES;residence_country;E-Mail;Department\r\n"
    "emp-1;Anna Schmidt;DE;DE|FR;DE;anna@example.com;Sales\r\n"
    "emp-2;;DE;DE;DE;;Sales\r\n"
    "emp-3;Carla Rossi;XX;IT;IT;;\r\n"
    "emp-4;Dirk Jansen;FR;FR;FR;;\r\n"
    "\r\n"
    "emp-1;Anna Again;DE;DE;DE;;\r\n"
    "emp-5;Eva Berg;SE;SE;SE;;\r\n"
)


def _import(api: KeyedClient, text: str | bytes, query: str = "", **headers: str) -> Any:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return api.http.post(f"/v1/employees/import{query}", headers={**CSV, **headers}, body=body)


def test_an_hr_export_is_imported_with_a_report_of_every_rejected_row(
    api: KeyedClient, mocked_aws: Settings
) -> None:
    repo = bootstrap.repository(mocked_aws)
    repo.put_employee(
        Employee(
            id="emp-4", name="Dirk Jansen", home_country="DE", nationalities=("DE",), residence_country="DE"
        )
    )
    repo.put_employee(
        Employee(
            id="emp-5", name="Eva Berg", home_country="SE", nationalities=("SE",), residence_country="SE"
        )
    )
    repo.save_trip(trip(date(2027, 3, 3), employee_id="emp-4", id="trp-dirk"), assessment())

    dry = _import(api, MESSY, "?dry_run=true")
    assert dry.status_code == 200
    report = ImportReport.model_validate(_json(dry))
    assert (report.dry_run, report.created, report.updated, report.unchanged) == (True, 1, 1, 1)
    assert repo.get_employee("emp-1") is None, "a dry run stores nothing"
    assert _audit(mocked_aws) == []

    r = _import(api, MESSY)
    assert r.status_code == 200
    body = _json(r)
    assert {k: body[k] for k in ("dry_run", "created", "updated", "unchanged")} == {
        "dry_run": False,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
    }
    assert body["rejected"] == [
        {"row": 3, "id": "emp-2", "errors": [{"field": "name", "message": "Field required"}]},
        {
            "row": 4,
            "id": "emp-3",
            "errors": [
                {
                    "field": "home_country",
                    "message": "'XX' is not an ISO 3166-1 alpha-2 country code (e.g. 'DE', 'FR', 'US')",
                }
            ],
        },
        {"row": 7, "id": "emp-1", "errors": [{"field": "id", "message": "id 'emp-1' is already on line 2"}]},
    ]
    anna = repo.get_employee("emp-1")
    assert anna is not None
    assert (anna.name, anna.nationalities, anna.email) == ("Anna Schmidt", ("DE", "FR"), "anna@example.com")
    (dirk_trip,) = repo.trips_of("emp-4")
    assert dirk_trip.assessment.status is Status.NOT_REQUIRED, "a home move to France re-decided the trip"
    entries = [(e["action"], e["employee_id"], e["fields"]) for e in _audit(mocked_aws)]
    assert sorted(entries) == [
        ("employee.import", "emp-1", ["email", "home_country", "name", "nationalities", "residence_country"]),
        ("employee.import", "emp-4", ["home_country", "name", "nationalities", "residence_country"]),
    ]

    again = _json(_import(api, MESSY))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_a_comma_separated_export_with_quoted_cells_is_read(api: KeyedClient, mocked_aws: Settings) -> None:
    text = (
        "id,name,home_country,nationalities,residence_country,language\n"
        'emp-9,"Schmidt, Anna",DE,"DE;AT",AT,de\n'
    )
    body = _json(_import(api, text))
    assert (body["created"], body["rejected"]) == (1, [])
    anna = bootstrap.repository(mocked_aws).get_employee("emp-9")
    assert anna is not None
    assert (anna.name, anna.nationalities, anna.residence_country, anna.language) == (
        "Schmidt, Anna",
        ("DE", "AT"),
        "AT",
        "de",
    )


def test_a_file_without_the_required_columns_is_422_naming_them(api: KeyedClient) -> None:
    r = _import(api, "id;name;department\nemp-1;Anna;Sales\n")
    assert r.status_code == 422
    problem = _json(r)
    assert [e["field"] for e in problem["errors"]] == ["home_country", "nationalities", "residence_country"]
    assert "header" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "query", "status", "field"),
    [
        ("", "", 400, "(body)"),
        ("\n\n", "", 400, "(body)"),
        ("id,name,home_country,nationalities,residence_country\n", "?dry_run=maybe", 400, "dry_run"),
        ("id,name,home_country,nationalities,residence_country\n", "?force=1", 400, "force"),
    ],
)
def test_an_unusable_import_request_is_400(
    api: KeyedClient, body: str, query: str, status: int, field: str
) -> None:
    r = _import(api, body, query)
    assert r.status_code == status
    assert _json(r)["errors"][0]["field"] == field


def test_an_import_takes_csv_up_to_2_mib_with_the_write_scope(api: KeyedClient, mocked_aws: Settings) -> None:
    header = "id,name,home_country,nationalities,residence_country\n"
    r = api.http.post("/v1/employees/import", headers=JSON, body=json.dumps({"id": "emp-1"}))
    assert r.status_code == 415
    assert "text/csv" in _json(r)["detail"]
    big = header + ("x" * 1000 + "\n") * 2200
    assert _import(api, big).status_code == 413
    reader = issue_key(mocked_aws, Scope.READ)
    assert _import(api, header, Authorization=f"Bearer {reader}").status_code == 403
    assert _import(api, header + "emp-1,Anna,DE,DE,DE\n").status_code == 200


def test_a_large_export_is_read_and_written_in_batches(api: KeyedClient, mocked_aws: Settings) -> None:
    rows = "".join(f"emp-{n:03d},Person {n},DE,DE,DE\n" for n in range(130))
    text = "id,name,home_country,nationalities,residence_country\n" + rows
    assert _json(_import(api, text))["created"] == 130
    assert bootstrap.repository(mocked_aws).get_employee("emp-129") is not None
    again = _json(_import(api, text.replace("Person 7,", "Person Seven,")))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 129)
