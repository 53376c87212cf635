"""Webhook route for Google Calendar push notifications (``events.watch`` channels).

Why this shape: a Google notification has no body, only ``X-Goog-*`` headers saying "something in
this calendar changed". The route does no syncing: it checks the channel id and the channel's secret
token (stored as a SHA-256 digest) and puts one SyncJob(reason="notification") on the scan queue; the
worker then runs the incremental sync. So the answer is immediate.

Answers: ``sync`` (sent once when a channel opens) → 200, nothing queued. An unknown channel id (for
example a late message from a stopped channel) or a wrong token → logged and ignored with 204, because
an error status would only make Google retry. A failure to enqueue → 503, so that Google delivers
again. Headers missing or malformed → 400 ``application/problem+json`` naming the header.

Dependencies are injected with ``configure(GoogleWebhookDeps(...))``; without it the repository and
the queue come from chalicelib.bootstrap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.api.operations import Auth, api_route
from chalicelib.connectors.channel_secrets import token_matches
from chalicelib.jobs import SyncJob, enqueue_sync
from chalicelib.models import Channel, SourceKind
from chalicelib.problems import PROBLEM_CONTENT_TYPE, validation_problem

NOTIFICATION_PATH = "/v1/webhooks/google"
log = logging.getLogger(__name__)


class ChannelLookup(Protocol):
    def get_channel(self, channel_id: str) -> Channel | None: ...


@dataclass(frozen=True)
class GoogleWebhookDeps:
    store: ChannelLookup
    sqs: Any
    queue_url: str


_deps: GoogleWebhookDeps | None = None


def configure(deps: GoogleWebhookDeps | None) -> None:
    """Set (or with None, reset) the dependencies the route uses."""
    global _deps  # noqa: PLW0603 - one per process, set by app.py or a test
    _deps = deps


def _current() -> GoogleWebhookDeps:
    global _deps  # noqa: PLW0603
    if _deps is None:
        from chalicelib import bootstrap

        settings = bootstrap.default_settings()
        sqs = bootstrap.aws_client("sqs", settings)
        queue_url = bootstrap.queue_url(settings)
        _deps = GoogleWebhookDeps(bootstrap.repository(settings), sqs, queue_url)
    return _deps


class GoogleNotification(BaseModel):
    """The headers of one push notification (lower-cased names, as HTTP treats them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    channel_id: str = Field(alias="x-goog-channel-id", min_length=1, max_length=256)
    token: str | None = Field(default=None, alias="x-goog-channel-token", max_length=256)
    state: Literal["sync", "exists", "not_exists"] = Field(alias="x-goog-resource-state")
    resource_id: str | None = Field(default=None, alias="x-goog-resource-id", max_length=512)
    message_number: int | None = Field(default=None, alias="x-goog-message-number", ge=0)


def _ignored(why: str, notification: GoogleNotification) -> Response:
    log.warning("Google notification on channel %r ignored: %s", notification.channel_id, why)
    return Response(body="", status_code=204)


def handle_notification(raw_headers: Mapping[str, str]) -> Response:
    """Answer one push notification given its HTTP headers (any case)."""
    headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
    try:
        notification = GoogleNotification.model_validate(headers)
    except ValidationError as exc:
        return Response(
            body=json.dumps(validation_problem(exc)),
            status_code=400,
            headers={"Content-Type": PROBLEM_CONTENT_TYPE},
        )
    if notification.state == "sync":
        return Response(body="", status_code=200)
    deps = _current()
    channel = deps.store.get_channel(notification.channel_id)
    if channel is None or channel.source != SourceKind.GOOGLE:
        return _ignored("unknown channel", notification)
    if not token_matches(channel, notification.token):
        return _ignored("wrong channel token", notification)
    if channel.resource_id and notification.resource_id and notification.resource_id != channel.resource_id:
        return _ignored("resource id does not match the channel", notification)
    job = SyncJob(connection_id=channel.connection_id, reason="notification")
    try:
        queued = enqueue_sync(deps.sqs, deps.queue_url, [job])
    except Exception:
        log.exception("cannot queue a sync for %s; Google will deliver again", channel.connection_id)
        queued = 0
    if queued != 1:
        return Response(body="", status_code=503)
    return Response(body="", status_code=200)


def make_blueprint() -> Blueprint:
    """A blueprint with the notification route. Chalice consumes a blueprint's route options when it
    is registered, so each app (app.py, a test's throwaway app) needs its own."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        NOTIFICATION_PATH,
        "POST",
        auth=Auth.WEBHOOK,
        summary="Google Calendar push notifications",
        content_types=("application/json", "text/plain"),
        tag="webhooks",
        responses={
            200: None,
            204: None,
            400: "An `X-Goog-Channel-Id` or `X-Goog-Resource-State` header is missing or malformed.",
            503: None,
        },
    )
    def google_notification() -> Response:
        """Queue a sync for a verified channel (headers only); unknown channels or tokens get 204."""
        return handle_notification(blueprint.current_request.headers or {})

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers (once)."""
