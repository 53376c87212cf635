"""``POST /v1/bookings``: travel reservations in, normalised segments out, handed on for detection.

Why: an employer's booking tool or mailbox can push what it booked — schema.org JSON-LD
(``application/ld+json`` or ``application/json``: one reservation, a list, or an ``@graph``) or a
whole confirmation e-mail (``message/rfc822``, e.g. from a forwarding rule). The route names the
employee (``?employee_id=`` or the ``X-Coverwatch-Employee`` header), turns the body into segments
with ``chalicelib.connectors.bookings`` and hands the calendar events and the cancelled uids to an
injected ``on_bookings(employee_id, events, cancelled_uids)`` callable — the app wires that to the
store and a sync job, so this route stays free of storage and queue code.

Answers:
- 202 ``{"accepted", "cancelled", "segments", "problems"}`` when the body held reservations, even
  if some could not be used (each such one is listed in ``problems`` with its reason);
- 400 ``application/problem+json`` naming the field for a missing or bad employee id, an unknown
  query parameter, an empty or invalid body, or a body without any schema.org reservation;
- 413 when the body is larger than the limit (2 MiB by default); 415 (Chalice) for other types;
- 503 when the app has not configured the ``on_bookings`` hand-off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import BookingsAccepted, JsonLdDocument
from chalicelib.models import CalendarEvent, SourceProblem
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, not_found_problem, validation_problem

if TYPE_CHECKING:  # the parsers (and the place tables) load only when a booking arrives
    from chalicelib.connectors.bookings import BookingsResult

BOOKINGS_PATH = "/v1/bookings"
EMPLOYEE_HEADER = "X-Coverwatch-Employee"
MAX_BODY_BYTES = 2 * 1024 * 1024
_CONTENT_TYPES = ["application/ld+json", "application/json", "message/rfc822"]
_EMPLOYEE_PATTERN = r"^[A-Za-z0-9_.:@+=#/-]+$"

OnBookings = Callable[[str, list[CalendarEvent], list[str]], None]
"""Receives the employee id, the segments' events (cancelled ones flagged) and the cancelled uids."""


@dataclass(frozen=True)
class BookingsDeps:
    on_bookings: OnBookings
    max_body_bytes: int = MAX_BODY_BYTES


_deps: BookingsDeps | None = None


def configure(deps: BookingsDeps | None) -> None:
    """Set (or with None, reset) what the route hands its segments to."""
    global _deps  # noqa: PLW0603 - one per process, set by app.py or a test
    _deps = deps


class BookingTarget(BaseModel):
    """Whose bookings these are; the only query parameter the route takes."""

    model_config = ConfigDict(extra="forbid")

    employee_id: str = Field(min_length=1, max_length=128, pattern=_EMPLOYEE_PATTERN)


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the route. Chalice consumes a blueprint's route options when it is
    registered, so each app (the real one, a test's throwaway one) needs its own."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        BOOKINGS_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Push travel bookings (schema.org JSON-LD or a confirmation e-mail)",
        content_types=tuple(_CONTENT_TYPES),
        max_body=MAX_BODY_BYTES,
        tag="sources",
        body=JsonLdDocument,
        query=BookingTarget,
        responses={
            202: BookingsAccepted,
            400: "No usable employee id, an empty or unreadable body, or no schema.org reservation in it.",
            404: "No employee with this id.",
        },
    )
    def post_bookings() -> Response:
        """Travel reservations in, normalised segments out; the employee's trips are decided again.

        Name the employee with `?employee_id=` or the `X-Coverwatch-Employee` header. The body is
        schema.org JSON-LD (one reservation, a list, or an `@graph`) or a whole confirmation e-mail
        (`message/rfc822`). A `ReservationCancelled` cancels; a re-sent confirmation changes nothing.
        """
        request = blueprint.current_request
        assert request is not None, "Chalice sets current_request for every route call"
        return _answer(request)

    return blueprint


def _answer(request: Request) -> Response:
    target = _target(request)
    if isinstance(target, Response):
        return target
    deps = _deps
    if deps is None:
        return _problem(_unavailable())
    raw = _raw_body(request)
    if len(raw) > deps.max_body_bytes:
        return _problem(_too_large(len(raw), deps.max_body_bytes))
    if not raw.strip():
        return _problem(body_problem("body is empty: send JSON-LD reservations or a confirmation e-mail"))
    result = _read(raw, _media_type(request), target.employee_id)
    if isinstance(result, Response):
        return result
    if not result.reservations:
        detail = "; ".join(p.message for p in result.problems) or "no schema.org reservation found"
        return _problem({**body_problem(detail), "title": "The request carries no reservation"})
    cancelled = result.cancelled_uids
    if result.segments or cancelled:
        try:
            deps.on_bookings(target.employee_id, result.events, cancelled)
        except LookupError as exc:  # the employee is unknown: nothing was stored
            return _problem(not_found_problem("employee_id", str(exc)))
    body = {
        "accepted": len(result.accepted),
        "cancelled": len(cancelled),
        "segments": [segment.as_json() for segment in result.segments],
        "problems": [_problem_json(problem) for problem in result.problems],
    }
    return Response(body=body, status_code=202, headers={"Content-Type": "application/json"})


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(bp)``."""


def _target(request: Request) -> BookingTarget | Response:
    query = dict(request.query_params or {})
    header = _header(request, EMPLOYEE_HEADER)
    if header is not None:
        if "employee_id" in query and query["employee_id"] != header:
            detail = f"employee_id in the query and the {EMPLOYEE_HEADER} header differ; send one"
            problem = {**body_problem(detail), "title": "The request is not valid"}
            problem["errors"] = [{"field": "employee_id", "message": detail}]
            return _problem(problem)
        query["employee_id"] = header
    if "employee_id" not in query:
        detail = f"employee_id is required: add ?employee_id= or the {EMPLOYEE_HEADER} header"
        problem = {**body_problem(detail), "title": "The request is not valid"}
        problem["errors"] = [{"field": "employee_id", "message": detail}]
        return _problem(problem)
    try:
        return BookingTarget.model_validate(query)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _read(raw: bytes, media_type: str, employee_id: str) -> BookingsResult | Response:
    from chalicelib.connectors.booking_email import read_email
    from chalicelib.connectors.bookings import read_reservations

    if media_type == "message/rfc822":
        return read_email(raw, employee_id=employee_id, calendar_id="bookings")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        return _problem(body_problem(f"body is not valid JSON: {exc}"))
    if not isinstance(document, dict | list):
        return _problem(body_problem("body must be a JSON-LD object, a list of them, or an @graph"))
    return read_reservations(document, employee_id=employee_id, calendar_id="bookings")


def _media_type(request: Request) -> str:
    header = _header(request, "Content-Type") or ""
    return header.split(";", 1)[0].strip().lower()


def _header(request: Request, name: str) -> str | None:
    headers: Any = request.headers  # chalice's CaseInsensitiveMapping; untyped in its stubs
    value = headers.get(name.lower()) if headers is not None else None
    return None if value is None else str(value)


def _raw_body(request: Request) -> bytes:
    raw: Any = request.raw_body
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return bytes(raw or b"")


def _problem_json(problem: SourceProblem) -> dict[str, Any]:
    return {"where": problem.uid, "message": problem.message}


def _too_large(size: int, limit: int) -> dict[str, Any]:
    return {
        "type": "urn:coverwatch:problem:too-large",
        "title": "The request body is too large",
        "status": 413,
        "detail": f"body has {size} bytes; the limit is {limit}",
        "errors": [{"field": "(body)", "message": f"at most {limit} bytes"}],
    }


def _unavailable() -> dict[str, Any]:
    return {
        "type": "urn:coverwatch:problem:unavailable",
        "title": "Bookings cannot be accepted right now",
        "status": 503,
        "detail": "the bookings intake is not configured on this deployment",
        "errors": [],
    }


def _problem(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )
