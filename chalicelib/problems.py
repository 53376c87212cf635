"""RFC 9457 problem details for API errors, naming every bad field the way the caller sent it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

PROBLEM_CONTENT_TYPE = "application/problem+json"


SEMANTIC_ERRORS = frozenset({"value_error", "assertion_error"})
"""Pydantic error types raised by our own validators (dates out of order, unknown country…): the request
is well-formed but cannot be right, which is 422; a wrong shape (missing or unknown field, wrong type,
out-of-range length) is 400."""


def validation_problem(exc: ValidationError) -> dict[str, Any]:
    errors = []
    semantic = True
    for err in exc.errors(include_url=False):
        semantic = semantic and err["type"] in SEMANTIC_ERRORS
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        errors.append({"field": field, "message": message})
    names = ", ".join(e["field"] for e in errors)
    return {
        "type": "urn:coverwatch:problem:validation",
        "title": "The request is not valid",
        "status": 422 if semantic and errors else 400,
        "detail": f"Invalid field(s): {names}",
        "errors": errors,
    }


def body_problem(detail: str) -> dict[str, Any]:
    return {
        "type": "urn:coverwatch:problem:malformed-body",
        "title": "The request body is not a JSON object",
        "status": 400,
        "detail": detail,
        "errors": [{"field": "(body)", "message": detail}],
    }


def not_found_problem(field: str, detail: str) -> dict[str, Any]:
    return {
        "type": "urn:coverwatch:problem:not-found",
        "title": "A record the request refers to does not exist",
        "status": 404,
        "detail": detail,
        "errors": [{"field": field, "message": detail}],
    }


def problem(status: int, kind: str, title: str, detail: str, field: str | None = None) -> dict[str, Any]:
    """A problem of any status; ``field`` names the part of the request at fault (a header, the body…)."""
    body: dict[str, Any] = {
        "type": f"urn:coverwatch:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["errors"] = [{"field": field, "message": detail}]
    return body


def unauthorized_problem(detail: str) -> dict[str, Any]:
    return problem(401, "unauthorized", "Credentials are missing or not valid", detail, "Authorization")


def forbidden_problem(detail: str) -> dict[str, Any]:
    return problem(403, "forbidden", "These credentials may not do this", detail, "Authorization")


def too_large_problem(size: int, limit: int) -> dict[str, Any]:
    return problem(
        413,
        "too-large",
        "The request body is too large",
        f"{size} bytes sent; the limit is {limit}",
        "(body)",
    )


def unsupported_media_problem(sent: str, accepted: list[str]) -> dict[str, Any]:
    detail = f"Content-Type {sent or '(none)'} is not accepted here; send one of: {', '.join(accepted)}"
    return problem(
        415, "unsupported-media-type", "The body's media type is not accepted", detail, "Content-Type"
    )


def rate_limited_problem(retry_after: int) -> dict[str, Any]:
    return problem(
        429, "rate-limited", "Too many requests", f"slow down; retry after {retry_after} s", "Authorization"
    )


def precondition_problem(detail: str) -> dict[str, Any]:
    return problem(412, "precondition-failed", "The record changed since you read it", detail, "If-Match")


def conflict_problem(field: str, detail: str) -> dict[str, Any]:
    return problem(409, "conflict", "The request conflicts with the stored record", detail, field)
