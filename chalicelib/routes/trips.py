"""``/v1/trips``: HR's view of the detected trips — list them, read one with its history, correct it.

Reads (``read`` scope) come straight from the store. ``PATCH`` (``write``) stores HR's override and lets
``chalicelib.scan.reassess_employee`` decide the employee's trips again, so the assessment, the open
cases and the alert / all-clear messages follow from the one place that decides trips; the scan (rules,
templates) is imported only then, which keeps the read routes' cold start light.

Optimistic concurrency: a stored trip's ``version`` counts its real changes and is served as
``ETag: "<version>"``. PATCH needs it in ``If-Match`` (428 without, 412 when stale), and the override is
written in one transaction with a check of that version, so two HR editors holding the same ETag
cannot both win.

Cursors are opaque to callers: base64url of a small JSON holding the store's resume point and a digest
of the filters, so a cursor that was altered, cut short or sent with other filters answers 400 naming
``cursor`` instead of silently paging through something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from chalice import Blueprint, Response
from chalice.app import MultiDict, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from chalicelib import bootstrap
from chalicelib.api.audit import actor_of, record
from chalicelib.api.operations import api_route, current_request
from chalicelib.api.records import Scope
from chalicelib.api.views import View
from chalicelib.bootstrap import Settings
from chalicelib.countries import CountryCode
from chalicelib.models import Assessment, Purpose, Status, Trip
from chalicelib.problems import (
    PROBLEM_CONTENT_TYPE,
    body_problem,
    conflict_problem,
    not_found_problem,
    precondition_problem,
    problem,
    validation_problem,
)
from chalicelib.store.repository import (
    BadResumeError,
    Repository,
    StaleTripError,
    StoredTrip,
    TripOverride,
    TripVersion,
    is_dismissed,
)

TRIPS_PATH = "/v1/trips"
TRIP_PATH = "/v1/trips/{trip_id}"
DEFAULT_LIMIT = 50
LOOK_BACK_DAYS = 30
LOOK_AHEAD_DAYS = 365
MAX_RANGE_DAYS = 3660
"""The widest ``from``..``to`` a listing takes (ten years): each month in it is a partition to query."""
_TRIP_ID_MAX = 128


# --- what the routes take and answer -----------------------------------------------------------------


class TripsQuery(BaseModel):
    """Filters of ``GET /v1/trips``; ``status`` may repeat or be comma-separated."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] | None = Field(
        default=None, description="Only these statuses (repeat the parameter or separate with commas)."
    )
    from_: date | None = Field(
        default=None, alias="from", description="First start date (default: the decision date − 30 days)."
    )
    to: date | None = Field(default=None, description="Last start date (default: the decision date + 365).")
    country: CountryCode | None = Field(default=None, description="Host country (ISO 3166-1 alpha-2).")
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=200)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=4096, description="`next_cursor` of the previous page."
    )


class TripListItem(View):
    """A stored trip with its current decision (the same shape as in ``/v1/open-cases``, plus flags)."""

    trip: Trip
    assessment: Assessment
    version: int = Field(ge=1, description="Counts the trip's real changes; the ETag of its detail.")
    first_seen: date | None = Field(description="The decision date on which coverwatch first stored it.")
    dismissed: bool = Field(description="HR dismissed it as not a trip (it is then also `cancelled`).")


class TripList(View):
    """One page of trips in start-date order."""

    trips: list[TripListItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page. A page may hold fewer "
        "trips than `limit` (even none) and still have a next one."
    )


class TripDetail(View):
    """A trip with its evidence, its current decision, HR's override and every stored version."""

    trip: Trip
    assessment: Assessment
    version: int = Field(ge=1, description='Also sent as `ETag: "<version>"`; PATCH needs it in If-Match.')
    first_seen: date | None
    dismissed: bool
    override: TripOverride | None = Field(description="HR's word on the trip, when HR changed it.")
    history: list[TripVersion] = Field(description="Every stored version of the decision, oldest first.")


class TripPatch(BaseModel):
    """HR's changes to a trip; fields left out stay as they are (at least one change is needed)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"dismissed": True, "reason": "not a trip: the meeting was virtual"}],
        },
    )

    purpose: Literal["work", "holiday", "transit"] | None = None
    start: date | None = Field(default=None, description="Corrected first day (the trip id stays).")
    end: date | None = Field(default=None, description="Corrected last day.")
    dismissed: StrictBool | None = Field(
        default=None, description="true: not a trip at all (needs `reason`); false: withdraw a dismissal."
    )
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    note: str | None = Field(default=None, min_length=1, max_length=2000)


# --- the routes --------------------------------------------------------------------------------------


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    def current() -> Request:
        return current_request(blueprint)

    @api_route(
        blueprint,
        TRIPS_PATH,
        "GET",
        scope=Scope.READ,
        summary="Trips by start date, status, host country or employee",
        query=TripsQuery,
        responses={
            200: TripList,
            400: "An unknown parameter or status, a bad date or limit, or a cursor this listing never gave.",
            422: "`to` before `from`, the range wider than ten years, or an unknown country code.",
        },
        tag="trips",
    )
    def list_trips() -> Response:
        """Trips starting between `from` and `to`, in start-date order, a page at a time.

        Filters combine (`status=certificate_required,exceeds_maximum&country=FR`). Cancelled and
        dismissed trips are listed too, flagged. Follow `next_cursor` until it is null.
        """
        return _list(current())

    @api_route(
        blueprint,
        TRIP_PATH,
        "GET",
        scope=Scope.READ,
        summary="A trip with its evidence and assessment history",
        responses={200: TripDetail, 404: "No trip with this id."},
        tag="trips",
    )
    def get_trip(trip_id: str) -> Response:
        """The trip, its evidence, its current decision, HR's override and every stored version.

        The answer's `ETag` is the trip's version: send it back in `If-Match` to change the trip.
        """
        repo = store()
        stored = _find(repo, trip_id)
        if stored is None:
            return _not_found(trip_id)
        return _detail_response(repo, stored)

    @api_route(
        blueprint,
        TRIP_PATH,
        "PATCH",
        scope=Scope.WRITE,
        summary="HR sets a trip's purpose or dates, or dismisses it",
        body=TripPatch,
        responses={
            200: TripDetail,
            400: "Not a JSON object, an unknown field, a wrong type, or an unreadable If-Match.",
            404: "No trip with this id.",
            409: "The trip left the traveler's calendar (cancelled), or its employee is no longer on record.",
            412: "If-Match names an older version: read the trip again (the problem gives the current one).",
            422: "Nothing to change, `end` before `start`, a dismissal without `reason`, or `reason` alone.",
            428: 'If-Match is missing: send the trip\'s ETag (`If-Match: "3"`).',
        },
        tag="trips",
    )
    def patch_trip(trip_id: str) -> Response:
        """Store HR's word on the trip and decide the employee's trips again.

        HR's override outranks the calendar and the traveler's answer, and survives later calendar
        syncs. Corrected dates replace the detected ones; a dismissed trip ("not a trip: the meeting was
        virtual") needs no certificate, leaves the open cases and is listed as cancelled and dismissed.
        Needs `If-Match` with the trip's version (its ETag). Every change lands in the audit trail.
        """
        return _patch(current(), trip_id)

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(trips.bp)``."""


# --- wiring ------------------------------------------------------------------------------------------


_store: tuple[Settings, Repository] | None = None


def store() -> Repository:
    """The store for the process's settings, built once (a boto3 client costs tens of milliseconds) and
    again when the settings object changes (tests clear the cached settings between runs)."""
    global _store  # noqa: PLW0603 - one per process
    current = bootstrap.default_settings()
    if _store is None or _store[0] is not current:
        _store = (current, bootstrap.repository(current))
    return _store[1]


def _today() -> date:
    return bootstrap.default_settings().decision_date()


# --- listing -----------------------------------------------------------------------------------------


def _list(request: Request) -> Response:
    query = _trips_query(request.query_params)
    if isinstance(query, Response):
        return query
    today = _today()
    first = query.from_ or (today - timedelta(days=LOOK_BACK_DAYS))
    last = query.to or (today + timedelta(days=LOOK_AHEAD_DAYS))
    if last < first:
        return _unprocessable("to", f"to ({last}) is before from ({first})")
    if (last - first).days > MAX_RANGE_DAYS:
        return _unprocessable(
            "to", f"from and to are more than {MAX_RANGE_DAYS} days apart; page a shorter range"
        )
    statuses = frozenset(query.status or ())
    digest = query_digest(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "status": sorted(statuses),
            "country": query.country,
            "employee_id": query.employee_id,
        }
    )
    resume = None
    if query.cursor is not None:
        resume = decode_cursor(query.cursor, digest)
        if resume is None:
            return bad_cursor()

    def keep(stored: StoredTrip) -> bool:
        return (not statuses or stored.assessment.status in statuses) and (
            query.country is None or stored.trip.country == query.country
        )

    filtered = bool(statuses) or query.country is not None
    try:
        page = store().trips_starting(
            first,
            last,
            limit=query.limit,
            resume=resume,
            employee_id=query.employee_id,
            keep=keep if filtered else None,
        )
    except BadResumeError:
        return bad_cursor()
    body = TripList(
        trips=[_list_item(s) for s in page.trips],
        next_cursor=encode_cursor(page.resume, digest) if page.resume is not None else None,
    )
    return Response(body=body.model_dump(mode="json"), status_code=200)


def _trips_query(params: MultiDict | None) -> TripsQuery | Response:
    """The query as the model takes it: ``status`` from every occurrence and comma, others their last."""
    given: dict[str, list[str]] = (
        {name: params.getlist(name) for name in params} if params is not None else {}
    )
    raw: dict[str, Any] = {name: values[-1] for name, values in given.items()}
    if "status" in given:
        raw["status"] = [
            part.strip() for value in given["status"] for part in value.split(",") if part.strip()
        ]
    try:
        return TripsQuery.model_validate(raw)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _list_item(stored: StoredTrip) -> TripListItem:
    return TripListItem(
        trip=stored.trip,
        assessment=stored.assessment,
        version=stored.version,
        first_seen=stored.first_seen,
        dismissed=is_dismissed(stored),
    )


def query_digest(filters: dict[str, Any]) -> str:
    """A short digest of a listing's filters, carried in its cursors to refuse them for other filters."""
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def encode_cursor(resume: dict[str, Any], digest: str) -> str:
    raw = json.dumps({"q": digest, "r": resume}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, digest: str) -> dict[str, Any] | None:
    """The resume point a cursor carries, or None when it is not one this listing handed out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("q") != digest or not isinstance(doc.get("r"), dict):
        return None
    resume: dict[str, Any] = doc["r"]
    return resume


def bad_cursor() -> Response:
    detail = (
        "the cursor is not one this listing handed out (altered, or from other filters); start without it"
    )
    return _problem(problem(400, "validation", "The request is not valid", detail, "cursor"))


# --- one trip ----------------------------------------------------------------------------------------


def _find(repo: Repository, trip_id: str) -> StoredTrip | None:
    if not 0 < len(trip_id) <= _TRIP_ID_MAX:
        return None
    return repo.get_trip(trip_id)


def _detail_response(repo: Repository, stored: StoredTrip) -> Response:
    trip = stored.trip
    detail = TripDetail(
        trip=trip,
        assessment=stored.assessment,
        version=stored.version,
        first_seen=stored.first_seen,
        dismissed=is_dismissed(stored),
        override=repo.trip_override(trip.employee_id, trip.id),
        history=repo.trip_history(trip.employee_id, trip.id),
    )
    return Response(
        body=detail.model_dump(mode="json"), status_code=200, headers={"ETag": f'"{stored.version}"'}
    )


def _not_found(trip_id: str) -> Response:
    return _problem(not_found_problem("trip_id", f"no trip {trip_id!r}"))


# --- HR's changes ------------------------------------------------------------------------------------


def _patch(request: Request, trip_id: str) -> Response:
    repo = store()
    stored = _find(repo, trip_id)
    if stored is None:
        return _not_found(trip_id)
    expected = _if_match(request)
    if isinstance(expected, Response):
        return expected
    patch = _patch_body(request)
    if isinstance(patch, Response):
        return patch
    trip = stored.trip
    refused = _semantic_problem(patch, trip)
    if refused is not None:
        return refused
    if trip.cancelled and not is_dismissed(stored):
        detail = "the trip left the traveler's calendar (cancelled); there is nothing left to change"
        return _problem(conflict_problem("trip_id", detail))
    employee = repo.get_employee(trip.employee_id)
    if employee is None:
        detail = f"the trip's employee {trip.employee_id!r} is no longer on record; nothing can be decided"
        return _problem(conflict_problem("trip_id", detail))
    if stored.version not in expected:
        return _stale(stored.version)
    existing = repo.trip_override(trip.employee_id, trip.id)
    override = _merged(existing, patch, stored, actor_of(request))
    try:
        repo.put_trip_override(override, trip_version=stored.version, trip_end=trip.end)
    except StaleTripError:
        fresh = repo.get_trip(trip.id)
        return _stale(fresh.version if fresh else stored.version)
    record(
        repo,
        request,
        "trip.update",
        f"trip/{trip.id}",
        employee_id=trip.employee_id,
        fields=patch.model_fields_set,
    )

    from chalicelib.scan import reassess_employee  # rules and message templates load only for writes

    reassess_employee(employee, bootstrap.scan_deps(bootstrap.default_settings()))
    updated = repo.get_trip(trip.id) or stored
    return _detail_response(repo, updated)


def _if_match(request: Request) -> frozenset[int] | Response:
    """The versions ``If-Match`` names (quotes and ``W/`` optional; a list matches any of them)."""
    header = (request.headers.get("if-match") or "").strip()
    if not header:
        detail = 'send If-Match with the trip\'s version from its ETag, e.g. If-Match: "3"'
        return _problem(
            problem(428, "precondition-required", "The change needs If-Match", detail, "If-Match")
        )
    versions = set()
    for token in header.split(","):
        value = token.strip().removeprefix("W/").strip().strip('"')
        if not value.isdigit():
            detail = f"If-Match {header!r} is not a trip version; send the ETag of GET {TRIPS_PATH}/{{id}}"
            return _problem(problem(400, "validation", "The request is not valid", detail, "If-Match"))
        versions.add(int(value))
    return frozenset(versions)


def _stale(current: int) -> Response:
    detail = (
        f'the trip is now at version {current} (ETag "{current}"); read it again and re-apply your change'
    )
    body = precondition_problem(detail)
    body["current_version"] = current
    return _problem(body, {"ETag": f'"{current}"'})


def _patch_body(request: Request) -> TripPatch | Response:
    raw: Any = request.raw_body or b""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _problem(body_problem(f"body is not valid JSON: {exc}"))
    if not isinstance(body, dict):
        return _problem(body_problem("body must be a JSON object"))
    try:
        return TripPatch.model_validate(body)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _semantic_problem(patch: TripPatch, trip: Trip) -> Response | None:
    """Well-formed changes that cannot be right (422), each naming the field at fault."""
    if patch.purpose is None and patch.start is None and patch.end is None and patch.dismissed is None:
        detail = "nothing to change: set purpose, start and/or end, or dismissed (a note goes with a change)"
        return _unprocessable("(body)", detail)
    if patch.dismissed is True and patch.reason is None:
        return _unprocessable(
            "reason", "a dismissal needs a reason, e.g. 'not a trip: the meeting was virtual'"
        )
    if patch.reason is not None and patch.dismissed is None:
        return _unprocessable("reason", "reason explains a dismissal; send it with dismissed")
    start, end = patch.start or trip.start, patch.end or trip.end
    if end < start:
        field = "end" if patch.end is not None else "start"
        return _unprocessable(field, f"end ({end}) is before start ({start})")
    return None


def _merged(existing: TripOverride | None, patch: TripPatch, stored: StoredTrip, actor: str) -> TripOverride:
    """HR's override after this change: what they set before, with this patch on top."""
    data: dict[str, Any] = (
        existing.model_dump()
        if existing is not None
        else {"employee_id": stored.trip.employee_id, "trip_id": stored.trip.id}
    )
    if patch.purpose is not None:
        data["purpose"] = Purpose(patch.purpose)
    if patch.start is not None or patch.end is not None:
        data["start"], data["end"] = patch.start or stored.trip.start, patch.end or stored.trip.end
    if patch.dismissed is not None:
        data["dismissed"], data["reason"] = patch.dismissed, patch.reason
    if patch.note is not None:
        data["note"] = patch.note
    data.update(by=actor, at=datetime.now(UTC))
    return TripOverride.model_validate(data)


# --- answers -----------------------------------------------------------------------------------------


def _unprocessable(field: str, detail: str) -> Response:
    return _problem(problem(422, "validation", "The request is not valid", detail, field))


def _problem(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=body["status"],
        headers={"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})},
    )
