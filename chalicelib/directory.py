"""Employees, their certificates and their calendar connections, as other systems record them.

An HRIS pushes employee records, HR records certificates, IT connects calendars. Each write is keyed
by a stable id, so a system that sends the same record twice changes nothing. Recording or changing a
certificate re-decides the employee's stored trips at once (a trip becomes "covered" without waiting
for the next calendar change); connecting a calendar queues its first sync.

Removing is as deliberate as recording: an employee who leaves is erased everywhere coverwatch keeps
something of them (profile, certificates, trips and their history, answers, messages, calendars with
their events and push channels), so a GDPR erasure request is one call, not a hunt through the table.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, Self
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.connectors.registry import FEED_SCHEMES, UPLOAD_ACCOUNT
from chalicelib.countries import CountryCode
from chalicelib.models import (
    Certificate,
    CertificateStatus,
    Channel,
    Connection,
    Model,
    SourceKind,
)
from chalicelib.store.repository import Repository

log = logging.getLogger("coverwatch.directory")

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


class NewConnection(ConnectionRequest):
    """``POST /v1/connections``: the per-employee request, with the employee named in the body."""

    employee_id: str = Field(min_length=1, max_length=128)

    def request(self) -> ConnectionRequest:
        return ConnectionRequest.model_validate(self.model_dump(exclude={"employee_id"}))


# certificates -----------------------------------------------------------------------------------------


class CertificatePatch(BaseModel):
    """``PATCH …/certificates/{id}``: the fields to change; the ones left out keep their value.

    ``reference`` may be sent as null to clear it; the others, when sent, need a value (null is 400).
    """

    model_config = ConfigDict(extra="forbid")

    status: CertificateStatus | None = Field(
        default=None, description="`applied` → `issued` once the institution has issued it."
    )
    valid_from: date | None = None
    valid_to: date | None = None
    reference: str | None = Field(default=None, min_length=1, max_length=128)
    host_countries: tuple[CountryCode, ...] | None = Field(default=None, min_length=1)


class PatchError(ValueError):
    """A change a certificate cannot take; ``status`` is 400 for a wrong shape, 422 for an impossible one."""

    def __init__(self, field: str, message: str, status: int) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


STATUS_ORDER = (CertificateStatus.APPLIED, CertificateStatus.ISSUED, CertificateStatus.WITHDRAWN)
"""A certificate only moves forward: applied, issued, withdrawn (an application refused or a certificate
withdrawn stays on record as what happened; it covers nothing, so its trips reopen)."""
_NOT_NULL = ("status", "valid_from", "valid_to", "host_countries")


def patched(certificate: Certificate, patch: CertificatePatch) -> Certificate:
    """``certificate`` with ``patch`` applied, validated again as a whole (dates in order…).

    Raises PatchError for a null where a value is needed or a status that would move backwards, and
    pydantic's ValidationError for a merged record that cannot be (``valid_to`` before ``valid_from``).
    """
    changes: dict[str, Any] = {name: getattr(patch, name) for name in patch.model_fields_set}
    for name in _NOT_NULL:
        if name in changes and changes[name] is None:
            raise PatchError(name, f"{name} cannot be null; leave it out to keep its value", 400)
    status: CertificateStatus = changes.get("status", certificate.status)
    if STATUS_ORDER.index(status) < STATUS_ORDER.index(certificate.status):
        raise PatchError(
            "status",
            f"a certificate that is {certificate.status.value} cannot become {status.value}; "
            "record a new certificate instead",
            422,
        )
    return Certificate.model_validate({**certificate.model_dump(), **changes})


# removing connections and employees --------------------------------------------------------------------


class ChannelStopper(Protocol):
    def stop(self, channel: Channel, connection: Connection) -> None:
        """Tell the provider to stop sending notifications for ``channel``."""


@dataclass(frozen=True)
class Removal:
    connections: int
    channels_not_stopped: tuple[str, ...]
    """Channel ids the provider was not told about (it stops them itself when they expire)."""
    items: int
    """Store items deleted, besides the connections' own."""


def remove_connection(
    connection: Connection, repo: Repository, stoppers: Mapping[SourceKind, ChannelStopper]
) -> list[str]:
    """Stop the connection's push channels, then delete it with its sync state and stored events.

    Stopping at the provider is best effort: a channel the provider cannot be told about is still
    forgotten here, so its notifications find no channel and are ignored until it expires (Graph and
    Google channels live a week at most). Returns the ids of channels not stopped at the provider.
    """
    not_stopped = []
    for channel in repo.channels_of(connection.id):
        stopper = stoppers.get(channel.source)
        try:
            if stopper is None:
                raise LookupError(f"no {channel.source.value} credentials configured")
            stopper.stop(channel, connection)
        except Exception as exc:  # best effort: the stored channel goes either way
            not_stopped.append(channel.id)
            log.warning(
                "channel %s of %s not stopped at the provider (%s); it expires by itself",
                channel.id,
                connection.id,
                type(exc).__name__,
            )
        repo.delete_channel(channel.id)
    repo.delete_connection(connection.id)
    return not_stopped


def erase_employee(
    employee_id: str, repo: Repository, stoppers: Mapping[SourceKind, ChannelStopper]
) -> Removal:
    """Delete everything coverwatch keeps about one employee; the audit trail keeps only ids.

    Connections go first (their events and channels live outside the employee's partition and are
    found through it), the profile last, so an erasure interrupted half way can simply be run again.
    """
    not_stopped: list[str] = []
    connections = repo.connections_of(employee_id)
    for connection in connections:
        not_stopped.extend(remove_connection(connection, repo, stoppers))
    items = repo.erase_employee(employee_id)
    log.info("employee %s erased: %s connections, %s items", employee_id, len(connections), items)
    return Removal(connections=len(connections), channels_not_stopped=tuple(not_stopped), items=items)


def shown(connection: Connection) -> dict[str, object]:
    """The connection as the API shows it: a feed URL's secret parts (password, query values, a long
    token in the path) are masked, because a private calendar URL is itself the credential."""
    data = connection.model_dump(mode="json")
    if connection.source is SourceKind.ICS and "://" in connection.account:
        data["account"] = mask_feed_url(connection.account)
    return data


def mask_feed_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "&".join(f"{k}=…" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    path = "/".join("…" if len(seg) >= 24 else seg for seg in parts.path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, query, ""))
