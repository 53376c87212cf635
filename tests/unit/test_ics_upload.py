"""POST /v1/connections/{id}/ics: what someone uploading a calendar export gets back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.connectors.base import SyncWindow
from chalicelib.models import CalendarEvent
from chalicelib.routes import calendar_upload
from chalicelib.routes.calendar_upload import UploadDeps

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"
WINDOW = SyncWindow(start=date(2027, 1, 1), end=date(2027, 12, 31))
ICS = {"Content-Type": "text/calendar"}


class Recorder:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.calls: list[tuple[str, list[CalendarEvent]]] = []

    def __call__(self, connection_id: str, events: list[CalendarEvent]) -> None:
        if connection_id not in self.known:
            raise LookupError(connection_id)
        self.calls.append((connection_id, events))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder({"conn-anna"})


@pytest.fixture
def client(recorder: Recorder) -> Iterator[Client]:
    app = Chalice(app_name="upload-test")
    app.register_blueprint(calendar_upload.make_blueprint())
    calendar_upload.configure(UploadDeps(on_upload=recorder, window=lambda: WINDOW, max_bytes=64 * 1024))
    with Client(app, stage_name="dev") as test_client:
        yield test_client
    calendar_upload.configure(None)


def test_an_upload_is_read_summarised_and_handed_on(client: Client, recorder: Recorder) -> None:
    body = (FIXTURES / "broken_lines.ics").read_bytes()

    response = client.http.post("/v1/connections/conn-anna/ics", headers=ICS, body=body)

    assert response.status_code == 200
    summary = json.loads(response.body)
    assert summary["connection_id"] == "conn-anna"
    assert summary["events"] == 4
    assert summary["problems"][1] == {
        "uid": "fixture-bl-bad-date",
        "line": 26,
        "message": "DTSTART is not a date or date-time: '20271345T250000Z'",
    }
    assert summary["problems"][0]["line"] == 25
    [(connection_id, events)] = recorder.calls
    assert connection_id == "conn-anna"
    assert len(events) == 4


def test_octet_stream_uploads_are_accepted_and_recurrences_expanded(
    client: Client, recorder: Recorder
) -> None:
    body = (FIXTURES / "recurrence_expansion.ics").read_bytes()

    response = client.http.post(
        "/v1/connections/conn-anna/ics", headers={"Content-Type": "application/octet-stream"}, body=body
    )

    assert response.status_code == 200
    events = recorder.calls[0][1]
    assert len([e for e in events if e.uid.startswith("fixture-rr-weekly-lyon#")]) == 4
    assert max(e.start.date() for e in events) <= WINDOW.end


def test_a_file_over_the_limit_gets_413_and_is_not_handed_on(client: Client, recorder: Recorder) -> None:
    body = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * (64 * 1024) + b"\r\nEND:VCALENDAR\r\n"

    response = client.http.post("/v1/connections/conn-anna/ics", headers=ICS, body=body)

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "at most 65536 bytes" in json.loads(response.body)["detail"]
    assert recorder.calls == []


@pytest.mark.parametrize("body", [b"", b"<html>not a calendar</html>"])
def test_an_empty_or_foreign_body_gets_400(client: Client, recorder: Recorder, body: bytes) -> None:
    response = client.http.post("/v1/connections/conn-anna/ics", headers=ICS, body=body)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert recorder.calls == []


def test_an_unknown_connection_gets_404(client: Client) -> None:
    body = (FIXTURES / "tripit_feed.ics").read_bytes()

    response = client.http.post("/v1/connections/conn-nobody/ics", headers=ICS, body=body)

    assert response.status_code == 404
    assert json.loads(response.body)["title"] == "Unknown connection"


def test_a_bad_connection_id_gets_a_validation_problem(client: Client) -> None:
    response = client.http.post("/v1/connections/bad%20id!/ics", headers=ICS, body=b"BEGIN:VCALENDAR")

    assert response.status_code == 400
    assert json.loads(response.body)["errors"][0]["field"] == "connection_id"


def test_other_content_types_are_refused(client: Client) -> None:
    response = client.http.post(
        "/v1/connections/conn-anna/ics", headers={"Content-Type": "application/json"}, body=b"{}"
    )

    assert response.status_code == 415


def test_without_a_configured_handler_uploads_are_unavailable() -> None:
    app = Chalice(app_name="upload-test-unwired")
    app.register_blueprint(calendar_upload.make_blueprint())
    calendar_upload.configure(None)
    with Client(app, stage_name="dev") as test_client:
        response = test_client.http.post(
            "/v1/connections/conn-anna/ics", headers=ICS, body=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        )

    assert response.status_code == 503
