"""POST /v1/bookings through Chalice's test client: what a booking tool or a mail forwarder sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.models import CalendarEvent
from chalicelib.routes import bookings as route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bookings"


@dataclass
class Recorder:
    """Stands in for the store + sync job the app wires behind ``on_bookings``."""

    calls: list[tuple[str, list[CalendarEvent], list[str]]] = field(default_factory=list)

    def __call__(self, employee_id: str, events: list[CalendarEvent], cancelled_uids: list[str]) -> None:
        self.calls.append((employee_id, events, cancelled_uids))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[Client]:
    app = Chalice(app_name="bookings-test")
    app.register_blueprint(route.make_blueprint())
    route.configure(route.BookingsDeps(on_bookings=recorder, max_body_bytes=64 * 1024))
    with Client(app, stage_name="dev") as c:
        yield c
    route.configure(None)


def _post(
    client: Client, body: bytes, content_type: str, query: str = "?employee_id=anna.schmidt", **headers: str
) -> tuple[int, dict[str, Any], str]:
    r = client.http.post(f"/v1/bookings{query}", headers={"Content-Type": content_type, **headers}, body=body)
    return r.status_code, json.loads(r.body) if r.body else {}, r.headers.get("Content-Type", "")


def test_json_ld_reservations_are_accepted_and_handed_on(client: Client, recorder: Recorder) -> None:
    body = (FIXTURES / "lufthansa_fra_bos_roundtrip.jsonld").read_bytes()
    status, answer, _ = _post(client, body, "application/ld+json")

    assert status == 202
    assert (answer["accepted"], answer["cancelled"], answer["problems"]) == (2, 0, [])
    first = answer["segments"][0]
    assert first["kind"] == "flight"
    assert first["title"] == "LH422 FRA → BOS"
    assert (first["departure_country"], first["arrival_country"]) == ("DE", "US")
    assert first["start"] == "2027-04-05T10:15:00+02:00"
    ((employee, events, cancelled),) = recorder.calls
    assert employee == "anna.schmidt"
    assert cancelled == []
    assert [e.country_hint for e in events] == ["US", "DE"]
    assert [e.uid for e in events] == [s["id"] for s in answer["segments"]]


def test_a_graph_with_a_bad_reservation_is_accepted_with_the_problem_named(
    client: Client, recorder: Recorder
) -> None:
    body = (FIXTURES / "business_trip_graph.jsonld").read_bytes()
    status, answer, _ = _post(client, body, "application/json; charset=utf-8")

    assert status == 202
    assert answer["accepted"] == 4
    assert answer["problems"] == [
        {
            "where": "item 5 (FlightReservation BROKEN1)",
            "message": "no arrival airport: cannot tell where the traveler goes",
        }
    ]
    assert len(recorder.calls[0][1]) == 4


def test_a_cancellation_is_passed_on_as_a_cancelled_uid(client: Client, recorder: Recorder) -> None:
    _post(client, (FIXTURES / "lufthansa_fra_bos_roundtrip.jsonld").read_bytes(), "application/ld+json")
    status, answer, _ = _post(
        client, (FIXTURES / "lufthansa_fra_bos_cancelled.jsonld").read_bytes(), "application/ld+json"
    )

    assert status == 202
    assert (answer["accepted"], answer["cancelled"]) == (0, 1)
    booked_uid = recorder.calls[0][1][1].uid
    _, events, cancelled = recorder.calls[1]
    assert cancelled == [booked_uid]
    assert events[0].cancelled


def test_a_forwarded_confirmation_mail_is_accepted(client: Client, recorder: Recorder) -> None:
    body = (FIXTURES / "forwarded_sbb_zurich_milano_de.eml").read_bytes()
    status, answer, _ = _post(
        client, body, "message/rfc822", query="", **{"X-Coverwatch-Employee": "j.walker"}
    )

    assert status == 202
    assert answer["segments"][0]["arrival_country"] == "IT"
    assert recorder.calls[0][0] == "j.walker"


def test_a_mail_without_structured_data_is_refused_with_the_reason(
    client: Client, recorder: Recorder
) -> None:
    body = (FIXTURES / "lot_plain_text_only_pl.eml").read_bytes()
    status, answer, content_type = _post(client, body, "message/rfc822")

    assert status == 400
    assert content_type == "application/problem+json"
    assert "no structured data" in answer["detail"]
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("", {}, "employee_id is required"),
        ("?employee_id=", {}, "at least 1 character"),
        ("?employee_id=a%20b", {}, "should match pattern"),
        ("?employee_id=a&employee_id_typo=b", {}, "unknown field"),
        ("?employee_id=a", {"X-Coverwatch-Employee": "b"}, "differ"),
    ],
)
def test_the_employee_must_be_named_once_and_validly(
    client: Client, recorder: Recorder, query: str, headers: dict[str, str], message: str
) -> None:
    body = (FIXTURES / "accor_paris_hotel_fr.json").read_bytes()
    status, answer, content_type = _post(client, body, "application/json", query=query, **headers)

    assert status == 400
    assert content_type == "application/problem+json"
    fields = {e["field"] for e in answer["errors"]}
    assert fields & {"employee_id", "employee_id_typo"}
    assert any(message in e["message"] for e in answer["errors"])
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "body is empty"),
        (b'{"@type": "FlightReservation",', "not valid JSON"),
        (b'"just a string"', "must be a JSON-LD object"),
        (b'{"@type": "Person", "name": "x"}', "no schema.org reservation"),
    ],
)
def test_bodies_without_reservations_are_400_naming_the_body(
    client: Client, body: bytes, detail: str
) -> None:
    status, answer, _ = _post(client, body, "application/ld+json")

    assert status == 400
    assert answer["errors"][0]["field"] == "(body)"
    assert detail in answer["detail"]


def test_a_body_over_the_limit_is_413(client: Client, recorder: Recorder) -> None:
    status, answer, _ = _post(client, b"[" + b" " * 70_000 + b"]", "application/json")

    assert status == 413
    assert "limit is 65536" in answer["detail"]
    assert recorder.calls == []


def test_other_content_types_are_refused(client: Client) -> None:
    status, _, _ = _post(client, b"FRA-BOS", "text/plain")
    assert status == 415


def test_without_the_hand_off_configured_the_route_says_so(client: Client) -> None:
    route.configure(None)
    status, answer, _ = _post(
        client, (FIXTURES / "accor_paris_hotel_fr.json").read_bytes(), "application/json"
    )
    assert status == 503
    assert "not configured" in answer["detail"]
