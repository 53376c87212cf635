"""The one door every HTTP request passes: who is calling, may they, is the body acceptable.

Runs as Chalice HTTP middleware, so no route can forget it. For each request it finds the declared
operation (chalicelib/api/operations.py) and:
- refuses a body over the operation's limit (413) before anything parses it;
- for key-authenticated operations, takes the API key from ``Authorization: Bearer`` (or ``X-Api-Key``),
  or, under /iam, the IAM principal API Gateway verified; answers 401 (missing, unknown, expired,
  revoked), 403 (scope missing) or 429 (the key's per-minute budget spent, with Retry-After);
- turns Chalice's own 4xx answers (415 unsupported media type…) into problem+json like ours;
- logs one line per request with ids only: operation, status, caller id, request id, milliseconds.

Verified keys are cached per process for ``KEY_CACHE_SECONDS``, so a revocation takes effect within
that time; the rate budget is kept per process (API Gateway's stage throttling is the global limit).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.api.keys import matches, split_key
from chalicelib.api.operations import IAM_PREFIX, Auth, Operation, operation_for
from chalicelib.api.records import ApiKey, Scope
from chalicelib.problems import (
    PROBLEM_CONTENT_TYPE,
    forbidden_problem,
    problem,
    rate_limited_problem,
    too_large_problem,
    unauthorized_problem,
    unsupported_media_problem,
)
from chalicelib.store.repository import Repository

LOG = logging.getLogger("coverwatch.api")
KEY_CACHE_SECONDS = 60.0
PRINCIPAL = "coverwatch.principal"
"""Where the guard leaves the caller in ``request.context`` for the routes (the audit trail)."""


@dataclass(frozen=True)
class Principal:
    kind: str
    """``key``, ``iam``, ``public``, ``webhook`` or ``link``."""
    id: str
    scopes: frozenset[Scope] = frozenset()

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Guard:
    repo: Callable[[], Repository]
    iam_principals: Callable[[], Mapping[str, frozenset[Scope]]] = dict
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _keys: dict[str, tuple[float, ApiKey | None]] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def forget(self) -> None:
        """Drop cached keys and rate budgets (after a key is revoked in a test or by an admin tool)."""
        self._keys.clear()
        self._buckets.clear()

    # the middleware ----------------------------------------------------------------------------
    def __call__(self, event: Request, get_response: Callable[[Request], Response]) -> Response:
        started = self.clock()
        resource = str(event.context.get("resourcePath", ""))
        op = operation_for(event.method, resource)
        principal: Principal | None = None
        if op is None:  # not ours (yet): Chalice answers 404/405 itself; give it our error format
            response = _as_problem(get_response(event), None)
        else:
            refused = self._too_large(event, op)
            if refused is None:
                outcome = self._authenticate(event, op, resource.startswith(IAM_PREFIX + "/"))
                if isinstance(outcome, Response):
                    refused = outcome
                else:
                    principal = outcome
            if refused is not None:
                response = refused
            else:
                event.context[PRINCIPAL] = principal
                response = _as_problem(get_response(event), op)
        fields = {
            "operation": op.name if op else None,
            "status": response.status_code,
            "caller": principal.actor if principal else None,
            "request_id": event.context.get("requestId"),
            "ms": round((self.clock() - started) * 1000, 2),
        }
        # in the text for CloudWatch's plain lines, and as attributes for structured handlers
        LOG.info(
            "request %(operation)s %(status)s caller=%(caller)s id=%(request_id)s %(ms)s ms",
            fields,
            extra=fields,
        )
        return response

    # the checks --------------------------------------------------------------------------------
    def _too_large(self, event: Request, op: Operation) -> Response | None:
        declared = event.headers.get("content-length")
        size = int(declared) if declared and declared.isdigit() else None
        if size is None or size <= op.max_body:
            size = len(event.raw_body or b"") if event.method in ("POST", "PUT", "PATCH") else 0
        return _reply(too_large_problem(size, op.max_body)) if size > op.max_body else None

    def _authenticate(self, event: Request, op: Operation, via_iam: bool) -> Principal | Response:
        if op.auth is not Auth.KEY or op.scope is None:
            return Principal(kind=op.auth.value, id=op.name)
        principal = self._iam(event) if via_iam else self._key(event)
        if isinstance(principal, Response):
            return principal
        if Scope.ADMIN not in principal.scopes and op.scope not in principal.scopes:
            return _reply(
                forbidden_problem(
                    f"this operation needs the {op.scope.value!r} scope; the credentials have "
                    f"{', '.join(sorted(s.value for s in principal.scopes))}"
                )
            )
        return principal

    def _iam(self, event: Request) -> Principal | Response:
        identity = event.context.get("identity") or {}
        arn = str(identity.get("userArn") or "")
        if not arn:
            return _unauthorized("this /iam route needs a SigV4-signed request through API Gateway")
        scopes = _scopes_for_arn(arn, self.iam_principals())
        if scopes is None:
            return _reply(forbidden_problem("this IAM principal is not in COVERWATCH_IAM_PRINCIPALS"))
        return Principal(kind="iam", id=arn, scopes=scopes)

    def _key(self, event: Request) -> Principal | Response:
        header = event.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
        presented = presented or event.headers.get("x-api-key", "").strip()
        if not presented:
            return _unauthorized("send an API key as 'Authorization: Bearer cw_…' (or the X-Api-Key header)")
        parts = split_key(presented)
        record = self._record(parts[0]) if parts else None
        if parts is None or record is None or not matches(record, parts[1]):
            return _unauthorized("the API key is not valid")
        if not record.usable_at(self.wall()):
            return _unauthorized(f"the API key {record.id} has expired or was revoked")
        wait = self._spend(record)
        if wait is not None:
            return _reply(rate_limited_problem(wait), {"Retry-After": str(wait)})
        return Principal(kind="key", id=record.id, scopes=record.scopes)

    def _record(self, key_id: str) -> ApiKey | None:
        now = self.clock()
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        record = self.repo().get_api_key(key_id)
        self._keys[key_id] = (now, record)
        return record

    def _spend(self, key: ApiKey) -> int | None:
        """Take one token from the key's bucket; the seconds to wait when it is empty."""
        now, per_second = self.clock(), key.rate_per_minute / 60.0
        bucket = self._buckets.setdefault(key.id, _Bucket(float(key.rate_per_minute), now))
        bucket.tokens = min(float(key.rate_per_minute), bucket.tokens + (now - bucket.updated) * per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, int((1.0 - bucket.tokens) / per_second + 0.999))


def _scopes_for_arn(arn: str, allowed: Mapping[str, frozenset[Scope]]) -> frozenset[Scope] | None:
    """Scopes of a caller; a role's sessions (``sts::…:assumed-role/<role>/<session>``) match the role."""
    if arn in allowed:
        return allowed[arn]
    if ":assumed-role/" in arn:
        account = arn.split(":")[4]
        role = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return allowed.get(f"arn:aws:iam::{account}:role/{role}")
    return None


def _reply(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=body["status"],
        headers={"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})},
    )


def _unauthorized(detail: str) -> Response:
    return _reply(unauthorized_problem(detail), {"WWW-Authenticate": 'Bearer realm="coverwatch"'})


def _as_problem(response: Response, op: Operation | None) -> Response:
    """Chalice answers some errors itself ({"Code", "Message"}); give callers one error format."""
    if response.status_code < 400 or not isinstance(response.body, dict) or "Code" not in response.body:
        return response
    message = str(response.body.get("Message", ""))
    if response.status_code == 415 and op is not None:
        sent = message.removeprefix("Unsupported media type: ")
        return _reply(unsupported_media_problem(sent, list(op.content_types)))
    code = str(response.body["Code"])
    kind, title = _CHALICE_ERRORS.get(code, (code.lower(), code))
    return _reply(problem(response.status_code, kind, title, message))


_CHALICE_ERRORS = {
    "MethodNotAllowedError": ("method-not-allowed", "This path does not answer that method"),
    "NotFoundError": ("not-found", "Nothing is here"),
    "BadRequestError": ("malformed-request", "The request could not be read"),
}
