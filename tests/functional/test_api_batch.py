"""POST /v1/checks/batch, and POST /v1/checks with a stored employee's profile and certificates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import Scope
from chalicelib.api.views import BatchCheckAnswer
from chalicelib.bootstrap import Settings
from chalicelib.models import Certificate, DocumentType, Employee, EmploymentType
from chalicelib.store.repository import DynamoRepository
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}
PARIS = {"home_country": "DE", "host_country": "FR", "start": "2027-03-03", "end": "2027-03-04"}


def _post(api: KeyedClient, path: str, body: Any, key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    r = api.http.post(path, headers=headers, body=json.dumps(body))
    return r.status_code, json.loads(r.body)


@pytest.fixture
def priya(mocked_aws: Settings) -> Employee:
    """A Dutch-insured Indian national living in the Netherlands, with an A1 for France in March."""
    repo = bootstrap.repository(mocked_aws)
    employee = Employee(
        id="emp-priya",
        name="Priya Nair",
        home_country="NL",
        nationalities=("IN",),
        residence_country="NL",
        employment_type=EmploymentType.EMPLOYEE,
    )
    repo.put_employee(employee)
    repo.put_certificate(
        Certificate(
            id="a1-1",
            employee_id=employee.id,
            document=DocumentType.A1,
            issuing_country="NL",
            host_countries=("FR",),
            valid_from="2027-03-01",
            valid_to="2027-03-31",
        )
    )
    return employee


def test_a_batch_answers_each_trip_on_its_own_and_in_order(api: KeyedClient, priya: Employee) -> None:
    trips: list[Any] = [
        PARIS,
        {**PARIS, "home_country": "XX"},
        {k: v for k, v in PARIS.items() if k != "end"},
        {"host_country": "FR", "start": "2027-03-03", "end": "2027-03-04", "employee_id": "ghost"},
        {"host_country": "FR", "start": "2027-03-03", "end": "2027-03-04", "employee_id": "emp-priya"},
        {**PARIS, "end": "2027-03-01"},
        "not a trip",
    ]
    status, body = _post(api, "/v1/checks/batch", {"trips": trips})
    assert status == 200
    results = BatchCheckAnswer.model_validate(body).results
    assert [(r.index, r.status) for r in results] == [
        (0, 200),
        (1, 422),
        (2, 400),
        (3, 404),
        (4, 200),
        (5, 422),
        (6, 400),
    ]
    problems = {
        r["index"]: [e["field"] for e in r["problem"]["errors"]] for r in body["results"] if "problem" in r
    }
    assert problems == {
        1: ["trips.1.home_country"],
        2: ["trips.2.end"],
        3: ["trips.3.employee_id"],
        5: ["trips.5"],
        6: ["trips.6"],
    }
    assert body["results"][1]["problem"]["detail"] == "Invalid field(s): trips.1.home_country"
    _, single = _post(api, "/v1/checks", PARIS)
    assert body["results"][0]["check"] == single, "the same answer as POST /v1/checks"
    assert body["results"][4]["check"]["status"] == "covered"
    assert body["results"][4]["check"]["certificate_id"] == "a1-1"


def test_a_stored_employee_fills_what_the_check_leaves_out(api: KeyedClient, priya: Employee) -> None:
    status, stored = _post(
        api,
        "/v1/checks",
        {"host_country": "DK", "start": "2027-05-03", "end": "2027-05-07", "employee_id": priya.id},
    )
    assert status == 200
    _, spelled_out = _post(
        api,
        "/v1/checks",
        {
            "home_country": "NL",
            "nationality": "IN",
            "residence_country": "NL",
            "host_country": "DK",
            "start": "2027-05-03",
            "end": "2027-05-07",
        },
    )
    assert stored == spelled_out
    assert stored["status"] == "needs_review", "1231/2010 does not take an Indian national to Denmark"
    # what the caller states wins over the profile
    _, home_de = _post(
        api, "/v1/checks", {**PARIS, "employee_id": priya.id, "host_country": "DE", "home_country": "DE"}
    )
    assert home_de["status"] == "not_required"


def test_an_unknown_employee_is_404_and_a_check_needs_a_home_country(api: KeyedClient) -> None:
    status, problem = _post(api, "/v1/checks", {**PARIS, "employee_id": "ghost"})
    assert (status, [e["field"] for e in problem["errors"]]) == (404, ["employee_id"])
    status, problem = _post(api, "/v1/checks", {k: v for k, v in PARIS.items() if k != "home_country"})
    assert (status, [e["field"] for e in problem["errors"]]) == (400, ["home_country"])


def test_each_employee_is_read_once_per_batch(
    api: KeyedClient, priya: Employee, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    certificate_reads: list[str] = []
    get_employee, certificates_of = DynamoRepository.get_employee, DynamoRepository.certificates_of

    def counting_get(self: DynamoRepository, employee_id: str) -> Employee | None:
        reads.append(employee_id)
        return get_employee(self, employee_id)

    def counting_certificates(self: DynamoRepository, employee_id: str) -> list[Certificate]:
        certificate_reads.append(employee_id)
        return certificates_of(self, employee_id)

    monkeypatch.setattr(DynamoRepository, "get_employee", counting_get)
    monkeypatch.setattr(DynamoRepository, "certificates_of", counting_certificates)
    trip = {"host_country": "FR", "start": "2027-03-03", "end": "2027-03-04", "employee_id": priya.id}
    ghost = {**trip, "employee_id": "ghost"}
    status, body = _post(api, "/v1/checks/batch", {"trips": [trip, ghost, trip, ghost, trip]})
    assert status == 200
    assert [r["status"] for r in body["results"]] == [200, 404, 200, 404, 200]
    assert sorted(reads) == ["emp-priya", "ghost"]
    assert certificate_reads == ["emp-priya"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"trips": []}, 422, "trips"),
        ({"trips": [PARIS] * 101}, 422, "trips"),
        ({"trips": PARIS}, 400, "trips"),
        ({}, 400, "trips"),
        ({"trips": [PARIS], "dry_run": True}, 400, "dry_run"),
        ([PARIS], 400, "(body)"),
    ],
)
def test_a_batch_of_the_wrong_size_or_shape_is_refused_whole(
    api: KeyedClient, body: Any, status: int, field: str
) -> None:
    got, problem = _post(api, "/v1/checks/batch", body)
    assert got == status
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_full_batch_of_100_is_answered_with_the_check_scope(api: KeyedClient, mocked_aws: Settings) -> None:
    booking_tool = issue_key(mocked_aws, Scope.CHECK)
    status, body = _post(api, "/v1/checks/batch", {"trips": [PARIS] * 100}, key=booking_tool)
    assert status == 200
    assert [r["index"] for r in body["results"]] == list(range(100))
    reader = issue_key(mocked_aws, Scope.READ)
    assert _post(api, "/v1/checks/batch", {"trips": [PARIS]}, key=reader)[0] == 403
