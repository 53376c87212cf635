"""HTTP API and queue handlers: parse, call one use case, shape the reply. No logic lives here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap
from chalicelib.api.guard import Guard
from chalicelib.api.operations import Auth, api_route
from chalicelib.api.records import Scope
from chalicelib.channels import open_channel, renew_channels
from chalicelib.checks import CheckRequest, JourneyRequest, check_response, run_check, run_journey
from chalicelib.directory import ConnectionRequest, connection_for
from chalicelib.jobs import SyncJob, enqueue_sync
from chalicelib.models import CalendarEvent, Certificate, Employee, SourceKind
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, not_found_problem, validation_problem
from chalicelib.queries import OpenCasesQuery, stored_trip_json
from chalicelib.routes import bookings as bookings_routes
from chalicelib.routes import calendar_upload, google_webhook, graph_webhook
from chalicelib.store.repository import Repository

if TYPE_CHECKING:
    from chalicelib.scan import ScanReport

app = Chalice(app_name="coverwatch")
M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    """Any JSON object; the route validates it against the real model once the path id is merged in."""

    model_config = {"extra": "allow"}


SCAN_QUEUE = bootstrap.default_settings().queue_name


@lru_cache(maxsize=1)
def _repo() -> Repository:
    return bootstrap.repository(bootstrap.default_settings())


def _iam_principals() -> dict[str, frozenset[Scope]]:
    return {
        arn: frozenset(Scope(s) for s in scopes)
        for arn, scopes in bootstrap.default_settings().iam_principals
    }


guard = Guard(repo=_repo, iam_principals=_iam_principals)
app.register_middleware(guard, "http")


@api_route(app, "/v1/health", "GET", auth=Auth.PUBLIC, summary="Is the API up?")
def health() -> Response:
    """Answers without credentials and without touching the store, for load balancers and uptime checks."""
    return Response(body={"status": "ok"}, status_code=200)


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


@api_route(app, "/v1/checks", "POST", scope=Scope.CHECK, summary="Does this trip need a certificate?")
def create_check() -> Response:
    request = _body_as(CheckRequest)
    if isinstance(request, Response):
        return request
    certificates = _repo().certificates_of(request.employee_id) if request.employee_id else []
    assessment = run_check(request, certificates, bootstrap.default_settings().decision_date())
    return Response(body=check_response(assessment), status_code=200)


@api_route(app, "/v1/journeys", "POST", scope=Scope.CHECK, summary="One decision per country of a journey")
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


@api_route(app, "/v1/open-cases", "GET", scope=Scope.READ, summary="Trips lacking a certificate")
def list_open_cases() -> Response:
    """Trips starting in [from, to] that still lack a certificate ("who travels without an A1?")."""
    query = _validated(OpenCasesQuery, _request().query_params or {})
    if isinstance(query, Response):
        return query
    trips = _repo().trips_lacking_certificate(query.from_, query.to)
    return Response(body={"trips": [stored_trip_json(t) for t in trips]}, status_code=200)


def _reassess(employee: Employee) -> ScanReport:
    from chalicelib.scan import reassess_employee  # detection and alerts load only for these writes

    return reassess_employee(employee, bootstrap.scan_deps(bootstrap.default_settings()))


@api_route(
    app, "/v1/employees/{employee_id}", "PUT", scope=Scope.WRITE, summary="Create or replace an employee"
)
def put_employee(employee_id: str) -> Response:
    """Create or replace an employee record (from an HRIS); their stored trips are decided again."""
    body = _body_as(_Body)
    if isinstance(body, Response):
        return body
    employee = _validated(Employee, {**body.model_dump(), "id": employee_id})
    if isinstance(employee, Response):
        return employee
    _repo().put_employee(employee)
    report = _reassess(employee)
    return Response(
        body={"employee": employee.model_dump(mode="json"), "trips": len(report.results)}, status_code=200
    )


@api_route(app, "/v1/certificates/{certificate_id}", "PUT", scope=Scope.WRITE, summary="Record a certificate")
def put_certificate(certificate_id: str) -> Response:
    """Record an A1 / CoC (applied or issued); the employee's trips are decided again at once."""
    body = _body_as(_Body)
    if isinstance(body, Response):
        return body
    certificate = _validated(Certificate, {**body.model_dump(), "id": certificate_id})
    if isinstance(certificate, Response):
        return certificate
    employee = _repo().get_employee(certificate.employee_id)
    if employee is None:
        return _problem(not_found_problem("employee_id", f"no employee {certificate.employee_id!r}"))
    _repo().put_certificate(certificate)
    report = _reassess(employee)
    trips = [
        {"trip_id": r.trip.id, "country": r.trip.country, "status": r.assessment.status.value}
        for r in report.results
    ]
    return Response(
        body={"certificate": certificate.model_dump(mode="json"), "trips": trips}, status_code=200
    )


@api_route(
    app, "/v1/employees/{employee_id}/connections", "POST", scope=Scope.WRITE, summary="Connect a calendar"
)
def connect_calendar(employee_id: str) -> Response:
    """Connect an Outlook mailbox, a Google calendar or an ICS feed; its first sync is queued."""
    request = _body_as(ConnectionRequest)
    if isinstance(request, Response):
        return request
    if _repo().get_employee(employee_id) is None:
        return _problem(not_found_problem("employee_id", f"no employee {employee_id!r}; PUT it first"))
    connection = connection_for(employee_id, request)
    _repo().put_connection(connection)
    settings = bootstrap.default_settings()
    open_channel(connection, bootstrap.channel_managers(settings))
    enqueue_sync(
        bootstrap.aws_client("sqs", settings),
        bootstrap.queue_url(settings),
        [SyncJob(connection_id=connection.id, reason="manual")],
    )
    return Response(body={"connection": connection.model_dump(mode="json")}, status_code=201)


def _answer_page(token: str, *, record: bool) -> Response:
    from chalicelib import answers

    settings = bootstrap.default_settings()
    if not settings.link_secret:
        return Response(
            body="Answer links are not enabled.", status_code=503, headers={"Content-Type": "text/plain"}
        )
    action = answers.record if record else answers.preview
    page = action(token, settings.link_secret.encode(), datetime.now(UTC), bootstrap.scan_deps(settings))
    return Response(
        body=page.html, status_code=page.status, headers={"Content-Type": "text/html; charset=utf-8"}
    )


@api_route(app, "/v1/answers/{token}", "GET", auth=Auth.LINK, summary="Preview a traveler's answer link")
def show_answer(token: str) -> Response:
    """The traveler opened a "work trip" / "holiday" link: show what it records (scanners only look)."""
    return _answer_page(token, record=False)


@api_route(
    app,
    "/v1/answers/{token}",
    "POST",
    auth=Auth.LINK,
    summary="Record a traveler's answer",
    content_types=("application/x-www-form-urlencoded", "application/json", "text/plain"),
)
def record_answer(token: str) -> Response:
    """The traveler pressed the button: store the answer and decide their trips again."""
    return _answer_page(token, record=True)


@api_route(app, "/v1/employees/{employee_id}/trips", "GET", scope=Scope.READ, summary="An employee's trips")
def list_employee_trips(employee_id: str) -> Response:
    return Response(
        body={"trips": [stored_trip_json(t) for t in _repo().trips_of(employee_id)]}, status_code=200
    )


def _on_bookings(employee_id: str, events: list[CalendarEvent], cancelled_uids: list[str]) -> None:
    from chalicelib.sync import accept_bookings

    accept_bookings(employee_id, events, cancelled_uids, bootstrap.scan_deps(bootstrap.default_settings()))


def _on_upload(connection_id: str, events: list[CalendarEvent]) -> None:
    from chalicelib.sync import accept_upload

    accept_upload(connection_id, events, bootstrap.scan_deps(bootstrap.default_settings()))


app.register_blueprint(bookings_routes.bp)
bookings_routes.configure(bookings_routes.BookingsDeps(on_bookings=_on_bookings))
app.register_blueprint(calendar_upload.bp)
app.register_blueprint(google_webhook.bp)
app.register_blueprint(graph_webhook.bp)
calendar_upload.configure(calendar_upload.UploadDeps(on_upload=_on_upload))
app.api.binary_types.extend(["message/rfc822", "text/calendar"])


@app.schedule(Rate(1, unit=Rate.HOURS))
def fan_out_syncs(event: CloudWatchEvent) -> dict[str, int]:
    """Queue one sync job per connection; unchanged calendars cost one provider request each."""
    settings = bootstrap.default_settings()
    jobs = [
        SyncJob(connection_id=c.id, reason="schedule")
        for c in _repo().all_connections()
        if c.source is not SourceKind.BOOKING  # bookings are pushed to us, never pulled
    ]
    sent = enqueue_sync(bootstrap.aws_client("sqs", settings), bootstrap.queue_url(settings), jobs)
    return {"connections": len(jobs), "queued": sent}


@app.schedule(Rate(6, unit=Rate.HOURS))
def renew_push_channels(event: CloudWatchEvent) -> dict[str, int]:
    """Renew Graph subscriptions and Google channels that expire within 36 hours."""
    settings = bootstrap.default_settings()
    report = renew_channels(_repo(), bootstrap.channel_managers(settings), datetime.now(UTC))
    return {"renewed": len(report.renewed), "failed": len(report.failed), "orphaned": len(report.orphaned)}


@app.schedule(Rate(10, unit=Rate.MINUTES))
def deliver_outbox(event: CloudWatchEvent) -> dict[str, int]:
    """Deliver messages whose sender crashed after claiming them, or whose retry time has come."""
    from chalicelib.alerts.outbox import flush_outbox

    settings = bootstrap.default_settings()
    report = flush_outbox(_repo(), bootstrap.notifier(settings), datetime.now(UTC))
    return {"delivered": report.delivered, "not_delivered": report.not_delivered}


@app.schedule(Rate(1, unit=Rate.DAYS))
def send_hr_digest(event: CloudWatchEvent) -> dict[str, bool]:
    """HR's daily digest of open cases; quiet days send nothing unless COVERWATCH_DIGEST_WHEN_QUIET."""
    from chalicelib.digest import send_digest

    settings = bootstrap.default_settings()
    return {"sent": send_digest(bootstrap.scan_deps(settings), send_when_quiet=settings.digest_when_quiet)}


@app.schedule(Rate(1, unit=Rate.DAYS))
def send_hr_reminders(event: CloudWatchEvent) -> dict[str, int]:
    """Reminders for open cases as apply-by and departure approach; escalation close to departure."""
    from chalicelib.reminders import send_reminders

    settings = bootstrap.default_settings()
    sent = send_reminders(
        bootstrap.scan_deps(settings),
        escalation_email=settings.escalation_email,
        points=settings.reminder_points,
        escalate_within_days=settings.escalate_within_days,
    )
    return {"sent": sent}


@app.schedule(Rate(1, unit=Rate.DAYS))
def send_traveler_checklists(event: CloudWatchEvent) -> dict[str, int]:
    """Each traveler's checklist, a week before departure, once per trip version."""
    from chalicelib.checklists import send_checklists

    settings = bootstrap.default_settings()
    secret = settings.link_secret.encode() if settings.link_secret else None
    sent = send_checklists(
        bootstrap.scan_deps(settings),
        now=datetime.now(UTC),
        answer_base_url=settings.public_base_url,
        secret=secret,
        days_ahead=settings.checklist_days,
    )
    return {"sent": sent}


@app.on_sqs_message(queue=SCAN_QUEUE, batch_size=10)
def scan_worker(event: SQSEvent) -> dict[str, Any]:
    """Scan one employee per message; failed messages are reported back so only they are retried."""
    from chalicelib.worker import process_messages

    settings = bootstrap.default_settings()
    messages = ((record.to_dict()["messageId"], record.body) for record in event)
    return process_messages(
        messages, bootstrap.scan_deps(settings), bootstrap.sources(settings)
    ).batch_item_failures()
