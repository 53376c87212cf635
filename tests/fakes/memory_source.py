"""An in-memory CalendarSource with change-set semantics, for testing what happens after a sync."""

from __future__ import annotations

from chalicelib.connectors.base import SyncResult, SyncWindow
from chalicelib.models import CalendarEvent, Connection


class MemorySource:
    """Holds a calendar; each sync returns what changed since the cursor (a version number)."""

    def __init__(self) -> None:
        self.version = 0
        self._events: dict[str, tuple[int, CalendarEvent]] = {}
        self._removed: dict[str, int] = {}
        self.calls = 0

    def put(self, event: CalendarEvent) -> None:
        self.version += 1
        self._events[event.uid] = (self.version, event)
        self._removed.pop(event.uid, None)

    def remove(self, uid: str) -> None:
        self.version += 1
        self._events.pop(uid, None)
        self._removed[uid] = self.version

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        self.calls += 1
        since = int(cursor) if cursor else None
        if since is None:
            return SyncResult(
                events=[e for _, e in self._events.values()], cursor=str(self.version), full=True, requests=1
            )
        return SyncResult(
            events=[e for v, e in self._events.values() if v > since],
            removed=[uid for uid, v in self._removed.items() if v > since],
            cursor=str(self.version),
            requests=1,
        )
