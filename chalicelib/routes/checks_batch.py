"""``POST /v1/checks/batch``: up to 100 trips in one request, each answered on its own.

Why: a booking tool that syncs a day's bookings, or an HR script going through next quarter's travel,
would otherwise send a hundred requests. One bad trip (a typo in a country code, an employee nobody
recorded) must not cost the other 99 their answers, so every trip gets its own status: 200 with the
same body ``POST /v1/checks`` answers, or the problem that route would have answered, with its fields
placed in the batch (``trips.3.end``). Trips naming the same employee read that employee's profile and
certificates once.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import BatchCheckAnswer, BatchCheckBody
from chalicelib.checks import CheckAnswerer, CheckBody, CheckRefusal, check_response
from chalicelib.problems import validation_problem
from chalicelib.routes import directory_http as http

BATCH_PATH = "/v1/checks/batch"
MAX_TRIPS = 100


class _Batch(BaseModel):
    """The envelope; each trip is validated on its own, so one bad trip is its own answer."""

    model_config = ConfigDict(extra="forbid")

    trips: list[Any]

    @field_validator("trips")
    @classmethod
    def _size(cls, trips: list[Any]) -> list[Any]:
        if not 1 <= len(trips) <= MAX_TRIPS:
            raise ValueError(f"send 1 to {MAX_TRIPS} trips; this batch has {len(trips)}")
        return trips


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the batch route (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        BATCH_PATH,
        "POST",
        scope=Scope.CHECK,
        summary="Do these trips need certificates? (up to 100)",
        body=BatchCheckBody,
        responses={200: BatchCheckAnswer, 422: "`trips` is empty or has more than 100 entries."},
        tag="checks",
    )
    def check_batch() -> Response:
        """Each trip is a `POST /v1/checks` body and gets that route's answer, in the order sent."""
        batch = http.body_as(http.request_of(blueprint), _Batch)
        if isinstance(batch, Response):
            return batch
        answerer = CheckAnswerer(http.repo(), http.settings().decision_date())
        return http.reply({"results": [_result(i, trip, answerer) for i, trip in enumerate(batch.trips)]})

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(bp)``."""


def _result(index: int, trip: Any, answerer: CheckAnswerer) -> dict[str, Any]:
    try:
        request = CheckBody.model_validate(trip)
    except ValidationError as exc:
        return _refused(index, _placed(validation_problem(exc), f"trips.{index}"))
    answer = answerer.answer(request)
    if isinstance(answer, CheckRefusal):
        return _refused(index, answer.problem(prefix=f"trips.{index}."))
    return {"index": index, "status": 200, "check": check_response(answer)}


def _refused(index: int, problem: dict[str, Any]) -> dict[str, Any]:
    return {"index": index, "status": problem["status"], "problem": problem}


def _placed(problem: dict[str, Any], base: str) -> dict[str, Any]:
    """The problem with each field named inside the batch: ``end`` → ``trips.3.end``."""
    errors = [
        {**e, "field": base if e["field"] == "(body)" else f"{base}.{e['field']}"} for e in problem["errors"]
    ]
    names = ", ".join(e["field"] for e in errors)
    return {**problem, "detail": f"Invalid field(s): {names}", "errors": errors}
