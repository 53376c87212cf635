"""Employees, their certificates and their calendar connections, as other systems record them.

An HRIS pushes employee records, HR records certificates, IT connects calendars. Each write is an
idempotent PUT keyed by a stable id, so a system that sends the same record twice changes nothing.
Recording a certificate re-decides the employee's stored trips at once (a trip becomes "covered"
without waiting for the next calendar change); connecting a calendar queues its first sync.
"""

from __future__ import annotations

import hashlib
from typing import Self

from pydantic import Field, model_validator

from chalicelib.connectors.registry import FEED_SCHEMES, UPLOAD_ACCOUNT
from chalicelib.models import Connection, Model, SourceKind

SOURCES_WITH_CONNECTIONS = (SourceKind.GRAPH, SourceKind.GOOGLE, SourceKind.ICS)


class ConnectionRequest(Model):
    source: SourceKind
    account: str = Field(min_length=1, max_length=2048)
    """Mailbox id or UPN (graph), user e-mail (google), the URL of an ICS feed or "upload" (ics)."""
    calendar_id: str = Field(default="primary", min_length=1, max_length=256)

    @model_validator(mode="after")
    def _usable(self) -> Self:
        if self.source not in SOURCES_WITH_CONNECTIONS:
            raise ValueError("source must be graph, google or ics (bookings are posted to /v1/bookings)")
        if self.source is SourceKind.ICS and not (
            self.account.startswith(FEED_SCHEMES) or self.account == UPLOAD_ACCOUNT
        ):
            raise ValueError("an ics connection's account is the feed URL (https://...) or 'upload'")
        if self.source is not SourceKind.ICS and "@" not in self.account and len(self.account) < 8:
            raise ValueError("account must be the mailbox's user principal name / e-mail or its object id")
        return self


def connection_for(employee_id: str, request: ConnectionRequest) -> Connection:
    """The connection with a stable id, so connecting the same calendar twice is one connection."""
    digest = hashlib.sha256(f"{employee_id}|{request.account}|{request.calendar_id}".encode()).hexdigest()
    return Connection(
        id=f"{request.source.value}-{digest[:20]}",
        employee_id=employee_id,
        source=request.source,
        account=request.account,
        calendar_id=request.calendar_id,
    )
