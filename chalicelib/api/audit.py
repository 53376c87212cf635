"""Every write through the API lands in the audit trail: who (the guard's principal), what, when.

Only ids and field names are kept, never values: "key:4f2a… set valid_to on certificate/cert-7 of
employee emp-1" answers an auditor's question without copying personal data into a second place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from chalice.app import Request

from chalicelib.api.guard import PRINCIPAL, Principal
from chalicelib.api.records import AuditEntry
from chalicelib.store.repository import Repository


def actor_of(request: Request) -> str:
    principal = request.context.get(PRINCIPAL)
    return principal.actor if isinstance(principal, Principal) else "system"


def record(
    repo: Repository,
    request: Request,
    action: str,
    resource: str,
    *,
    employee_id: str | None = None,
    fields: Iterable[str] = (),
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at or datetime.now(UTC),
        actor=actor_of(request),
        action=action,
        resource=resource,
        employee_id=employee_id,
        fields=tuple(sorted(fields)),
        request_id=request.context.get("requestId"),
    )
    repo.append_audit(entry)
    return entry
