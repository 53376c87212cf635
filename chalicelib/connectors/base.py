"""The one interface every calendar source implements, and the one error type they raise.

A source is asked: "given this connection and the cursor you gave me last time, what changed?" It
answers with the changed events, the ids of removed ones, and a new cursor. When it cannot continue
from the cursor (expired delta link, 410 Gone, a moved window) it starts over and says so with
``full`` — the caller then replaces everything it holds for that connection instead of merging.

Every vendor exception is turned into ``ConnectorError`` with a reason and a hint the caller can act on
(retry after N seconds, or give up on this connection until someone fixes its credentials).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from chalicelib.models import CalendarEvent, Connection, SourceProblem


@dataclass(frozen=True)
class SyncWindow:
    """The span of calendar time coverwatch reads (default: 30 days back to 365 days ahead)."""

    start: date
    end: date


@dataclass
class SyncResult:
    events: list[CalendarEvent] = field(default_factory=list)
    """New or changed events (cancelled ones carry ``cancelled=True``)."""
    removed: list[str] = field(default_factory=list)
    """Uids of events that were deleted at the source."""
    cursor: str | None = None
    """What to pass next time: a delta link, a sync token, an ETag or a content hash."""
    full: bool = False
    """True when ``events`` is the whole calendar (first sync or a forced re-sync), not a change set."""
    problems: list[SourceProblem] = field(default_factory=list)
    requests: int = 0
    """HTTP requests made to the provider, for the benchmarks and the unchanged-calendar promise."""

    @property
    def unchanged(self) -> bool:
        return not self.full and not self.events and not self.removed


class ConnectorError(Exception):
    """A source could not be read. ``retry_after`` (seconds) says when to try again, if at all."""

    def __init__(
        self, source: str, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent
        """True when retrying cannot help (bad credentials, no access to the mailbox)."""


class CalendarSource(Protocol):
    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        """Changes since ``cursor`` (everything when ``cursor`` is None), as normalised events."""
        ...
