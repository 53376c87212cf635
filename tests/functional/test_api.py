"""POST /v1/checks and the trip listings through Chalice's test client: contract, defaults, 4xx."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from tests.builders import assessment, certificate, employee, trip
from tests.functional.conftest import KeyedClient

CONTRACT_FIELDS = {
    "status",
    "document",
    "instrument",
    "max_months",
    "exceeds_max",
    "apply_by",
    "explanation",
    "checklist",
}


@pytest.fixture
def client(api: KeyedClient) -> KeyedClient:
    return api


def _post(
    client: KeyedClient, body: Any, content_type: str = "application/json"
) -> tuple[int, dict[str, Any], str]:
    raw = body if isinstance(body, str) else json.dumps(body)
    r = client.http.post("/v1/checks", headers={"Content-Type": content_type}, body=raw)
    return r.status_code, json.loads(r.body) if r.body else {}, r.headers.get("Content-Type", "")


def test_a_one_day_meeting_in_france_needs_an_a1(client: KeyedClient) -> None:
    status, body, _ = _post(
        client, {"home_country": "DE", "host_country": "FR", "start": "2027-03-03", "end": "2027-03-03"}
    )
    assert status == 200
    assert set(body) >= CONTRACT_FIELDS
    assert (body["status"], body["document"], body["max_months"], body["exceeds_max"]) == (
        "certificate_required",
        "A1",
        24,
        False,
    )
    assert set(body["instrument"]) >= {"id", "title", "article", "in_force_since", "source"}
    assert "883/2004" in body["instrument"]["title"]
    assert date.fromisoformat(body["apply_by"]) < date(2027, 3, 3)
    assert body["checklist"]
    assert body["explanation"]


def test_optional_fields_default_to_the_home_country_and_work(client: KeyedClient) -> None:
    implicit = _post(
        client, {"home_country": "DE", "host_country": "US", "start": "2027-04-05", "end": "2027-04-23"}
    )[1]
    explicit = _post(
        client,
        {
            "home_country": "DE",
            "host_country": "US",
            "start": "2027-04-05",
            "end": "2027-04-23",
            "nationality": "DE",
            "residence_country": "DE",
            "employment_type": "employee",
            "purpose": "work",
            "employee_id": None,
        },
    )[1]
    assert implicit == explicit
    assert (implicit["status"], implicit["document"]) == ("certificate_required", "CoC")


def test_a_holiday_needs_no_certificate(client: KeyedClient) -> None:
    body = _post(
        client,
        {
            "home_country": "FR",
            "host_country": "ES",
            "start": "2027-04-12",
            "end": "2027-04-23",
            "purpose": "holiday",
        },
    )[1]
    assert (body["status"], body["document"]) == ("not_required", None)


@pytest.mark.parametrize(
    ("body", "fields", "expected"),
    [
        (
            {"home_country": "XX", "host_country": "FR", "start": "2027-03-03", "end": "2027-03-03"},
            ["home_country"],
            422,
        ),
        ({"home_country": "DE", "host_country": "FR", "start": "2027-03-03"}, ["end"], 400),
        (
            {"home_country": "DE", "host_country": "FR", "start": "2027-03-05", "end": "2027-03-03"},
            ["(body)"],
            422,
        ),
        (
            {
                "home_country": "DE",
                "host_country": "FR",
                "start": "3 March",
                "end": "2027-03-03",
                "purpose": "fun",
            },
            ["start", "purpose"],
            400,
        ),
        (
            {
                "home_country": "DE",
                "host_country": "FR",
                "start": "2027-03-03",
                "end": "2027-03-03",
                "colour": "red",
            },
            ["colour"],
            400,
        ),
    ],
)
def test_invalid_input_is_a_problem_naming_each_bad_field(
    client: KeyedClient, body: dict[str, Any], fields: list[str], expected: int
) -> None:
    """400 when the body has the wrong shape; 422 when it is well-formed but cannot be right."""
    status, problem, content_type = _post(client, body)
    assert status == expected
    assert content_type == "application/problem+json"
    assert problem["status"] == expected
    assert problem["title"]
    assert [e["field"] for e in problem["errors"]] == fields
    assert all(e["message"] for e in problem["errors"])


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", ""])
def test_a_body_that_is_not_a_json_object_is_a_problem(client: KeyedClient, raw: str) -> None:
    status, problem, content_type = _post(client, raw)
    assert (status, content_type) == (400, "application/problem+json")
    assert problem["errors"][0]["field"] == "(body)"


def test_a_recorded_certificate_makes_the_trip_covered(client: KeyedClient, mocked_aws: Settings) -> None:
    bootstrap.repository(mocked_aws).put_employee(employee())  # an employee_id must name a stored employee
    bootstrap.repository(mocked_aws).put_certificate(certificate(date(2027, 3, 1), date(2027, 3, 31)))
    body = _post(
        client,
        {
            "home_country": "DE",
            "host_country": "FR",
            "start": "2027-03-03",
            "end": "2027-03-03",
            "employee_id": "emp-1",
        },
    )[1]
    assert body["status"] == "covered"


def test_open_cases_lists_trips_lacking_a_certificate(client: KeyedClient, mocked_aws: Settings) -> None:
    repo = bootstrap.repository(mocked_aws)
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    r = client.http.get("/v1/open-cases?from=2027-03-01&to=2027-03-31")
    assert r.status_code == 200
    (case,) = json.loads(r.body)["trips"]
    assert case["trip"]["country"] == "FR"
    assert case["assessment"]["status"] == "certificate_required"
    r = client.http.get("/v1/employees/emp-1/trips")
    assert [t["trip"]["id"] for t in json.loads(r.body)["trips"]] == ["trp_1"]


def test_open_cases_needs_a_valid_range(client: KeyedClient) -> None:
    r = client.http.get("/v1/open-cases?from=2027-03-31")
    assert r.status_code == 400
    assert [e["field"] for e in json.loads(r.body)["errors"]] == ["to"]


def _journey(client: KeyedClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    r = client.http.post("/v1/journeys", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    return r.status_code, json.loads(r.body)


def test_a_journey_gets_one_decision_per_host(client: KeyedClient) -> None:
    status, body = _journey(
        client,
        {
            "home_country": "DE",
            "legs": [
                {"host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"},
                {"host_country": "DE", "start": "2027-03-04", "end": "2027-03-04"},
                {"host_country": "US", "start": "2027-03-05", "end": "2027-03-12"},
            ],
        },
    )
    assert status == 200
    assert [(leg["host_country"], leg["status"], leg["document"]) for leg in body["legs"]] == [
        ("FR", "certificate_required", "A1"),
        ("DE", "not_required", None),
        ("US", "certificate_required", "CoC"),
    ]
    assert set(body["legs"][0]) >= CONTRACT_FIELDS
    assert body["multi_state"] is None


def test_regular_work_in_several_eu_states_suggests_one_art13_a1(client: KeyedClient) -> None:
    legs = [
        {"host_country": country, "start": f"2027-0{month}-10", "end": f"2027-0{month}-12"}
        for month, country in [(2, "FR"), (3, "NL"), (4, "FR"), (5, "NL")]
    ]
    body = _journey(client, {"home_country": "DE", "legs": legs})[1]
    suggestion = body["multi_state"]
    assert suggestion is not None
    assert set(suggestion["states"]) == {"FR", "NL"}
    assert suggestion["apply_in"] == "DE"
    assert "Art. 13" in suggestion["instrument"]["article"]


def test_a_journey_without_legs_names_the_field(client: KeyedClient) -> None:
    status, problem = _journey(client, {"home_country": "DE", "legs": []})
    assert status == 422  # well-formed, but a journey needs at least one leg
    assert [e["field"] for e in problem["errors"]] == ["legs"]
    status, problem = _journey(
        client,
        {"home_country": "DE", "legs": [{"host_country": "FR", "start": "2027-03-05", "end": "2027-03-01"}]},
    )
    assert [e["field"] for e in problem["errors"]] == ["legs.0"]
