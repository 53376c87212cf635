"""An employee's certificates through the API: every change re-decides their trips at once."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import Scope
from chalicelib.api.views import CertificateChanged, CertificateList, CertificateRecord
from chalicelib.bootstrap import Settings
from tests.builders import assessment, trip
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}
ANNA = {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}
A1 = {
    "document": "A1",
    "issuing_country": "DE",
    "host_countries": ["FR"],
    "valid_from": "2027-03-01",
    "valid_to": "2027-03-31",
    "status": "applied",
    "reference": "DRV-2027-0042",
}
CERTS = "/v1/employees/emp-1/certificates"


def _send(api: KeyedClient, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    return api.http.request(method, path, headers=headers, body=None if body is None else json.dumps(body))


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


def _audit(settings: Settings) -> list[tuple[str, str, list[str]]]:
    items = bootstrap.aws_client("dynamodb", settings).scan(TableName=settings.table_name)["Items"]
    entries = [json.loads(i["data"]["S"]) for i in items if i["PK"]["S"].startswith("AUDIT#")]
    return [(e["action"], e["resource"], e["fields"]) for e in sorted(entries, key=lambda e: e["at"])]


@pytest.fixture
def anna(api: KeyedClient, mocked_aws: Settings) -> KeyedClient:
    """Anna (DE) with a stored work trip to Paris on 3 March 2027 that still lacks an A1."""
    assert _send(api, "PUT", "/v1/employees/emp-1", ANNA).status_code == 200
    bootstrap.repository(mocked_aws).save_trip(trip(date(2027, 3, 3)), assessment())
    return api


def _open_cases(api: KeyedClient) -> list[str]:
    r = api.http.get("/v1/open-cases?from=2027-03-01&to=2027-03-31")
    return [t["trip"]["id"] for t in _json(r)["trips"]]


def test_an_issued_a1_closes_the_open_case_and_hr_sees_the_list_shrink(
    anna: KeyedClient, mocked_aws: Settings
) -> None:
    assert _open_cases(anna) == ["trp_1"]
    r = _send(anna, "POST", CERTS, A1)
    assert r.status_code == 201
    created = CertificateChanged.model_validate(_json(r))
    assert created.certificate.id.startswith("cert_")
    assert created.certificate.employee_id == "emp-1"
    assert created.trips == [], "an application on file does not cover the trip yet"
    assert r.headers["Location"] == f"{CERTS}/{created.certificate.id}"
    assert _open_cases(anna) == ["trp_1"]

    r = _send(anna, "PATCH", r.headers["Location"], {"status": "issued"})
    assert r.status_code == 200
    body = _json(r)
    assert CertificateChanged.model_validate(body).certificate.status == "issued"
    assert body["trips"] == [
        {
            "trip_id": "trp_1",
            "country": "FR",
            "start": "2027-03-03",
            "status_before": "certificate_required",
            "status": "covered",
        }
    ]
    assert _open_cases(anna) == []
    assert [a for a, _, _ in _audit(mocked_aws)][-2:] == ["certificate.create", "certificate.update"]
    assert _audit(mocked_aws)[-1] == (
        "certificate.update",
        f"certificate/{created.certificate.id}",
        ["status"],
    )


def test_a_certificate_is_read_listed_and_deleted_and_the_case_reopens(anna: KeyedClient) -> None:
    _send(anna, "POST", CERTS, {**A1, "id": "a1-2027-7", "status": "issued"})
    _send(
        anna, "POST", CERTS, {**A1, "id": "a1-2026-1", "valid_from": "2026-05-01", "valid_to": "2026-05-31"}
    )
    assert _open_cases(anna) == []

    listed = CertificateList.model_validate(_json(anna.http.get(CERTS)))
    assert [c.id for c in listed.certificates] == ["a1-2026-1", "a1-2027-7"]
    one = CertificateRecord.model_validate(_json(anna.http.get(f"{CERTS}/a1-2027-7")))
    assert (one.certificate.reference, one.certificate.host_countries) == ("DRV-2027-0042", ("FR",))

    r = anna.http.delete(f"{CERTS}/a1-2027-7")
    assert r.status_code == 204
    assert _open_cases(anna) == ["trp_1"]
    assert anna.http.get(f"{CERTS}/a1-2027-7").status_code == 404
    assert anna.http.delete(f"{CERTS}/a1-2027-7").status_code == 404
    assert [c["id"] for c in _json(anna.http.get(CERTS))["certificates"]] == ["a1-2026-1"]


def test_an_id_already_used_by_the_employee_is_409(anna: KeyedClient) -> None:
    assert _send(anna, "POST", CERTS, {**A1, "id": "a1-7"}).status_code == 201
    r = _send(anna, "POST", CERTS, {**A1, "id": "a1-7", "reference": "other"})
    assert r.status_code == 409
    assert _json(r)["errors"][0]["field"] == "id"
    assert _json(anna.http.get(f"{CERTS}/a1-7"))["certificate"]["reference"] == "DRV-2027-0042"


def test_unknown_employees_and_certificates_are_404(anna: KeyedClient) -> None:
    for method, path, body in [
        ("POST", "/v1/employees/ghost/certificates", A1),
        ("GET", "/v1/employees/ghost/certificates", None),
        ("GET", "/v1/employees/ghost/certificates/a1-7", None),
        ("PATCH", "/v1/employees/ghost/certificates/a1-7", {"status": "issued"}),
        ("DELETE", "/v1/employees/ghost/certificates/a1-7", None),
    ]:
        r = _send(anna, method, path, body)
        assert (method, r.status_code, _json(r)["errors"][0]["field"]) == (method, 404, "employee_id")
    for method, body in [("GET", None), ("PATCH", {"status": "issued"}), ("DELETE", None)]:
        r = _send(anna, method, f"{CERTS}/a1-7", body)
        assert (method, r.status_code, _json(r)["errors"][0]["field"]) == (method, 404, "certificate_id")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**A1, "valid_to": "2027-02-01"}, 422, "(body)"),
        ({**A1, "host_countries": ["FR", "Frankreich"]}, 422, "host_countries.1"),
        ({**A1, "employee_id": "emp-2"}, 400, "employee_id"),
        ({**A1, "id": "a1/7"}, 400, "id"),
        ({**A1, "document": "E101"}, 400, "document"),
        ({k: v for k, v in A1.items() if k != "valid_to"}, 400, "valid_to"),
    ],
)
def test_a_bad_certificate_names_the_field(
    anna: KeyedClient, body: dict[str, Any], status: int, field: str
) -> None:
    r = _send(anna, "POST", CERTS, body)
    assert r.status_code == status
    assert [e["field"] for e in _json(r)["errors"]] == [field]
    assert _json(anna.http.get(CERTS))["certificates"] == []


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"valid_to": "2027-02-28"}, 422, "(body)"),
        ({"status": "applied"}, 422, "status"),
        ({"valid_to": None}, 400, "valid_to"),
        ({"host_countries": []}, 400, "host_countries"),
        ({"employee_id": "emp-2"}, 400, "employee_id"),
        ({}, 400, "(body)"),
    ],
)
def test_a_change_that_cannot_be_is_refused_and_nothing_changes(
    anna: KeyedClient, change: dict[str, Any], status: int, field: str
) -> None:
    _send(anna, "POST", CERTS, {**A1, "id": "a1-7", "status": "issued"})
    r = _send(anna, "PATCH", f"{CERTS}/a1-7", change)
    assert r.status_code == status
    assert [e["field"] for e in _json(r)["errors"]] == [field]
    stored = _json(anna.http.get(f"{CERTS}/a1-7"))["certificate"]
    assert (stored["status"], stored["valid_to"]) == ("issued", "2027-03-31")


def test_shorter_validity_uncovers_the_trip_and_a_cleared_reference_stays_cleared(anna: KeyedClient) -> None:
    _send(anna, "POST", CERTS, {**A1, "id": "a1-7", "status": "issued"})
    r = _send(anna, "PATCH", f"{CERTS}/a1-7", {"valid_to": "2027-03-02", "reference": None})
    assert r.status_code == 200
    body = _json(r)
    assert (body["certificate"]["valid_to"], body["certificate"]["reference"]) == ("2027-03-02", None)
    assert [(t["status_before"], t["status"]) for t in body["trips"]] == [("covered", "certificate_required")]
    assert _open_cases(anna) == ["trp_1"]
    same = _send(anna, "PATCH", f"{CERTS}/a1-7", {"valid_to": "2027-03-02"})
    assert (same.status_code, _json(same)["trips"]) == (200, [])


def test_reading_needs_read_and_changing_needs_write(anna: KeyedClient, mocked_aws: Settings) -> None:
    _send(anna, "POST", CERTS, {**A1, "id": "a1-7"})
    booking_tool = issue_key(mocked_aws, Scope.CHECK)
    reader = issue_key(mocked_aws, Scope.READ)
    assert _send(anna, "GET", CERTS, key=booking_tool).status_code == 403
    assert _send(anna, "GET", f"{CERTS}/a1-7", key=booking_tool).status_code == 403
    assert _send(anna, "GET", CERTS, key=reader).status_code == 200
    assert _send(anna, "POST", CERTS, {**A1, "id": "a1-8"}, key=reader).status_code == 403
    assert _send(anna, "PATCH", f"{CERTS}/a1-7", {"status": "issued"}, key=reader).status_code == 403
    assert _send(anna, "DELETE", f"{CERTS}/a1-7", key=reader).status_code == 403
    writer = issue_key(mocked_aws, Scope.WRITE)
    assert _send(anna, "DELETE", f"{CERTS}/a1-7", key=writer).status_code == 204


def test_the_legacy_put_still_records_a_certificate(anna: KeyedClient) -> None:
    r = _send(anna, "PUT", "/v1/certificates/a1-legacy", {**A1, "employee_id": "emp-1", "status": "issued"})
    assert r.status_code == 200
    assert _json(anna.http.get(f"{CERTS}/a1-legacy"))["certificate"]["status"] == "issued"
    assert _open_cases(anna) == []


def test_a_withdrawn_certificate_stays_on_record_and_its_trip_reopens(anna: KeyedClient) -> None:
    _send(anna, "POST", CERTS, {**A1, "id": "a1-7", "status": "issued"})
    assert _open_cases(anna) == []
    r = _send(anna, "PATCH", f"{CERTS}/a1-7", {"status": "withdrawn"})
    assert r.status_code == 200
    assert [(t["status_before"], t["status"]) for t in _json(r)["trips"]] == [
        ("covered", "certificate_required")
    ]
    assert _open_cases(anna) == ["trp_1"]
    assert _json(anna.http.get(f"{CERTS}/a1-7"))["certificate"]["status"] == "withdrawn"
    back = _send(anna, "PATCH", f"{CERTS}/a1-7", {"status": "issued"})
    assert back.status_code == 422
    assert "record a new certificate" in _json(back)["detail"]
