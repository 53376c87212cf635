"""``GET /v1/audit`` and ``GET /v1/export/trips.csv``: what auditors ask for (``admin`` scope only).

The audit trail answers "who changed what, when" with ids and field names only (chalicelib/api/audit.py);
it is stored per UTC day, so a listing walks the days of its range — hence the 92-day limit, which
bounds the number of partitions one request may touch. Pages use the same opaque cursors as
``GET /v1/trips``.

The export gives an auditor every trip starting in a range, one row each with the decision and the
legal instrument it rests on. A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as
a formula, and employee ids or titles come from other systems, so such cells get a leading apostrophe
(OWASP's advice for CSV injection; tab and carriage return too). Taking the export is itself recorded in
the audit trail: it is the largest release of personal data the API makes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from chalice import Blueprint, Response
from chalice.app import MultiDict, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.api import views
from chalicelib.api.audit import record
from chalicelib.api.operations import api_route, current_request
from chalicelib.api.records import AuditEntry, Scope
from chalicelib.api.views import View
from chalicelib.problems import PROBLEM_CONTENT_TYPE, problem, validation_problem
from chalicelib.routes.trips import bad_cursor, decode_cursor, encode_cursor, query_digest, store
from chalicelib.store.repository import Repository, StoredTrip, is_dismissed

AUDIT_PATH = "/v1/audit"
EXPORT_PATH = "/v1/export/trips.csv"
AUDIT_DEFAULT_DAYS = 7
AUDIT_MAX_DAYS = 92
AUDIT_QUERY_BUDGET = 100
"""Day pages one audit listing call may read before it hands back a cursor."""
EXPORT_MAX_DAYS = 400
EXPORT_MAX_BYTES = 5_500_000
"""Lambda answers at most 6 MB; a larger export is refused with advice to split the range."""
EXPORT_PAGE = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = (
    "trip_id",
    "employee_id",
    "host_country",
    "start",
    "end",
    "days",
    "purpose",
    "status",
    "document",
    "certificate_id",
    "apply_by",
    "instrument_id",
    "instrument_title",
    "article",
    "source_url",
    "rule_ids",
    "decided_on",
    "version",
    "cancelled",
    "dismissed",
)
Q = TypeVar("Q", bound=BaseModel)
_AUDIT_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.+-]{8,40}#[0-9a-f]{12}$")


class AuditQuery(BaseModel):
    """Filters of ``GET /v1/audit``; days are UTC."""

    model_config = ConfigDict(extra="forbid")

    from_: date | None = Field(default=None, alias="from", description="First day (default: `to` − 6 days).")
    to: date | None = Field(default=None, description="Last day (default: today, UTC); at most 92 days on.")
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, min_length=1, max_length=4096)


class AuditPage(View):
    """One page of the audit trail, oldest first: who (a key or role id, never a name) changed what."""

    entries: list[AuditEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ExportQuery(BaseModel):
    """The start dates of the trips to export; at most 400 days apart."""

    model_config = ConfigDict(extra="forbid")

    from_: date = Field(alias="from")
    to: date


def make_blueprint() -> Blueprint:
    """A fresh blueprint with both routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    def current() -> Request:
        return current_request(blueprint)

    @api_route(
        blueprint,
        AUDIT_PATH,
        "GET",
        scope=Scope.ADMIN,
        summary="Who changed what, and when",
        query=AuditQuery,
        responses={
            200: AuditPage,
            400: "An unknown parameter, a bad date or limit, or a cursor this listing never gave.",
            422: "`to` before `from`, or more than 92 days apart.",
        },
        tag="audit",
    )
    def list_audit() -> Response:
        """The audit trail of every write through the API, oldest first, a page at a time.

        Each entry names the caller (`key:<id>`, `iam:<role>`), the action (`trip.update`…), the
        resource, the employee and the field names written — never their values.
        """
        return _audit(current())

    @api_route(
        blueprint,
        EXPORT_PATH,
        "GET",
        scope=Scope.ADMIN,
        summary="Every trip starting in a range, as CSV for auditors",
        query=ExportQuery,
        responses={
            200: views.csv("UTF-8 CSV with a header row, one row per trip, as an attachment."),
            400: "`from` or `to` missing or not a date, or an unknown parameter.",
            422: "`to` before `from`, more than 400 days apart, or an export too large for one answer.",
        },
        tag="audit",
    )
    def export_trips() -> Response:
        """Trips starting between `from` and `to` with their decision and its legal basis, one per row.

        Columns: trip_id, employee_id, host_country, start, end, days, purpose, status, document,
        certificate_id, apply_by, instrument_id, instrument_title, article, source_url, rule_ids
        (separated by spaces), decided_on, version, cancelled, dismissed. Cells that a spreadsheet
        would run as a formula start with an apostrophe.
        """
        return _export(current())

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(admin.bp)``."""


# --- the audit trail ---------------------------------------------------------------------------------


def _audit(request: Request) -> Response:
    query = _query(AuditQuery, request.query_params)
    if isinstance(query, Response):
        return query
    last = query.to or datetime.now(UTC).date()
    first = query.from_ or (last - timedelta(days=AUDIT_DEFAULT_DAYS - 1))
    if last < first:
        return _unprocessable("to", f"to ({last}) is before from ({first})")
    if (last - first).days > AUDIT_MAX_DAYS:
        return _unprocessable("to", f"from and to are more than {AUDIT_MAX_DAYS} days apart")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    digest = query_digest(
        {"from": first.isoformat(), "to": last.isoformat(), "employee_id": query.employee_id}
    )
    index, after = 0, None
    if query.cursor is not None:
        resume = _audit_resume(decode_cursor(query.cursor, digest), days)
        if resume is None:
            return bad_cursor()
        index, after = resume
    repo = store()
    entries: list[AuditEntry] = []
    for _ in range(AUDIT_QUERY_BUDGET):
        if index >= len(days) or len(entries) >= query.limit:
            break
        page, after = repo.audit_of_day(days[index], query.limit - len(entries), after)
        entries.extend(e for e in page if query.employee_id in (None, e.employee_id))
        if after is None:
            index += 1
    cursor = None
    if index < len(days):
        cursor = encode_cursor({"day": days[index].isoformat(), "after": after}, digest)
    body = AuditPage(entries=entries, next_cursor=cursor)
    return Response(body=body.model_dump(mode="json"), status_code=200)


def _audit_resume(resume: dict[str, Any] | None, days: list[date]) -> tuple[int, str | None] | None:
    """(day index, last key read) from a cursor's resume point; None when it is not one we gave."""
    if resume is None or set(resume) != {"day", "after"}:
        return None
    day, after = resume["day"], resume["after"]
    if not isinstance(day, str) or day not in {d.isoformat() for d in days}:
        return None
    if after is not None and not (isinstance(after, str) and _AUDIT_KEY.match(after)):
        return None
    return [d.isoformat() for d in days].index(day), after


# --- the export --------------------------------------------------------------------------------------


def _export(request: Request) -> Response:
    query = _query(ExportQuery, request.query_params)
    if isinstance(query, Response):
        return query
    first, last = query.from_, query.to
    if last < first:
        return _unprocessable("to", f"to ({last}) is before from ({first})")
    if (last - first).days > EXPORT_MAX_DAYS:
        return _unprocessable("to", f"from and to are more than {EXPORT_MAX_DAYS} days apart")
    repo = store()
    rows = 0
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for stored in _all_trips(repo, first, last):
        writer.writerow([_safe(cell) for cell in _row(stored)])
        rows += 1
    text = out.getvalue()
    size = len(text.encode("utf-8"))
    if size > EXPORT_MAX_BYTES:
        detail = (
            f"the export of {rows} trips is {size} bytes, over the {EXPORT_MAX_BYTES} one answer can carry; "
            "export shorter ranges"
        )
        return _unprocessable("to", detail)
    record(repo, request, "trip.export", f"export/trips/{first}..{last}", fields=EXPORT_COLUMNS)
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="trips-{first}-{last}.csv"',
        },
    )


def _all_trips(repo: Repository, first: date, last: date) -> Iterator[StoredTrip]:
    resume: dict[str, Any] | None = None
    while True:
        page = repo.trips_starting(first, last, limit=EXPORT_PAGE, resume=resume)
        yield from page.trips
        if page.resume is None:
            return
        resume = page.resume


def _row(stored: StoredTrip) -> list[str]:
    trip, decision = stored.trip, stored.assessment
    instrument = decision.instrument
    return [
        trip.id,
        trip.employee_id,
        trip.country,
        trip.start.isoformat(),
        trip.end.isoformat(),
        str(trip.days),
        trip.purpose.value,
        decision.status.value,
        decision.document.value if decision.document else "",
        decision.certificate_id or "",
        decision.apply_by.isoformat() if decision.apply_by else "",
        instrument.id if instrument else "",
        instrument.title if instrument else "",
        instrument.article if instrument else "",
        instrument.source if instrument else "",
        " ".join(decision.rule_ids),
        decision.decided_on.isoformat(),
        str(stored.version),
        "true" if trip.cancelled else "false",
        "true" if is_dismissed(stored) else "false",
    ]


def _safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


# --- shared ------------------------------------------------------------------------------------------


def _query(model: type[Q], params: MultiDict | None) -> Q | Response:
    raw = {name: params.getlist(name)[-1] for name in params} if params is not None else {}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _unprocessable(field: str, detail: str) -> Response:
    return _problem(problem(422, "validation", "The request is not valid", detail, field))


def _problem(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )
