"""RFC 9457 problem details for API errors, naming every bad field the way the caller sent it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def validation_problem(exc: ValidationError) -> dict[str, Any]:
    errors = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        errors.append({"field": field, "message": message})
    names = ", ".join(e["field"] for e in errors)
    return {
        "type": "urn:coverwatch:problem:validation",
        "title": "The request is not valid",
        "status": 400,
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
