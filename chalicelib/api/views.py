"""The shapes the HTTP API answers (and the request bodies it documents but validates elsewhere).

Routes build their answers from domain models and plain dicts; these models state those shapes once,
for the OpenAPI document (chalicelib/api/openapi.py), from which schemathesis checks every real answer.
A route and its view change together: the functional tests validate real answers against them.

Shared file: each route module's views sit under their own heading; append, do not reorder.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from chalicelib.checks import CheckBody
from chalicelib.models import (
    Assessment,
    Booking,
    Certificate,
    Connection,
    Employee,
    MultiStateSuggestion,
    Status,
    Trip,
)


class View(BaseModel):
    """Base of every answer shape: exactly these fields, so a route that adds one must say so here.

    ``defer_build`` (on every model here): validators are built on first use, not at the API's cold
    start; most of these only ever serve the OpenAPI document.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Described(str):
    """A response documented in words with its media type (an HTML page, a CSV file, plain text).

    It is a ``str``, so it fits ``api_route(responses=...)`` where a plain description goes; the
    OpenAPI generator reads ``media_type`` from it. A plain string on a 4xx/5xx means a problem+json.
    """

    media_type: str

    def __new__(cls, description: str, media_type: str) -> Described:
        value = super().__new__(cls, description)
        value.media_type = media_type
        return value


def html(description: str) -> Described:
    return Described(description, "text/html")


def plain_text(description: str) -> Described:
    return Described(description, "text/plain")


def csv(description: str) -> Described:
    return Described(description, "text/csv")


def json_document(description: str) -> Described:
    """A JSON answer whose shape is not one of our models (e.g. the OpenAPI document itself)."""
    return Described(description, "application/json")


def _without_id(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """``model``'s fields minus ``id``: the body of a PUT whose id comes from the path."""
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in model.model_fields.items() if n != "id"}
    built: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid", defer_build=True), __doc__=doc, **fields
    )
    return built


class FieldError(View):
    field: str = Field(
        description="The part of the request at fault: `start`, `legs.0.end`, `(body)`, a header."
    )
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error answer, as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str = Field(description="`urn:coverwatch:problem:<kind>`, stable for programs to branch on.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(
        default=[], exclude_if=lambda errors: not errors, description="Each bad field, when it names one."
    )


# --- health and the API's own description (app.py, chalicelib/routes/meta.py) --------------------------


class Health(View):
    """The API answers (it does not touch the store, so it says nothing about DynamoDB)."""

    status: Literal["ok"]


# --- checks (app.py: /v1/checks, /v1/journeys) -------------------------------------------------------------


class JourneyLegAnswer(Assessment):
    """One leg's decision: the leg itself, then every field of a /v1/checks answer."""

    host_country: str
    start: date
    end: date


class JourneyAnswer(View):
    """One decision per leg, and an Art. 13 suggestion (``multi_state``) when regular work in several
    EU/EEA/Swiss states makes one A1 fit better."""

    legs: list[JourneyLegAnswer]
    multi_state: MultiStateSuggestion | None


# --- stored trips (app.py: /v1/open-cases, /v1/employees/{employee_id}/trips) -----------------------------


class StoredTripItem(View):
    """A stored trip with its current decision; ``version`` counts the trip's real changes."""

    trip: Trip
    assessment: Assessment
    version: int


class StoredTrips(View):
    """Stored trips with their current decisions, in date order."""

    trips: list[StoredTripItem]


# --- records pushed by other systems (app.py: employees, certificates, connections) -----------------------

EmployeeBody = _without_id(
    Employee, "EmployeeBody", "An employee record without its id (the id is the path's `employee_id`)."
)
CertificateBody = _without_id(
    Certificate,
    "CertificateBody",
    "A certificate without its id (the id is the path's `certificate_id`); `valid_to` ≥ `valid_from`.",
)


class EmployeeWritten(View):
    """The employee as stored, and how many of their trips were decided again."""

    employee: Employee
    trips: int = Field(description="How many stored trips of the employee were decided again.")


class TripDecision(View):
    trip_id: str
    country: str
    status: Status


class CertificateWritten(View):
    """The certificate as stored, and the employee's trips decided again with it."""

    certificate: Certificate
    trips: list[TripDecision] = Field(description="The employee's trips, decided again with the certificate.")


class ConnectionCreated(View):
    """The connection (its id is stable: connecting the same calendar twice is one connection)."""

    connection: Connection


# --- sources (chalicelib/routes/bookings.py, calendar_upload.py) -----------------------------------------


class JsonLdDocument(RootModel[dict[str, Any] | list[Any]]):
    """schema.org reservations as JSON-LD: one object, a list of them, or an object with ``@graph``."""

    model_config = ConfigDict(defer_build=True)


class BookingSegmentAnswer(Booking):
    """One normalised segment (a flight, a stay…) and the title its calendar event carries."""

    title: str


class BookingProblem(View):
    where: str | None = Field(description="The reservation's id or uid, when it has one.")
    message: str


class BookingsAccepted(View):
    """What the body held: segments accepted and cancelled, and each reservation that was not usable."""

    accepted: int
    cancelled: int
    segments: list[BookingSegmentAnswer]
    problems: list[BookingProblem]


class IcsFile(RootModel[str]):
    """An iCalendar file (``BEGIN:VCALENDAR`` …) as exported by a calendar application."""

    model_config = ConfigDict(defer_build=True)


class UploadProblem(View):
    uid: str | None
    line: int | None
    message: str


class UploadSummary(View):
    """How many events the file held, and every entry skipped with its reason."""

    connection_id: str
    events: int = Field(description="How many events the file held (recurrences expanded in the window).")
    problems: list[UploadProblem] = Field(description="Entries skipped, with their UID, line and reason.")


# --- webhooks (chalicelib/routes/graph_webhook.py) --------------------------------------------------------


class GraphValidationQuery(BaseModel):
    """Graph's subscription handshake: when present, the token is echoed back as text/plain."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    validation_token: str | None = Field(default=None, alias="validationToken", min_length=1, max_length=4096)


# --- directory (chalicelib/routes/employees.py, certificates.py, connections.py, checks_batch.py) -----

URL_SAFE_ID = r"^[A-Za-z0-9_.:@+=-]+$"
"""Ids a caller picks for records addressed by path (certificates): each stays one path segment."""


class EmployeeRecord(View):
    employee: Employee


class CsvFile(RootModel[str]):
    """An HR system's employee export: UTF-8 (a byte-order mark is fine), ``;`` or ``,`` separated.

    A header row names the columns, in any order and case (``Home Country`` = ``home_country``):
    required ``id``, ``name``, ``home_country``, ``nationalities`` (several separated by ``;`` or ``|``),
    ``residence_country``; optional ``email``, ``employment_type``, ``employer_country``, ``language``.
    Other columns are ignored.
    """

    model_config = ConfigDict(defer_build=True)


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    dry_run: bool = Field(default=False, description="Validate and report, but store nothing.")


class ImportRejection(View):
    row: int = Field(description="The line of the file where the row starts (the header is line 1).")
    id: str | None = Field(description="The row's `id` cell, when it has one.")
    errors: list[FieldError]


class ImportReport(View):
    """What an import did (or, with `dry_run`, would do): rows created, updated, unchanged, rejected."""

    dry_run: bool
    created: int
    updated: int
    unchanged: int
    rejected: list[ImportRejection]


_CERTIFICATE_FIELDS: dict[str, Any] = {
    n: (f.annotation, f) for n, f in Certificate.model_fields.items() if n not in ("id", "employee_id")
}
CertificateCreate = create_model(
    "CertificateCreate",
    __config__=ConfigDict(extra="forbid", defer_build=True),
    __doc__="A certificate of the path's employee; without an `id`, coverwatch makes one (`cert_…`).",
    id=(str | None, Field(default=None, min_length=1, max_length=128, pattern=URL_SAFE_ID)),
    **_CERTIFICATE_FIELDS,
)


class CertificateRecord(View):
    certificate: Certificate


class CertificateList(View):
    certificates: list[Certificate]


class TripChange(View):
    """A stored trip whose decision the change moved."""

    trip_id: str
    country: str
    start: date
    status_before: Status
    status: Status


class CertificateChanged(View):
    """The certificate as stored now, and the employee's trips whose decision it changed."""

    certificate: Certificate
    trips: list[TripChange]


class LastSync(View):
    """The last successful read of the calendar (the cursor itself is a credential and never shown)."""

    synced_at: datetime | None
    window_start: date | None
    window_end: date | None
    has_cursor: bool = Field(description="Whether the next sync continues from where this one stopped.")


class LastSyncError(View):
    """The last failed read; compare `at` with `last_sync.synced_at` to see whether it still fails."""

    at: datetime
    reason: str
    permanent: bool = Field(description="Retrying will not help until someone fixes access or the account.")
    retry_after: float | None


class ConnectionStatus(View):
    connection: Connection
    last_sync: LastSync | None
    last_error: LastSyncError | None


class BatchCheckBody(BaseModel):
    """Up to 100 trips, each a `POST /v1/checks` body; each is answered on its own."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    trips: list[CheckBody] = Field(min_length=1, max_length=100)


class BatchCheckDone(View):
    index: int
    status: Literal[200]
    check: Assessment


class BatchCheckRefused(View):
    index: int
    status: Literal[400, 404, 422]
    problem: Problem = Field(description="As `POST /v1/checks` answers; fields are `trips.<i>.<field>`.")


class BatchCheckAnswer(View):
    """One result per trip, in the order sent; a refused trip does not fail the others."""

    results: list[BatchCheckDone | BatchCheckRefused]
