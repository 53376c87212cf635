"""``POST /v1/connections/{connection_id}/ics``: upload an .ics export for one calendar connection.

Why: not every calendar can be reached by API or feed; an employee (or HR) can export a calendar and
upload it. The route reads the file with the ICS reader and answers at once with what it found — how
many events, and every entry it had to skip with its UID, line and reason — so the uploader can fix the
file. It does not scan or store anything itself: the events go to the injected ``on_upload`` callable
(wired by app.py to store them for the connection and queue a scan), which keeps this route fast and
free of AWS.

Limits: bodies over ``max_bytes`` (5 MB by default) get 413; an empty body or one that is not
iCalendar at all gets 400, a connection the callback does not know gets 404, each as
``application/problem+json``. Recurring events are expanded inside ``window()`` (by default one year
back to two years ahead).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import IcsFile, UploadSummary
from chalicelib.connectors.base import SyncWindow
from chalicelib.models import CalendarEvent
from chalicelib.problems import PROBLEM_CONTENT_TYPE, validation_problem

UPLOAD_PATH = "/v1/connections/{connection_id}/ics"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_CONTENT_TYPES = ["text/calendar", "application/octet-stream"]

OnUpload = Callable[[str, list[CalendarEvent]], None]
"""Receives the connection id and every event read; raises LookupError for an unknown connection."""


def _default_window() -> SyncWindow:
    from chalicelib.connectors.ics import default_window  # icalendar loads only when a calendar is uploaded

    return default_window()


@dataclass(frozen=True)
class UploadDeps:
    on_upload: OnUpload
    window: Callable[[], SyncWindow] = field(default=_default_window)
    max_bytes: int = MAX_UPLOAD_BYTES


_deps: UploadDeps | None = None


def configure(deps: UploadDeps | None) -> None:
    """Set (or with None, reset) what the route hands uploads to; app.py does this once."""
    global _deps  # noqa: PLW0603 - one per process, set by app.py or a test
    _deps = deps


class UploadPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connection_id: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:@#/+=-]+$")


def _problem(status: int, title: str, detail: str, kind: str) -> Response:
    body = {
        "type": f"urn:coverwatch:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": "(body)", "message": detail}],
    }
    return _problem_body(body)


def _unreadable(detail: str) -> Response:
    return _problem(400, "The calendar file cannot be read", detail, "malformed-body")


def _problem_body(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )


def make_blueprint() -> Blueprint:
    """A fresh Blueprint with the upload route (Chalice consumes a Blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        UPLOAD_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Upload an ICS calendar for a connection",
        content_types=tuple(_CONTENT_TYPES),
        max_body=MAX_UPLOAD_BYTES,
        tag="sources",
        body=IcsFile,
        responses={
            200: UploadSummary,
            400: "The body is empty or not an iCalendar file, or the connection id is malformed.",
            404: "No connection with this id.",
        },
    )
    def upload_ics(connection_id: str) -> Response:
        """Replace a connection's events with an exported .ics file; the answer lists skipped entries."""
        request = blueprint.current_request
        raw: Any = request.raw_body if request is not None else b""
        return _handle(connection_id, raw.encode() if isinstance(raw, str) else bytes(raw or b""))

    return blueprint


bp = make_blueprint()


def _handle(connection_id: str, data: bytes) -> Response:
    try:
        path = UploadPath(connection_id=connection_id)
    except ValidationError as exc:
        return _problem_body(validation_problem(exc))
    if _deps is None:
        detail = "no upload handler is configured"
        return _problem(503, "Uploads are not available", detail, "unavailable")
    if len(data) > _deps.max_bytes:
        detail = f"the calendar is {len(data)} bytes; at most {_deps.max_bytes} bytes are accepted"
        return _problem(413, "The calendar file is too large", detail, "payload-too-large")
    if not data.strip():
        return _unreadable("the body is empty; send the .ics file as the request body")
    if b"BEGIN:VCALENDAR" not in data.upper():
        return _unreadable("the body is not an iCalendar file (no BEGIN:VCALENDAR)")
    from chalicelib.connectors.ics import read_ics  # icalendar loads only when a calendar is uploaded

    result = read_ics(data, calendar_id=path.connection_id, window=_deps.window())
    try:
        _deps.on_upload(path.connection_id, result.events)
    except LookupError:
        return _problem(404, "Unknown connection", f"no connection {path.connection_id!r}", "not-found")
    summary = {
        "connection_id": path.connection_id,
        "events": len(result.events),
        "problems": [{"uid": p.uid, "line": p.line, "message": p.message} for p in result.problems],
    }
    return Response(body=summary, status_code=200)
