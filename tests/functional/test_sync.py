"""Syncing a connection: changes reach the trips and the alerts; an unchanged calendar costs nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.bootstrap import Settings
from chalicelib.jobs import SyncJob
from chalicelib.models import Connection, SourceKind
from chalicelib.scan import ScanDeps
from chalicelib.sync import UnknownConnectionError, sync_connection, sync_window
from tests.builders import employee, paris_meeting
from tests.fakes.memory_source import MemorySource


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    repo = bootstrap.repository(mocked_aws)
    repo.put_employee(employee(home="DE"))
    repo.put_connection(
        Connection(id="graph:anna", employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com")
    )
    return ScanDeps(
        repo=repo,
        notifier=OutboxNotifier(tmp_path / "out", mocked_aws.sender),
        hr_email="hr@example.com",
        decided_on=date(2027, 1, 15),
    )


def _count_items(settings: Settings) -> int:
    return int(
        bootstrap.aws_client("dynamodb", settings).scan(TableName=settings.table_name, Select="COUNT")[
            "Count"
        ]
    )


def test_a_change_reaches_the_trips_and_an_unchanged_calendar_writes_nothing(
    deps: ScanDeps, mocked_aws: Settings, tmp_path: Path
) -> None:
    source = MemorySource()
    source.put(paris_meeting(date(2027, 3, 3), "evt-1", SourceKind.GRAPH))
    sources = {SourceKind.GRAPH: source}

    first = sync_connection(SyncJob(connection_id="graph:anna"), sources, deps)
    assert not first.unchanged
    assert first.report is not None
    assert [(r.trip.country, r.trip.start) for r in first.report.results] == [("FR", date(2027, 3, 3))]
    assert first.report.alerts_sent == 1

    items = _count_items(mocked_aws)
    again = sync_connection(SyncJob(connection_id="graph:anna"), sources, deps)
    assert (again.unchanged, again.requests, again.event_writes, again.report) == (True, 1, 0, None)
    assert _count_items(mocked_aws) == items

    source.put(paris_meeting(date(2027, 3, 10), "evt-1", SourceKind.GRAPH))  # the meeting moved
    moved = sync_connection(SyncJob(connection_id="graph:anna"), sources, deps)
    assert moved.report is not None
    assert [(r.trip.start, r.alerted) for r in moved.report.results] == [(date(2027, 3, 10), True)]

    source.remove("evt-1")  # and was cancelled
    gone = sync_connection(SyncJob(connection_id="graph:anna"), sources, deps)
    assert gone.report is not None
    assert [t.country for t in gone.report.cancelled] == ["FR"]
    assert deps.repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    assert len(list((tmp_path / "out").glob("*.eml"))) == 3  # alert, alert for the new dates, all-clear


def test_an_unknown_connection_is_refused(deps: ScanDeps) -> None:
    with pytest.raises(UnknownConnectionError):
        sync_connection(SyncJob(connection_id="nope"), {SourceKind.GRAPH: MemorySource()}, deps)


def test_the_window_moves_once_a_week_and_always_spans_30_days_back_to_365_ahead() -> None:
    monday = sync_window(date(2027, 1, 11))
    assert monday == sync_window(date(2027, 1, 17))  # Monday and Sunday of one week: same window
    assert sync_window(date(2027, 1, 18)).start == date(2026, 12, 19)  # next Monday: one week later
    for day in (date(2027, 1, 11), date(2027, 1, 17)):
        window = sync_window(day)
        assert window.start <= date.fromordinal(day.toordinal() - 30)
        assert window.end >= date.fromordinal(day.toordinal() + 365)
