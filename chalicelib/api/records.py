"""What the API keeps about its callers: API keys (as digests) and the audit trail of every write.

Plain pydantic records without Chalice, so the store can persist them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_RATE_PER_MINUTE = 600


class Scope(StrEnum):
    CHECK = "check"
    """Ask whether a trip needs a certificate (booking tools)."""
    READ = "read"
    """Read trips, employees, certificates, connections."""
    WRITE = "write"
    """Change employees, certificates, trips, connections; push bookings and calendars."""
    ADMIN = "admin"
    """Everything, plus the audit log and exports."""


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use

    id: str = Field(pattern=r"^[0-9a-f]{12}$")
    name: str = Field(min_length=1, max_length=100)
    """Who holds it, e.g. "booking tool (TravelCo)"."""
    scopes: frozenset[Scope] = Field(min_length=1)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rate_per_minute: int = Field(default=DEFAULT_RATE_PER_MINUTE, ge=1, le=100_000)

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        return self.expires_at is None or moment < self.expires_at


class AuditEntry(BaseModel):
    """Who changed what, when: ids and field names only, never the values (they may be personal)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use

    at: datetime
    actor: str
    """``key:<id>``, ``iam:<principal arn>``, ``traveler:<employee id>``, ``webhook:<provider>``,
    ``system``."""
    action: str
    """``<resource>.<verb>``, e.g. ``certificate.create``, ``trip.update``, ``employee.delete``."""
    resource: str
    """``<kind>/<id>``, e.g. ``employee/emp-1``."""
    employee_id: str | None = None
    fields: tuple[str, ...] = ()
    """The fields the write set or changed."""
    request_id: str | None = None
