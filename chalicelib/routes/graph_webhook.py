"""Webhook routes for Microsoft Graph change and lifecycle notifications.

Why this shape: Graph wants an answer within 3 seconds and retries (for hours) on a 5xx, so the
notification route does no syncing at all. It checks each notification's ``clientState`` against the
SHA-256 digest stored on the subscription's Channel and puts one SyncJob per distinct connection on
the scan queue; the worker then runs the delta sync. A failure to enqueue answers 503 so that Graph
delivers again. Notifications for unknown subscriptions or with a wrong clientState are logged and
ignored with 202 (answering an error would only make Graph retry them).

Both routes first answer Graph's validation handshake: a POST with ``?validationToken=...`` is echoed
as ``text/plain`` with 200. The lifecycle route renews a subscription that needs reauthorization,
recreates a removed one and queues a re-sync for it and for missed notifications.

Dependencies are injected with ``configure(GraphWebhookDeps(...))``; without it the repository and
the queue come from chalicelib.bootstrap and lifecycle renewals are left to the renewal schedule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.api.operations import Auth, api_route
from chalicelib.api.views import GraphValidationQuery, plain_text
from chalicelib.connectors.base import ConnectorError
from chalicelib.connectors.channel_secrets import token_matches
from chalicelib.jobs import SyncJob, SyncReason, enqueue_sync
from chalicelib.models import Channel, Connection, SourceKind
from chalicelib.problems import PROBLEM_CONTENT_TYPE, body_problem, validation_problem

if TYPE_CHECKING:  # msal and requests stay out of the API function's cold start
    from chalicelib.connectors.graph_subscriptions import GraphSubscriptions

NOTIFICATION_PATH = "/v1/webhooks/graph"
LIFECYCLE_PATH = "/v1/webhooks/graph/lifecycle"
_CONTENT_TYPES = ["application/json", "text/plain"]
log = logging.getLogger(__name__)


class WebhookStore(Protocol):
    def get_channel(self, channel_id: str) -> Channel | None: ...
    def get_connection(self, connection_id: str) -> Connection | None: ...


@dataclass(frozen=True)
class GraphWebhookDeps:
    store: WebhookStore
    sqs: Any
    queue_url: str
    subscriptions: Callable[[], GraphSubscriptions] | None = None
    """Builds the subscription manager (msal, secret) only when a lifecycle event needs it."""


_deps: GraphWebhookDeps | None = None


def configure(deps: GraphWebhookDeps | None) -> None:
    """Set (or with None, reset) the dependencies the routes use."""
    global _deps  # noqa: PLW0603 - one per process, set by app.py or a test
    _deps = deps


def _current() -> GraphWebhookDeps:
    global _deps  # noqa: PLW0603
    if _deps is None:
        from chalicelib import bootstrap

        settings = bootstrap.default_settings()
        sqs = bootstrap.aws_client("sqs", settings)
        queue_url = bootstrap.queue_url(settings)
        _deps = GraphWebhookDeps(
            bootstrap.repository(settings),
            sqs,
            queue_url,
            subscriptions=bootstrap.graph_subscriptions(settings),
        )
    return _deps


class ValidationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    validation_token: str = Field(alias="validationToken", min_length=1, max_length=4096)


class Notification(BaseModel):
    """One entry of Graph's ``value`` array; Graph's other fields are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    subscription_id: str = Field(alias="subscriptionId", min_length=1, max_length=256)
    client_state: str | None = Field(default=None, alias="clientState", max_length=255)
    change_type: str | None = Field(default=None, alias="changeType", max_length=64)
    lifecycle_event: str | None = Field(default=None, alias="lifecycleEvent", max_length=64)


class NotificationBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: list[Notification] = Field(min_length=1, max_length=1000)


_GRAPH_ANSWERS: dict[int, type[BaseModel] | str | None] = {
    200: plain_text("The `validationToken`, echoed (Graph's subscription handshake)."),
    202: None,
    503: "The sync could not be queued; Graph delivers the notification again.",
}


def make_blueprint() -> Blueprint:
    """A fresh Blueprint with both routes.

    Chalice consumes a Blueprint's route options when it is registered, so one Blueprint object
    must be registered on one app only; tests build their own with this function.
    """
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        NOTIFICATION_PATH,
        "POST",
        auth=Auth.WEBHOOK,
        summary="Microsoft Graph change notifications",
        content_types=tuple(_CONTENT_TYPES),
        tag="webhooks",
        body=NotificationBatch,
        query=GraphValidationQuery,
        responses=_GRAPH_ANSWERS,
    )
    def graph_notifications() -> Response:
        """Queue a sync per verified notification; Graph's validation handshake is echoed."""
        return _handle(blueprint.current_request, lifecycle_route=False)

    @api_route(
        blueprint,
        LIFECYCLE_PATH,
        "POST",
        auth=Auth.WEBHOOK,
        summary="Microsoft Graph lifecycle notifications",
        content_types=tuple(_CONTENT_TYPES),
        tag="webhooks",
        body=NotificationBatch,
        query=GraphValidationQuery,
        responses=_GRAPH_ANSWERS,
    )
    def graph_lifecycle() -> Response:
        """Renew, recreate or resync a subscription as Graph's lifecycle events ask."""
        return _handle(blueprint.current_request, lifecycle_route=True)

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers (once)."""


def _handle(request: Request | None, *, lifecycle_route: bool) -> Response:
    assert request is not None, "Chalice sets current_request for every route call"
    query: dict[str, str] = dict(request.query_params or {})
    if "validationToken" in query:
        try:
            token = ValidationRequest.model_validate(query).validation_token
        except ValidationError as exc:
            return _problem(validation_problem(exc))
        return Response(body=token, status_code=200, headers={"Content-Type": "text/plain"})
    batch = _parse(request.raw_body or b"")
    if isinstance(batch, Response):
        return batch
    deps = _current()
    jobs: dict[str, SyncReason] = {}
    seen: set[str] = set()
    for note in batch.value:
        channel = _verified_channel(deps, note)
        if channel is None:
            continue
        if note.lifecycle_event or lifecycle_route:
            key = f"{channel.id}#{note.lifecycle_event}"
            if key not in seen:
                seen.add(key)
                _lifecycle(deps, channel, note.lifecycle_event, jobs)
        else:
            jobs.setdefault(channel.connection_id, "notification")
    if jobs:
        queued = [SyncJob(connection_id=c, reason=r) for c, r in sorted(jobs.items())]
        try:
            sent = enqueue_sync(deps.sqs, deps.queue_url, queued)
        except Exception as exc:
            log.error("graph webhook: could not queue %d sync job(s): %s", len(queued), type(exc).__name__)
            sent = -1
        if sent != len(queued):  # Graph retries on 5xx: the notification is not lost
            return _problem(
                {
                    "type": "urn:coverwatch:problem:queue-unavailable",
                    "title": "The sync could not be queued",
                    "status": 503,
                    "detail": "try again later",
                }
            )
    return Response(body="", status_code=202, headers={"Content-Type": "text/plain"})


def _parse(raw: bytes | str) -> NotificationBatch | Response:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _problem(body_problem(f"body is not valid JSON and no validationToken was given: {exc}"))
    if not isinstance(body, dict):
        return _problem(body_problem("body must be a JSON object"))
    try:
        return NotificationBatch.model_validate(body)
    except ValidationError as exc:
        return _problem(validation_problem(exc))


def _verified_channel(deps: GraphWebhookDeps, note: Notification) -> Channel | None:
    channel = deps.store.get_channel(note.subscription_id)
    if channel is None or channel.source != SourceKind.GRAPH:
        log.warning("graph webhook: ignored notification for unknown subscription %s", note.subscription_id)
        return None
    if not token_matches(channel, note.client_state):
        log.warning("graph webhook: ignored notification with wrong clientState for %s", note.subscription_id)
        return None
    return channel


def _lifecycle(
    deps: GraphWebhookDeps, channel: Channel, event: str | None, jobs: dict[str, SyncReason]
) -> None:
    if event == "missed":
        jobs[channel.connection_id] = "resync"
        return
    if event not in ("reauthorizationRequired", "subscriptionRemoved"):
        log.warning("graph webhook: ignored lifecycle event %r for %s", event, channel.id)
        return
    if event == "subscriptionRemoved":
        jobs[channel.connection_id] = "resync"
    connection = deps.store.get_connection(channel.connection_id)
    if connection is None or deps.subscriptions is None:
        log.error("graph webhook: cannot act on %s for %s (connection or setup missing)", event, channel.id)
        return
    try:
        subscriptions = deps.subscriptions()
        if event == "reauthorizationRequired":
            subscriptions.renew(channel, connection)
        else:
            subscriptions.recreate(channel, connection)
    except ConnectorError as exc:  # answered 202 anyway; the renewal schedule tries again
        log.error("graph webhook: %s for %s failed: %s", event, channel.id, exc.reason)


def _problem(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body), status_code=body["status"], headers={"Content-Type": PROBLEM_CONTENT_TYPE}
    )
