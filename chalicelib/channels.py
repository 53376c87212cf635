"""Push channels kept alive: opened when a calendar is connected (or by the renewal schedule when the
API could not), renewed before they lapse.

Graph subscriptions on Outlook events last at most about seven days and Google watch channels expire
too; a lapsed channel silently turns coverwatch back into hourly polling. A schedule renews every
channel expiring within the margin; a failure is logged per channel and the others go on. Managers
are the provider objects (Graph subscriptions, Google channels) behind one small interface.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.connectors.base import ConnectorError
from chalicelib.models import Channel, Connection, SourceKind
from chalicelib.store.repository import Repository

log = logging.getLogger("coverwatch.channels")
RENEW_MARGIN = timedelta(hours=36)
"""Renew what expires within this margin: the schedule runs every 6 hours, so two misses still leave time."""


class ChannelManager(Protocol):
    def open(self, connection: Connection) -> Channel: ...
    def renew(self, channel: Channel, connection: Connection) -> Channel: ...


@dataclass
class RenewalReport:
    renewed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """channel id -> reason."""
    orphaned: list[str] = field(default_factory=list)
    """Channels whose connection is gone: forgotten."""
    opened: list[str] = field(default_factory=list)
    """Connections that had no channel (their first one could not be opened) and now have one."""


def open_channel(connection: Connection, managers: Mapping[SourceKind, ChannelManager]) -> Channel | None:
    """Open a push channel for ``connection`` if its provider is configured; never fails the caller."""
    manager = managers.get(connection.source)
    if manager is None:
        return None
    try:
        return manager.open(connection)
    except ConnectorError as exc:
        log.warning("no push channel for %s (%s); hourly polling still syncs it", connection.id, exc.reason)
        return None


def renew_channels(
    repo: Repository,
    managers: Mapping[SourceKind, ChannelManager],
    now: datetime,
    margin: timedelta = RENEW_MARGIN,
) -> RenewalReport:
    report = RenewalReport()
    for channel in repo.channels_expiring_before(now + margin):
        connection = repo.get_connection(channel.connection_id)
        if connection is None:
            repo.delete_channel(channel.id)
            report.orphaned.append(channel.id)
            continue
        manager = managers.get(channel.source)
        if manager is None:
            report.failed[channel.id] = f"no {channel.source.value} credentials configured"
            continue
        try:
            manager.renew(channel, connection)
        except ConnectorError as exc:
            report.failed[channel.id] = exc.reason
            log.warning("channel %s of %s not renewed: %s", channel.id, connection.id, exc.reason)
            continue
        report.renewed.append(channel.id)
    _open_missing(repo, managers, now, report)
    return report


def _open_missing(
    repo: Repository, managers: Mapping[SourceKind, ChannelManager], now: datetime, report: RenewalReport
) -> None:
    """Give every pushable connection a channel. The API that registers a connection may not hold the
    provider's credentials (least privilege), so a new connection's first channel is opened here."""
    if not managers:
        return
    covered = {c.connection_id for c in repo.channels_expiring_before(now + timedelta(days=3650))}
    for connection in repo.all_connections():
        if connection.id in covered or connection.source not in managers:
            continue
        if open_channel(connection, managers) is not None:
            report.opened.append(connection.id)
