"""The OpenAPI 3.1 document, generated from the operations every route declares (``api_route``).

Why generated: the guard enforces scopes and body limits from the same ``Operation`` records, and the
models that validate requests and shape answers produce the schemas, so the document cannot drift from
what the API does; schemathesis then checks every real answer against it. ``make openapi`` writes the
committed copy (docs/openapi.json); a test fails when it differs from what the app serves.

Run ``python -m chalicelib.api.openapi`` to print the document.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from chalicelib.api.operations import IAM_PREFIX, JSON_LIMIT, REGISTRY, Auth, Operation
from chalicelib.api.views import Described, Problem
from chalicelib.problems import PROBLEM_CONTENT_TYPE

OPENAPI_VERSION = "3.1.0"
TITLE = "coverwatch API"
REF = "#/components/schemas/{model}"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
METHOD_ORDER = ("GET", "PUT", "POST", "PATCH", "DELETE")
KEY_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"apiKeyHeader": []}]
_PATH_PARAMETER = re.compile(r"{([^}]+)}")

STANDARD_PROBLEMS = {
    400: "The body or query has the wrong shape: not JSON, a missing or unknown field, a wrong type.",
    401: "No credentials, or an unknown, expired or revoked API key (`WWW-Authenticate: Bearer`).",
    403: "The API key lacks this operation's scope, or the IAM role is not allowed.",
    404: "A record the path refers to does not exist.",
    413: "The body is over this operation's limit.",
    415: "A `Content-Type` this operation does not take (the problem lists the accepted ones).",
    422: "Well-formed but impossible: dates out of order, an unknown country code…",
    429: "The key's per-minute budget is spent; `Retry-After` says when to try again.",
}

TAGS = {
    "checks": "Ask whether a planned trip needs an A1 or a Certificate of Coverage.",
    "trips": "Trips found in calendars and bookings, with their decisions.",
    "employees": "Employee records pushed by an HR system.",
    "certificates": "A1 / CoC certificates HR has applied for or received.",
    "connections": "Calendars and feeds coverwatch reads for an employee.",
    "sources": "Calendars and bookings pushed to coverwatch.",
    "travelers": "Pages behind the signed links in travelers' e-mails.",
    "webhooks": "Called by Microsoft Graph and Google, validated by their own secrets.",
    "audit": "Who changed what, and exports for auditors.",
    "meta": "The API's health and its own description.",
}

AUTH_NOTES = {
    Auth.PUBLIC: "No credentials needed.",
    Auth.WEBHOOK: (
        "No API key: the provider's own validation decides (Graph `clientState`, Google channel token, "
        "both stored only as SHA-256 digests); unverified notifications are ignored."
    ),
    Auth.LINK: (
        "No API key: the path's `token` is a signed (HMAC-SHA256), expiring link from a coverwatch "
        "e-mail; a changed or expired link gets a page that says so."
    ),
}

DESCRIPTION = f"""\
Finds cross-border work trips in calendars and bookings and decides whether each needs an A1 or a
Certificate of Coverage. Booking tools ask about planned trips (`POST /v1/checks`); HR systems push
employees and certificates and read trips.

**Authentication.** Every operation except the public ones (`/v1/health`, this document, `/v1/docs`)
needs credentials:

- an API key, as `Authorization: Bearer cw_<id>_<secret>` or `X-Api-Key: cw_…`. An admin creates
  one with `coverwatch keys create --name "booking tool" --scopes check` (shown once; only its
  SHA-256 digest is stored). Scopes: `check` (ask about trips), `read`, `write`, `admin` (everything).
  Each key has a budget of requests per minute (429 with `Retry-After` when spent);
- or, for AWS-internal callers, IAM: every key-authenticated operation is also served under
  `{IAM_PREFIX}` (e.g. `POST {IAM_PREFIX}/v1/checks`) behind API Gateway's IAM authorizer. Sign with SigV4;
  the role must be listed in `COVERWATCH_IAM_PRINCIPALS` with its scopes. The `{IAM_PREFIX}` twins take
  and answer exactly what the operations below do, so they are not listed separately.

Webhooks use their provider's validation; traveler links carry signed, expiring tokens.

**Errors** are RFC 9457 problem details (`application/problem+json`) whose `errors[].field` names
each bad part of the request (`start`, `legs.0.end`, `Authorization`, `(body)`…). JSON bodies are
limited to {JSON_LIMIT // 1024} KiB unless an operation states otherwise. Fields are only ever added
to answers, never renamed or removed.
"""

REQUEST_EXAMPLES: dict[str, Any] = {
    "CheckRequest": {"home_country": "DE", "host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"},
    "JourneyRequest": {
        "home_country": "DE",
        "legs": [
            {"host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"},
            {"host_country": "US", "start": "2027-03-05", "end": "2027-03-12"},
        ],
    },
    "EmployeeBody": {
        "name": "Anna Schmidt",
        "email": "anna.schmidt@example.com",
        "home_country": "DE",
        "nationalities": ["DE"],
        "residence_country": "DE",
        "language": "de",
    },
    "CertificateBody": {
        "employee_id": "emp-1",
        "document": "A1",
        "issuing_country": "DE",
        "host_countries": ["FR"],
        "valid_from": "2027-03-01",
        "valid_to": "2027-03-31",
        "status": "issued",
        "reference": "A1-2027-0042",
    },
    "ConnectionRequest": {"source": "ics", "account": "upload"},
    "JsonLdDocument": {
        "@context": "https://schema.org",
        "@type": "FlightReservation",
        "reservationNumber": "RXJ34P",
        "reservationFor": {
            "@type": "Flight",
            "flightNumber": "LH1034",
            "departureAirport": {"@type": "Airport", "iataCode": "FRA"},
            "departureTime": "2027-03-01T07:10:00+01:00",
            "arrivalAirport": {"@type": "Airport", "iataCode": "CDG"},
            "arrivalTime": "2027-03-01T08:25:00+01:00",
        },
    },
    "NotificationBatch": {
        "value": [{"subscriptionId": "sub-1", "clientState": "secret", "changeType": "updated"}]
    },
}
"""Request examples for models that do not carry their own. A model may give its own instead with
``model_config = ConfigDict(json_schema_extra={"examples": [...]})``; that one wins."""

PARAMETER_EXAMPLES: dict[str, str] = {
    "from": "2027-01-01",
    "to": "2027-03-31",
    "employee_id": "emp-1",
    "certificate_id": "cert-1",
    "connection_id": "ics-0123456789abcdef0123",
}

MEDIA_EXAMPLES = {
    "text/calendar": (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//EN\r\nBEGIN:VEVENT\r\nUID:1@example.com\r\n"
        "DTSTART;VALUE=DATE:20270301\r\nDTEND;VALUE=DATE:20270304\r\nSUMMARY:Customer workshop in Paris\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
}


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def build_document(operations: Iterable[Operation], version: str) -> dict[str, Any]:
    """The OpenAPI document for ``operations`` (one entry each; the /iam twins are described, not listed)."""
    ops = sorted(operations, key=lambda o: (o.path, METHOD_ORDER.index(o.method)))
    schemas = _Schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    components = {
        "schemas": schemas.used(paths),
        "securitySchemes": {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key `cw_<id>_<secret>` created by an admin "
                '(`coverwatch keys create --name "…" --scopes check`).',
            },
            "apiKeyHeader": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Api-Key",
                "description": "The same API key, for clients that cannot set `Authorization`.",
            },
        },
    }
    used = {op.tag for op in ops}
    used_tags = [t for t in TAGS if t in used] + sorted(used - TAGS.keys())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "This deployment"}],
        "tags": [{"name": t, **({"description": TAGS[t]} if t in TAGS else {})} for t in used_tags],
        "paths": paths,
        "components": components,
    }


class AnswerSchema(GenerateJsonSchema):
    """Answers are whole model dumps, so every field is present: say so (``required``) for clients
    and for schemathesis, which then also catches an answer that leaves a field out."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None and not field.get("serialization_exclude")
        return super().field_is_required(field, total)


class _Schemas:
    """Every model the operations name, generated together so shared parts are defined once."""

    def __init__(self, ops: list[Operation]) -> None:
        wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Problem, "serialization"): None}
        for op in ops:
            for model in (op.body, op.query):
                if model is not None:
                    wanted[(model, "validation")] = None
            for answer in op.responses.values():
                if isinstance(answer, type):
                    wanted[(answer, "serialization")] = None
        refs, definitions = models_json_schema(list(wanted), ref_template=REF, schema_generator=AnswerSchema)
        self._refs = refs
        self.definitions: dict[str, Any] = definitions.get("$defs", {})

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self._refs[(model, mode)])

    def resolved(self, model: type[BaseModel]) -> dict[str, Any]:
        """The definition of a (validation-mode) model itself, e.g. to list a query model's fields."""
        name = self._refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]
        definition: dict[str, Any] = self.definitions[name]
        return definition

    def example(self, model: type[BaseModel]) -> Any | None:
        definition = self.resolved(model)
        examples = definition.get("examples")
        if examples:
            return examples[0]
        return REQUEST_EXAMPLES.get(definition.get("title", model.__name__))

    def used(self, tree: Any) -> dict[str, Any]:
        """The definitions ``tree`` refers to, directly or through other definitions, by name."""
        seen: dict[str, Any] = {}
        pending = list(_refs_in(tree))
        while pending:
            name = pending.pop()
            if name not in seen:
                seen[name] = self.definitions[name]
                pending.extend(_refs_in(seen[name]))
        return {name: seen[name] for name in sorted(seen)}


def _refs_in(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        ref = tree.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in tree.values():
            yield from _refs_in(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _refs_in(value)


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "description": _description(op),
        "tags": [op.tag],
    }
    if op.auth is Auth.KEY and op.scope is not None:
        out["security"] = KEY_SECURITY
        out["x-coverwatch-scope"] = op.scope.value
    else:
        out["security"] = []
    parameters = _path_parameters(op.path) + (_query_parameters(op.query, schemas) if op.query else [])
    if parameters:
        out["parameters"] = parameters
    if op.body is not None and op.method in BODY_METHODS:
        out["requestBody"] = _request_body(op, op.body, schemas)
    out["responses"] = _responses(op, schemas)
    return out


def _description(op: Operation) -> str:
    if op.auth is Auth.KEY and op.scope is not None:
        note = (
            f"Needs an API key with the `{op.scope.value}` scope (or `admin`), or IAM under `{IAM_PREFIX}`."
        )
    else:
        note = AUTH_NOTES[op.auth]
    doc = inspect.cleandoc(op.description)
    return f"{doc}\n\n{note}" if doc else note


def _path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for name in _PATH_PARAMETER.findall(path):
        parameter: dict[str, Any] = {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        }
        if name in PARAMETER_EXAMPLES:
            parameter["example"] = PARAMETER_EXAMPLES[name]
        out.append(parameter)
    return out


def _query_parameters(model: type[BaseModel], schemas: _Schemas) -> list[dict[str, Any]]:
    definition = schemas.resolved(model)
    required = set(definition.get("required", []))
    out = []
    for name, prop in definition.get("properties", {}).items():
        schema = _not_null(prop)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        description = schema.pop("description", None)
        if description:
            parameter["description"] = description
        parameter["schema"] = schema
        if name in PARAMETER_EXAMPLES:
            parameter["example"] = PARAMETER_EXAMPLES[name]
        out.append(parameter)
    return out


def _not_null(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A query value is never JSON null: an optional one is simply left out, so drop the null branch."""
    schema = {k: v for k, v in prop.items() if k != "title" and not (k == "default" and v is None)}
    branches = schema.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        del schema["anyOf"]
        if len(rest) == 1:
            schema.update(rest[0])
        else:
            schema["anyOf"] = rest
    return schema


def _request_body(op: Operation, model: type[BaseModel], schemas: _Schemas) -> dict[str, Any]:
    content: dict[str, Any] = {}
    example = schemas.example(model)
    for media_type in op.content_types:
        if is_json(media_type):
            entry: dict[str, Any] = {"schema": schemas.ref(model, "validation")}
            if example is not None:
                entry["example"] = example
        elif media_type.startswith("text/"):
            entry = {"schema": {"type": "string"}}
            if media_type in MEDIA_EXAMPLES:
                entry["example"] = MEDIA_EXAMPLES[media_type]
        else:
            entry = {"schema": {"type": "string", "format": "binary"}}
        content[media_type] = entry
    return {
        "required": True,
        "description": f"At most {op.max_body:,} bytes (413 above).",
        "content": content,
    }


def _responses(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    answers: dict[int, Any] = {**_standard_problems(op), **op.responses}
    out: dict[str, Any] = {}
    for status in sorted(answers):
        out[str(status)] = _response(status, answers[status], schemas)
    return out


def _standard_problems(op: Operation) -> dict[int, str]:
    statuses: list[int] = []
    if op.body is not None or op.query is not None:
        statuses += [400, 422]
    if op.auth is Auth.KEY:
        statuses += [401, 403, 429]
    if op.method in BODY_METHODS:
        statuses += [413, 415]
    if _PATH_PARAMETER.search(op.path):
        statuses.append(404)
    return {status: STANDARD_PROBLEMS[status] for status in statuses}


def _response(status: int, answer: type[BaseModel] | str | None, schemas: _Schemas) -> dict[str, Any]:
    if answer is None:
        return {"description": "No body."}
    if isinstance(answer, type):
        doc = (answer.__doc__ or "").strip().split("\n\n")[0]
        return {
            "description": doc or f"A {answer.__name__}.",
            "content": {"application/json": {"schema": schemas.ref(answer, "serialization")}},
        }
    if isinstance(answer, Described):
        schema = {"type": "object"} if is_json(answer.media_type) else {"type": "string"}
        return {"description": str(answer), "content": {answer.media_type: {"schema": schema}}}
    if status >= 400:
        problem = schemas.ref(Problem, "serialization")
        return {"description": answer, "content": {PROBLEM_CONTENT_TYPE: {"schema": problem}}}
    return {"description": answer}


def project_version() -> str:
    """The version in pyproject.toml (a checkout), else the installed package's, else ``0.0.0``."""
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    from importlib import metadata

    try:
        return metadata.version("coverwatch")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def served_operations() -> list[Operation]:
    """The operations the app routes: importing ``app`` registers every route module's operations."""
    import app

    routes = app.app.routes
    return [op for (method, path), op in REGISTRY.items() if method in routes.get(path, {})]


@lru_cache(maxsize=1)
def document_json() -> str:
    """The document as the API serves it, built once per process."""
    return to_json(build_document(served_operations(), project_version()))


def to_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    sys.stdout.write(document_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
