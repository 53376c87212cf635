"""What the directory routes (employees, certificates, connections, batch checks) share: reading a
request, answering with a problem, the store, the audit call and the decisions that follow a write.

Kept out of app.py so the route modules stay Blueprints that app.py registers with one line each, and
in one place so the four modules answer malformed bodies, unknown ids and encoded paths the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap
from chalicelib.api import audit
from chalicelib.api.operations import current_request
from chalicelib.bootstrap import Settings
from chalicelib.models import Connection, Employee, SourceKind, Status
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, validation_problem
from chalicelib.store.repository import Repository

if TYPE_CHECKING:
    from chalicelib.directory import ChannelStopper
    from chalicelib.models import Channel
    from chalicelib.scan import ScanDeps, ScanReport

M = TypeVar("M", bound=BaseModel)
_store: tuple[Settings, Repository] | None = None


def settings() -> Settings:
    return bootstrap.default_settings()


def repo() -> Repository:
    """The store for the process's settings, built once (a boto3 client costs tens of milliseconds)."""
    global _store  # noqa: PLW0603 - one per process; rebuilt when the settings object changes (tests)
    current = settings()
    if _store is None or _store[0] is not current:
        _store = (current, bootstrap.repository(current))
    return _store[1]


def request_of(blueprint: Blueprint) -> Request:
    return current_request(blueprint)


def path_id(raw: str) -> str:
    """A path parameter as the caller meant it: ids may hold ``:``, ``/``, ``#`` or ``@``, sent encoded
    (``%2F``…). Ids never contain ``%`` themselves, so decoding a value that arrives decoded is harmless."""
    return unquote(raw)


def location(*segments: str) -> str:
    """``/v1/<segment>/…`` with each segment encoded, so an id with ``/`` or ``#`` stays one segment."""
    return "/v1/" + "/".join(quote(s, safe="") for s in segments)


def raw_body(request: Request) -> bytes:
    raw: Any = request.raw_body
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return bytes(raw or b"")


def reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def problem_reply(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )


def validated(model: type[M], data: object) -> M | Response:
    """``data`` as ``model``, or a 400/422 problem naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return problem_reply(validation_problem(exc))


def json_object(request: Request) -> dict[str, Any] | Response:
    """The body as a JSON object, or a 400 problem on ``(body)``."""
    try:
        body = json.loads(raw_body(request))
    except (ValueError, UnicodeDecodeError) as exc:
        return problem_reply(body_problem(f"body is not valid JSON: {exc}"))
    if not isinstance(body, dict):
        return problem_reply(body_problem("body must be a JSON object"))
    return body


def body_as(request: Request, model: type[M]) -> M | Response:
    body = json_object(request)
    return body if isinstance(body, Response) else validated(model, body)


def record(
    request: Request, action: str, resource: str, *, employee_id: str | None, fields: Iterable[str] = ()
) -> None:
    """The audit entry every write leaves: who, what, which fields — ids and names only."""
    audit.record(repo(), request, action, resource, employee_id=employee_id, fields=fields)


def scan_deps() -> ScanDeps:
    return bootstrap.scan_deps(settings())


def reassess(employee: Employee, deps: ScanDeps | None = None) -> ScanReport:
    """Decide the employee's stored trips again (detection and alerts load only for these writes)."""
    from chalicelib.scan import reassess_employee

    return reassess_employee(employee, deps or scan_deps())


def reassess_changes(employee: Employee) -> list[dict[str, Any]]:
    """Decide the employee's trips again; the ones whose status moved, with the status before."""
    before: dict[str, Status] = {s.trip.id: s.assessment.status for s in repo().trips_of(employee.id)}
    report = reassess(employee)
    return [
        {
            "trip_id": r.trip.id,
            "country": r.trip.country,
            "start": r.trip.start.isoformat(),
            "status_before": before[r.trip.id].value,
            "status": r.assessment.status.value,
        }
        for r in report.results
        if r.trip.id in before and before[r.trip.id] is not r.assessment.status
    ]


def channel_stoppers(config: Settings) -> dict[SourceKind, ChannelStopper]:
    """Who can stop a push channel at its provider: the configured Graph and Google apps, built lazily."""
    stoppers: dict[SourceKind, ChannelStopper] = {}
    graph = bootstrap.graph_subscriptions(config)
    if graph is not None:
        build = graph

        class _Graph:
            def stop(self, channel: Channel, connection: Connection) -> None:
                build().delete(channel)

        stoppers[SourceKind.GRAPH] = _Graph()
    if config.google_secret_id and config.google_webhook_url:
        secret_id: str = config.google_secret_id
        address: str = config.google_webhook_url

        class _Google:
            def stop(self, channel: Channel, connection: Connection) -> None:
                from chalicelib.connectors.google_auth import GoogleServices
                from chalicelib.connectors.google_watch import GoogleChannels

                secrets = bootstrap.aws_client("secretsmanager", config)
                services = GoogleServices.from_secret(secrets, secret_id)
                GoogleChannels(services, repo(), address).stop(channel, connection)

        stoppers[SourceKind.GOOGLE] = _Google()
    return stoppers
