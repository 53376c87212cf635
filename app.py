"""HTTP API and queue handlers: parse, call one use case, shape the reply. No logic lives here."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, TypeVar

from chalice import Chalice, Response
from chalice.app import Request, SQSEvent
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap
from chalicelib.checks import CheckRequest, JourneyRequest, check_response, run_check, run_journey
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, validation_problem
from chalicelib.queries import OpenCasesQuery, stored_trip_json
from chalicelib.store.repository import Repository

app = Chalice(app_name="coverwatch")
M = TypeVar("M", bound=BaseModel)
SCAN_QUEUE = bootstrap.default_settings().queue_name


@lru_cache(maxsize=1)
def _repo() -> Repository:
    return bootstrap.repository(bootstrap.default_settings())


def _request() -> Request:
    request = app.current_request
    assert request is not None, "Chalice sets current_request for every route call"
    return request


def _problem(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )


def _validated(model: type[M], data: object) -> M | Response:
    """``data`` as ``model``, or a 400 problem naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _body_as(model: type[M]) -> M | Response:
    """The request body parsed as JSON and validated as ``model``, or a 400 problem."""
    raw = _request().raw_body or b""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _problem(body_problem(f"body is not valid JSON: {exc}"))
    if not isinstance(body, dict):
        return _problem(body_problem("body must be a JSON object"))
    return _validated(model, body)


@app.route("/v1/checks", methods=["POST"])
def create_check() -> Response:
    request = _body_as(CheckRequest)
    if isinstance(request, Response):
        return request
    certificates = _repo().certificates_of(request.employee_id) if request.employee_id else []
    assessment = run_check(request, certificates, bootstrap.default_settings().decision_date())
    return Response(body=check_response(assessment), status_code=200)


@app.route("/v1/journeys", methods=["POST"])
def create_journey_check() -> Response:
    """One decision per host country of a multi-country journey, plus an Art. 13 hint when it fits."""
    request = _body_as(JourneyRequest)
    if isinstance(request, Response):
        return request
    certificates, history = [], []
    if request.employee_id:
        certificates = _repo().certificates_of(request.employee_id)
        history = [s.trip for s in _repo().trips_of(request.employee_id) if not s.trip.cancelled]
    answer = run_journey(request, certificates, history, bootstrap.default_settings().decision_date())
    return Response(body=answer, status_code=200)


@app.route("/v1/open-cases", methods=["GET"])
def list_open_cases() -> Response:
    """Trips starting in [from, to] that still lack a certificate ("who travels without an A1?")."""
    query = _validated(OpenCasesQuery, _request().query_params or {})
    if isinstance(query, Response):
        return query
    trips = _repo().trips_lacking_certificate(query.from_, query.to)
    return Response(body={"trips": [stored_trip_json(t) for t in trips]}, status_code=200)


@app.route("/v1/employees/{employee_id}/trips", methods=["GET"])
def list_employee_trips(employee_id: str) -> Response:
    return Response(
        body={"trips": [stored_trip_json(t) for t in _repo().trips_of(employee_id)]}, status_code=200
    )


@app.on_sqs_message(queue=SCAN_QUEUE, batch_size=10)
def scan_worker(event: SQSEvent) -> dict[str, Any]:
    """Scan one employee per message; failed messages are reported back so only they are retried."""
    from chalicelib.worker import process_messages

    deps = bootstrap.scan_deps(bootstrap.default_settings())
    messages = ((record.to_dict()["messageId"], record.body) for record in event)
    return process_messages(messages, deps).batch_item_failures()
