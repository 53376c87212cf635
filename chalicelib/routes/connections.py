"""``/v1/connections``: the calendars and feeds coverwatch reads for an employee.

Why: IT connects an Outlook mailbox, a Google calendar or an ICS feed once; coverwatch then reads it
incrementally (hourly, or when the provider pushes a change). Whoever connected it needs to see whether
that still works — when the calendar was last read and, if reading fails, why (a revoked consent, a
mailbox without a licence) — and to disconnect it again, which also stops the provider's push channel
and forgets the events read from it.

Connection ids may hold ``:``, ``/``, ``#`` or ``@`` (the model allows them); send them URL-encoded in
the path. The ids coverwatch makes (``graph-…``, ``google-…``, ``ics-…``) need no encoding.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib import bootstrap
from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import ConnectionCreated, ConnectionStatus
from chalicelib.channels import open_channel
from chalicelib.directory import ConnectionRequest, NewConnection, connection_for, remove_connection, shown
from chalicelib.jobs import SyncJob, enqueue_sync
from chalicelib.models import Connection
from chalicelib.problems import not_found_problem
from chalicelib.routes import directory_http as http
from chalicelib.store.repository import SyncFailure

CONNECTIONS_PATH = "/v1/connections"
CONNECTION_PATH = "/v1/connections/{connection_id}"
EMPLOYEE_CONNECTIONS_PATH = "/v1/employees/{employee_id}/connections"
_CREATED: dict[int, type[BaseModel] | str | None] = {
    201: ConnectionCreated,
    404: "No employee with this id; PUT it first.",
    422: "A source that cannot be connected (bookings are posted), or an account that does not fit it.",
}


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the connection routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        CONNECTIONS_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Connect a calendar of an employee",
        body=NewConnection,
        responses=_CREATED,
        tag="connections",
    )
    def create_connection() -> Response:
        """Connect an Outlook mailbox, a Google calendar or an ICS feed; its first sync is queued and a
        push channel opened when the provider is configured. Connecting the same calendar again answers
        the same connection (its id is derived from employee, account and calendar)."""
        request = http.request_of(blueprint)
        body = http.body_as(request, NewConnection)
        if isinstance(body, Response):
            return body
        return _connect(request, body.employee_id, body.request(), body.model_fields_set)

    @api_route(
        blueprint,
        EMPLOYEE_CONNECTIONS_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Connect a calendar",
        body=ConnectionRequest,
        responses=_CREATED,
        tag="connections",
    )
    def connect_calendar(employee_id: str) -> Response:
        """Connect an Outlook mailbox, a Google calendar or an ICS feed; its first sync is queued."""
        request = http.request_of(blueprint)
        body = http.body_as(request, ConnectionRequest)
        if isinstance(body, Response):
            return body
        return _connect(request, http.path_id(employee_id), body, body.model_fields_set)

    @api_route(
        blueprint,
        CONNECTION_PATH,
        "GET",
        scope=Scope.READ,
        summary="A connection, its last sync and its last error",
        responses={200: ConnectionStatus, 404: "No connection with this id."},
        tag="connections",
    )
    def get_connection(connection_id: str) -> Response:
        """The connection, when its calendar was last read (the window, and whether the next read
        continues from a cursor; the cursor itself is a credential and never shown) and the last
        failure to read it, if any."""
        connection = _connection(http.path_id(connection_id))
        if isinstance(connection, Response):
            return connection
        return http.reply(_status(connection))

    @api_route(
        blueprint,
        CONNECTION_PATH,
        "DELETE",
        scope=Scope.WRITE,
        summary="Disconnect a calendar",
        responses={204: None, 404: "No connection with this id."},
        tag="connections",
    )
    def delete_connection(connection_id: str) -> Response:
        """Stop the push channel, forget the connection, its sync state and the events read from it.

        The employee's trips stay as they are; a later sync of another of their calendars rebuilds
        them from the calendars still connected."""
        return _disconnect(http.request_of(blueprint), http.path_id(connection_id))

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(bp)``."""


def _connect(request: Request, employee_id: str, wanted: ConnectionRequest, sent: Iterable[str]) -> Response:
    if http.repo().get_employee(employee_id) is None:
        return http.problem_reply(
            not_found_problem("employee_id", f"no employee {employee_id!r}; PUT it first")
        )
    connection = connection_for(employee_id, wanted)
    http.repo().put_connection(connection)
    settings = http.settings()
    open_channel(connection, bootstrap.channel_managers(settings))
    enqueue_sync(
        bootstrap.aws_client("sqs", settings),
        bootstrap.queue_url(settings),
        [SyncJob(connection_id=connection.id, reason="manual")],
    )
    http.record(
        request, "connection.create", f"connection/{connection.id}", employee_id=employee_id, fields=sent
    )
    return http.reply(
        {"connection": shown(connection)},
        201,
        {"Location": http.location("connections", connection.id)},
    )


def _connection(connection_id: str) -> Connection | Response:
    connection = http.repo().get_connection(connection_id)
    if connection is None:
        detail = f"no connection {connection_id!r}"
        return http.problem_reply(not_found_problem("connection_id", detail))
    return connection


def _status(connection: Connection) -> dict[str, object]:
    state = http.repo().get_sync_state(connection.id)
    failure = http.repo().last_sync_failure(connection.id)
    last_sync = None
    if state is not None:
        last_sync = {
            "synced_at": state.synced_at.isoformat() if state.synced_at else None,
            "window_start": state.window_start.isoformat() if state.window_start else None,
            "window_end": state.window_end.isoformat() if state.window_end else None,
            "has_cursor": state.cursor is not None,
        }
    return {
        "connection": shown(connection),
        "last_sync": last_sync,
        "last_error": _failure(failure) if failure else None,
    }


def _failure(failure: SyncFailure) -> dict[str, object]:
    return {
        "at": failure.at.isoformat(),
        "reason": failure.reason,
        "permanent": failure.permanent,
        "retry_after": failure.retry_after,
    }


def _disconnect(request: Request, connection_id: str) -> Response:
    connection = _connection(connection_id)
    if isinstance(connection, Response):
        return connection
    remove_connection(connection, http.repo(), http.channel_stoppers(http.settings()))
    http.record(
        request, "connection.delete", f"connection/{connection.id}", employee_id=connection.employee_id
    )
    return Response(body="", status_code=204)
