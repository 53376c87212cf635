"""HTTP API and queue handlers: parse, call one use case, shape the reply. No logic lives here."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, TypeVar

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap
from chalicelib.api import audit
from chalicelib.api.guard import Guard
from chalicelib.api.operations import Auth, api_route, current_request
from chalicelib.api.records import AuditEntry, Scope
from chalicelib.api.views import (
    CertificateBody,
    CertificateWritten,
    Health,
    JourneyAnswer,
    StoredTrips,
    html,
    plain_text,
)
from chalicelib.channels import renew_channels
from chalicelib.checks import (
    CheckAnswerer,
    CheckBody,
    CheckRefusal,
    JourneyRequest,
    check_response,
    run_journey,
)
from chalicelib.jobs import fan_out
from chalicelib.models import Assessment, CalendarEvent, Certificate, Employee
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, not_found_problem, validation_problem
from chalicelib.queries import OpenCasesQuery, stored_trip_json
from chalicelib.routes import admin as admin_routes
from chalicelib.routes import bookings as bookings_routes
from chalicelib.routes import calendar_upload, google_webhook, graph_webhook
from chalicelib.routes import certificates as certificates_routes
from chalicelib.routes import checks_batch as checks_batch_routes
from chalicelib.routes import connections as connections_routes
from chalicelib.routes import employees as employees_routes
from chalicelib.routes import meta as meta_routes
from chalicelib.routes import trips as trips_routes
from chalicelib.store.repository import Repository

if TYPE_CHECKING:
    from chalicelib.scan import ScanReport

app = Chalice(app_name="coverwatch")
# Chalice sets its "coverwatch" logger (parent of coverwatch.api, .worker, .channels) to ERROR outside
# debug mode; our lines carry ids and counts only, so operators get them at the configured level.
app.log.setLevel(bootstrap.default_settings().log_level)
logging.getLogger("chalicelib").setLevel(bootstrap.default_settings().log_level)
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


@api_route(
    app, "/v1/health", "GET", auth=Auth.PUBLIC, summary="Is the API up?", responses={200: Health}, tag="meta"
)
def health() -> Response:
    """Answers without credentials and without touching the store, for load balancers and uptime checks."""
    return Response(body={"status": "ok"}, status_code=200)


def _request() -> Request:
    return current_request(app)


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


@api_route(
    app,
    "/v1/checks",
    "POST",
    scope=Scope.CHECK,
    summary="Does this trip need a certificate?",
    body=CheckBody,
    responses={200: Assessment, 404: "No employee with the body's `employee_id`."},
    tag="checks",
)
def create_check() -> Response:
    """With `employee_id`, the stored profile fills the fields left out and the certificates count."""
    request = _body_as(CheckBody)
    if isinstance(request, Response):
        return request
    answer = CheckAnswerer(_repo(), bootstrap.default_settings().decision_date()).answer(request)
    if isinstance(answer, CheckRefusal):
        return _problem(answer.problem())
    return Response(body=check_response(answer), status_code=200)


@api_route(
    app,
    "/v1/journeys",
    "POST",
    scope=Scope.CHECK,
    summary="One decision per country of a journey",
    body=JourneyRequest,
    responses={200: JourneyAnswer},
    tag="checks",
)
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


@api_route(
    app,
    "/v1/open-cases",
    "GET",
    scope=Scope.READ,
    summary="Trips lacking a certificate",
    query=OpenCasesQuery,
    responses={200: StoredTrips},
    tag="trips",
)
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
    app,
    "/v1/certificates/{certificate_id}",
    "PUT",
    scope=Scope.WRITE,
    summary="Record a certificate",
    body=CertificateBody,
    responses={200: CertificateWritten, 404: "No employee has the certificate's `employee_id`."},
    tag="certificates",
)
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
    before = next((c for c in _repo().certificates_of(employee.id) if c.id == certificate_id), None)
    _repo().put_certificate(certificate)
    audit.record(
        _repo(),
        _request(),
        "certificate.update" if before else "certificate.create",
        f"certificate/{certificate_id}",
        employee_id=employee.id,
        fields=body.model_dump(),
    )
    report = _reassess(employee)
    trips = [
        {"trip_id": r.trip.id, "country": r.trip.country, "status": r.assessment.status.value}
        for r in report.results
    ]
    return Response(
        body={"certificate": certificate.model_dump(mode="json"), "trips": trips}, status_code=200
    )


def _answer_page(token: str, *, record: bool) -> Response:
    from chalicelib import answers

    settings = bootstrap.default_settings()
    key = bootstrap.link_key(settings)
    if key is None:
        return Response(
            body="Answer links are not enabled.", status_code=503, headers={"Content-Type": "text/plain"}
        )
    action = answers.record if record else answers.preview
    now = datetime.now(UTC)
    page = action(token, key, now, bootstrap.scan_deps(settings))
    if page.recorded is not None:  # the traveler is the author of this write, not the link route
        _repo().append_audit(
            AuditEntry(
                at=now,
                actor=f"traveler:{page.recorded.employee_id}",
                action="trip.answer",
                resource=f"trip/{page.recorded.trip_id}",
                employee_id=page.recorded.employee_id,
                fields=("purpose",),
                request_id=_request().context.get("requestId"),
            )
        )
    return Response(
        body=page.html, status_code=page.status, headers={"Content-Type": "text/html; charset=utf-8"}
    )


_ANSWER_PAGES = {
    200: html("A page saying what the link records (GET), or that it was recorded (POST)."),
    400: html("A page saying the link was changed or cannot be read."),
    404: html("A page saying the trip is no longer planned."),
    410: html("A page saying the link has expired."),
    503: plain_text("Answer links are not enabled on this deployment."),
}


@api_route(
    app,
    "/v1/answers/{token}",
    "GET",
    auth=Auth.LINK,
    summary="Preview a traveler's answer link",
    responses=_ANSWER_PAGES,
    tag="travelers",
)
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
    responses=_ANSWER_PAGES,
    tag="travelers",
)
def record_answer(token: str) -> Response:
    """The traveler pressed the button: store the answer and decide their trips again."""
    return _answer_page(token, record=True)


@api_route(
    app,
    "/v1/employees/{employee_id}/trips",
    "GET",
    scope=Scope.READ,
    summary="An employee's trips",
    responses={200: StoredTrips},
    tag="trips",
)
def list_employee_trips(employee_id: str) -> Response:
    """Every stored trip of one employee, in date order (none for an employee coverwatch does not know)."""
    return Response(
        body={"trips": [stored_trip_json(t) for t in _repo().trips_of(employee_id)]}, status_code=200
    )


def _on_bookings(employee_id: str, events: list[CalendarEvent], cancelled_uids: list[str]) -> None:
    from chalicelib.sync import accept_bookings

    accept_bookings(employee_id, events, cancelled_uids, bootstrap.scan_deps(bootstrap.default_settings()))
    fields = ["events", "cancelled"] if cancelled_uids else ["events"]
    audit.record(
        _repo(),
        _request(),
        "booking.accept",
        f"employee/{employee_id}",
        employee_id=employee_id,
        fields=fields,
    )


def _on_upload(connection_id: str, events: list[CalendarEvent]) -> None:
    from chalicelib.sync import accept_upload

    accept_upload(connection_id, events, bootstrap.scan_deps(bootstrap.default_settings()))
    connection = _repo().get_connection(connection_id)
    owner = connection.employee_id if connection else None
    audit.record(
        _repo(),
        _request(),
        "calendar.upload",
        f"connection/{connection_id}",
        employee_id=owner,
        fields=["events"],
    )


app.register_blueprint(bookings_routes.bp)
bookings_routes.configure(bookings_routes.BookingsDeps(on_bookings=_on_bookings))
app.register_blueprint(calendar_upload.bp)
app.register_blueprint(google_webhook.bp)
app.register_blueprint(graph_webhook.bp)
app.register_blueprint(employees_routes.bp)
app.register_blueprint(certificates_routes.bp)
app.register_blueprint(connections_routes.bp)
app.register_blueprint(checks_batch_routes.bp)
app.register_blueprint(meta_routes.make_blueprint())
app.register_blueprint(trips_routes.bp)
app.register_blueprint(admin_routes.bp)
calendar_upload.configure(calendar_upload.UploadDeps(on_upload=_on_upload))
app.api.binary_types.extend(["message/rfc822", "text/calendar"])


@app.schedule(Rate(1, unit=Rate.HOURS))
def fan_out_syncs(event: CloudWatchEvent) -> dict[str, int]:
    """Queue one sync job per pulled connection (held back while its provider asks us to wait)."""
    settings = bootstrap.default_settings()
    sqs = bootstrap.aws_client("sqs", settings)
    report = fan_out(_repo(), sqs, bootstrap.queue_url(settings), datetime.now(UTC))
    return {"connections": report.connections, "queued": report.queued}


@app.schedule(Rate(6, unit=Rate.HOURS))
def renew_push_channels(event: CloudWatchEvent) -> dict[str, int]:
    """Renew Graph subscriptions and Google channels that expire within 36 hours."""
    settings = bootstrap.default_settings()
    report = renew_channels(_repo(), bootstrap.channel_managers(settings), datetime.now(UTC))
    return {
        "renewed": len(report.renewed),
        "failed": len(report.failed),
        "orphaned": len(report.orphaned),
        "opened": len(report.opened),
    }


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
    secret = bootstrap.link_key(settings)
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
    """Sync one connection per message; SQS hears what became of each (see chalicelib/worker.py)."""
    from chalicelib.worker import QueueMessage, process_messages, settle, sync_control

    settings = bootstrap.default_settings()
    messages = [QueueMessage.from_record(record.to_dict()) for record in event]
    deps, sources = bootstrap.scan_deps(settings), bootstrap.sources(settings)
    result = process_messages(((m.id, m.body) for m in messages), deps, sources, sync_control(event.context))
    dead_letters = partial(bootstrap.dead_letter_queue_url, settings)
    sqs = bootstrap.aws_client("sqs", settings)
    return settle(sqs, bootstrap.queue_url(settings), dead_letters, messages, result)
