"""Which connector reads which connection: one place, so the worker and the demo agree.

Graph and Google need credentials from Secrets Manager and pull in msal / google-api-python-client,
so they are only built when their secret is configured, and only imported then (the API Lambda never
loads them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.connectors.base import CalendarSource, SyncResult, SyncWindow
from chalicelib.models import Connection, SourceKind

UPLOAD_ACCOUNT = "upload"
"""An ICS connection whose calendar arrives by upload (POST /v1/connections/{id}/ics): nothing to pull."""
FEED_SCHEMES = ("http://", "https://", "webcal://")


class IcsSource:
    """ICS feeds by URL, stored files by path; uploaded calendars are never pulled."""

    def __init__(self) -> None:
        self._feed: CalendarSource | None = None
        self._file: CalendarSource | None = None

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        if connection.account == UPLOAD_ACCOUNT:
            return SyncResult(cursor=cursor)
        from chalicelib.connectors.ics_feed import IcsFeedSource, IcsFileSource

        if connection.account.startswith(FEED_SCHEMES):
            self._feed = self._feed or IcsFeedSource()
            return self._feed.sync(connection, cursor, window)
        self._file = self._file or IcsFileSource()
        return self._file.sync(connection, cursor, window)


class LazySource:
    """A source built on its first sync, so a process that never meets that provider never loads it."""

    def __init__(self, factory: Callable[[], CalendarSource]) -> None:
        self._factory = factory
        self._source: CalendarSource | None = None

    def sync(self, connection: Connection, cursor: str | None, window: SyncWindow) -> SyncResult:
        if self._source is None:
            self._source = self._factory()
        return self._source.sync(connection, cursor, window)


def build_sources(extra: dict[SourceKind, Any] | None = None) -> dict[SourceKind, CalendarSource]:
    """The sources for this process: ICS always, plus any already-built Graph / Google sources."""
    sources: dict[SourceKind, CalendarSource] = {SourceKind.ICS: IcsSource()}
    sources.update(extra or {})
    return sources
