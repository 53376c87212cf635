"""GET /v1/audit: every write through the API is there, with the caller's key id and no personal data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import AuditEntry, Scope
from chalicelib.bootstrap import Settings
from chalicelib.routes.admin import AuditPage
from tests.builders import assessment, trip
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}
ANNA = {
    "name": "Anna Schmidt",
    "email": "anna.schmidt@example.com",
    "home_country": "DE",
    "nationalities": ["DE"],
    "residence_country": "DE",
}
CERTIFICATE = {
    "employee_id": "emp-1",
    "document": "A1",
    "issuing_country": "DE",
    "host_countries": ["FR"],
    "valid_from": "2027-03-01",
    "valid_to": "2027-03-31",
}
FLIGHT = {
    "@context": "https://schema.org",
    "@type": "FlightReservation",
    "reservationNumber": "LH7QX2",
    "underName": {"@type": "Person", "name": "Anna Schmidt"},
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
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:w1@example.com\r\n"
    "DTSTART;VALUE=DATE:20270510\r\nDTEND;VALUE=DATE:20270512\r\nSUMMARY:Workshop\r\n"
    "LOCATION:Client HQ, 12 Rue de la Paix, Paris\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _audit(api: KeyedClient, query: str = "", key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = api.http.get(f"/v1/audit{'?' + query if query else ''}", headers=headers)
    return r.status_code, json.loads(r.body)


def _key_id(plaintext: str) -> str:
    return plaintext.split("_")[1]


def test_every_write_route_lands_in_the_audit_trail_with_the_key_and_no_values(
    api: KeyedClient, mocked_aws: Settings
) -> None:
    writer = issue_key(mocked_aws, Scope.WRITE, name="HR system")
    auth = {"Authorization": f"Bearer {writer}"}

    def send(method: str, path: str, body: str, content_type: str = "application/json", **extra: str) -> Any:
        r = api.http.request(method, path, headers={**auth, "Content-Type": content_type, **extra}, body=body)
        assert r.status_code < 300, (path, r.body)
        return json.loads(r.body) if r.body else None

    send("PUT", "/v1/employees/emp-1", json.dumps(ANNA))
    send("PUT", "/v1/employees/emp-1", json.dumps({**ANNA, "language": "de"}))
    send("PUT", "/v1/certificates/a1-7", json.dumps(CERTIFICATE))
    send("PUT", "/v1/certificates/a1-7", json.dumps({**CERTIFICATE, "valid_to": "2027-04-30"}))
    connection = send(
        "POST", "/v1/employees/emp-1/connections", json.dumps({"source": "ics", "account": "upload"})
    )
    connection_id = connection["connection"]["id"]
    send("POST", f"/v1/connections/{connection_id}/ics", ICS, "text/calendar")
    send("POST", "/v1/bookings?employee_id=emp-1", json.dumps(FLIGHT), "application/ld+json")
    bootstrap.repository(mocked_aws).save_trip(trip(date(2027, 6, 1), id="trp_hr"), assessment())
    send(
        "PATCH",
        "/v1/trips/trp_hr",
        json.dumps({"purpose": "holiday", "note": "Anna's ski week"}),
        **{"If-Match": '"1"'},
    )

    status, body = _audit(api)
    assert status == 200
    AuditPage.model_validate(body)
    got = [(e["action"], e["resource"], e["employee_id"], e["fields"]) for e in body["entries"]]
    # the employee and connection routes (their own module) audit themselves; these are the routes here
    mine = [
        entry for entry in got if entry[0] not in {"employee.create", "employee.update", "connection.create"}
    ]
    assert mine == [
        ("certificate.create", "certificate/a1-7", "emp-1", sorted(CERTIFICATE)),
        ("certificate.update", "certificate/a1-7", "emp-1", sorted(CERTIFICATE)),
        ("calendar.upload", f"connection/{connection_id}", "emp-1", ["events"]),
        ("booking.accept", "employee/emp-1", "emp-1", ["events"]),
        ("trip.update", "trip/trp_hr", "emp-1", ["note", "purpose"]),
    ]
    assert [a for a, *_ in got if a not in {m[0] for m in mine}] == [
        "employee.create",
        "employee.update",
        "connection.create",
    ]
    assert {e["actor"] for e in body["entries"]} == {f"key:{_key_id(writer)}"}
    text = json.dumps(body)
    for value in (
        "Anna",
        "anna.schmidt@example.com",
        "ski week",
        "Workshop",
        "Paris",
        "LH7QX2",
        "2027-04-30",
    ):
        assert value not in text, f"{value!r} leaked into the audit trail"


def test_reading_the_audit_trail_needs_the_admin_scope(api: KeyedClient, mocked_aws: Settings) -> None:
    for scope in (Scope.WRITE, Scope.READ):
        status, problem = _audit(api, key=issue_key(mocked_aws, scope))
        assert status == 403
        assert "'admin' scope" in problem["detail"]
    assert _audit(api, key=issue_key(mocked_aws, Scope.ADMIN))[0] == 200


def _entry(at: datetime, employee_id: str, n: int) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor="key:0123456789ab",
        action="trip.update",
        resource=f"trip/trp_{n}",
        employee_id=employee_id,
    )


@pytest.fixture
def trail(mocked_aws: Settings) -> list[AuditEntry]:
    """Seven entries over three days of March 2027 (two employees), and one in April."""
    repo = bootstrap.repository(mocked_aws)
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    entries = [
        _entry(start + timedelta(days=day, minutes=n), f"emp-{n % 2}", day * 10 + n)
        for day, count in ((0, 3), (1, 1), (2, 3))
        for n in range(count)
    ]
    entries.append(_entry(datetime(2027, 4, 20, 9, tzinfo=UTC), "emp-0", 99))
    for entry in entries:
        repo.append_audit(entry)
    return entries


def _pages(api: KeyedClient, query: str) -> tuple[list[str], int]:
    resources, pages, cursor = [], 0, None
    while True:
        status, body = _audit(api, query + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        resources += [e["resource"] for e in body["entries"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return resources, pages


def test_the_trail_pages_across_days_in_time_order(api: KeyedClient, trail: list[AuditEntry]) -> None:
    march = [e.resource for e in trail[:-1]]
    resources, pages = _pages(api, "from=2027-03-01&to=2027-03-31&limit=2")
    assert resources == march
    assert pages >= 4
    resources, _ = _pages(api, "from=2027-03-01&to=2027-03-31&limit=2&employee_id=emp-1")
    assert resources == [e.resource for e in trail[:-1] if e.employee_id == "emp-1"]
    resources, _ = _pages(api, "from=2027-03-02&to=2027-04-30")
    assert resources == [*march[3:], "trip/trp_99"]


def test_the_default_is_the_last_seven_days(api: KeyedClient, mocked_aws: Settings) -> None:
    now = datetime.now(UTC)
    repo = bootstrap.repository(mocked_aws)
    repo.append_audit(_entry(now - timedelta(days=6), "emp-1", 1))
    repo.append_audit(_entry(now - timedelta(days=8), "emp-1", 2))
    status, body = _audit(api)
    assert status == 200
    assert [e["resource"] for e in body["entries"]] == ["trip/trp_1"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("from=2027-03-10&to=2027-03-01", 422, "to"),
        ("from=2027-01-01&to=2027-04-04", 422, "to"),  # 93 days apart
        ("from=someday", 400, "from"),
        ("limit=500", 400, "limit"),
        ("actor=key:1", 400, "actor"),
        ("from=2027-03-01&to=2027-03-31&cursor=bm90LWEtY3Vyc29y", 400, "cursor"),
    ],
)
def test_a_bad_audit_query_names_its_parameter(api: KeyedClient, query: str, status: int, field: str) -> None:
    got, problem = _audit(api, query)
    assert got == status
    assert problem["errors"][0]["field"] == field


def test_a_cursor_only_works_with_its_own_filters(api: KeyedClient, trail: list[AuditEntry]) -> None:
    _, body = _audit(api, "from=2027-03-01&to=2027-03-31&limit=1")
    cursor = body["next_cursor"]
    assert cursor
    assert _audit(api, f"from=2027-03-01&to=2027-03-31&limit=1&cursor={cursor}")[0] == 200
    status, problem = _audit(api, f"from=2027-03-01&to=2027-03-30&limit=1&cursor={cursor}")
    assert (status, problem["errors"][0]["field"]) == (400, "cursor")
