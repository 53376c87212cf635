"""Every HTTP operation is declared once, here-through ``api_route``: path, method, who may call it
(scope), what it takes and what it answers. The guard enforces the scope and the body limit from the
same record the OpenAPI document is generated from, so documentation and enforcement cannot drift.

Each protected route is also mounted under ``/iam`` with API Gateway's IAM authorizer, for AWS-internal
callers that sign requests with SigV4 instead of holding an API key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from chalice import Blueprint, Chalice, IAMAuthorizer
from chalice.app import Request
from pydantic import BaseModel

from chalicelib.api.records import Scope

IAM_PREFIX = "/iam"
JSON_LIMIT = 256 * 1024
"""Largest JSON body accepted (413 above it); uploads declare their own limit."""


class Auth(StrEnum):
    KEY = "key"
    """An API key (or IAM under /iam) with the operation's scope."""
    PUBLIC = "public"
    """No credentials: only the health check and the API's own description."""
    WEBHOOK = "webhook"
    """The provider's own validation (Graph clientState, Google channel token)."""
    LINK = "link"
    """A signed, expiring traveler link carried in the path."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    auth: Auth
    scope: Scope | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, type[BaseModel] | str | None] = field(default_factory=dict)
    """Status -> response model, a description (non-JSON answers) or None (no body)."""
    content_types: tuple[str, ...] = ("application/json",)
    max_body: int = JSON_LIMIT
    tag: str = "coverwatch"
    description: str = ""


REGISTRY: dict[tuple[str, str], Operation] = {}
"""(method, path) -> operation, filled as route modules are imported."""

F = TypeVar("F", bound=Callable[..., Any])
_IAM = IAMAuthorizer()


def api_route(
    router: Chalice | Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    auth: Auth = Auth.KEY,
    scope: Scope | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: Mapping[int, type[BaseModel] | str | None] | None = None,
    content_types: tuple[str, ...] = ("application/json",),
    max_body: int = JSON_LIMIT,
    tag: str = "coverwatch",
) -> Callable[[F], F]:
    """Register ``path`` on ``router`` (and under /iam for key-authenticated routes) and record it."""
    if (auth is Auth.KEY) != (scope is not None):
        raise ValueError(f"{method} {path}: key-authenticated routes need a scope, others none")

    def register(view: F) -> F:
        doc = (view.__doc__ or "").strip()
        REGISTRY[(method, path)] = Operation(
            method=method,
            path=path,
            name=view.__name__,
            summary=summary,
            auth=auth,
            scope=scope,
            body=body,
            query=query,
            responses=dict(responses or {}),
            content_types=content_types,
            max_body=max_body,
            tag=tag,
            description=doc,
        )
        # Chalice checks Content-Type on every method; a GET or DELETE has no body to type.
        kwargs: dict[str, Any] = {
            "methods": [method],
            "content_types": list(content_types) if method in ("POST", "PUT", "PATCH") else ["*/*"],
        }
        router.route(path, **kwargs)(view)
        if auth is Auth.KEY:
            router.route(IAM_PREFIX + path, authorizer=_IAM, name=f"{view.__name__}_iam", **kwargs)(view)
        return view

    return register


def current_request(router: Chalice | Blueprint) -> Request:
    """The request being answered (Chalice sets it for every route call)."""
    request = router.current_request
    assert request is not None, "Chalice sets current_request for every route call"
    return request


def operation_for(method: str, resource_path: str) -> Operation | None:
    """The operation a request was routed to (``resource_path`` as API Gateway reports it)."""
    return REGISTRY.get((method, resource_path.removeprefix(IAM_PREFIX)))
