"""The scan use case on moto: a moved event moves the trip and alerts again; a vanished one closes it."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.bootstrap import Settings
from chalicelib.models import CalendarEvent, SourceKind
from chalicelib.scan import ScanDeps, scan_employee
from tests.builders import employee

PARIS = ZoneInfo("Europe/Paris")


def _meeting(day: date, uid: str = "meeting-1@example.com") -> CalendarEvent:
    return CalendarEvent(
        source=SourceKind.ICS,
        calendar_id="anna.ics",
        uid=uid,
        title="Client workshop",
        location="Client HQ, 12 Rue de la Paix, Paris",
        start=datetime(day.year, day.month, day.day, 9, tzinfo=PARIS),
        end=datetime(day.year, day.month, day.day, 17, tzinfo=PARIS),
    )


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    return ScanDeps(
        repo=bootstrap.repository(mocked_aws),
        notifier=OutboxNotifier(tmp_path / "out", mocked_aws.sender),
        hr_email="hr@example.com",
        decided_on=date(2027, 1, 15),
    )


def _mails(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").glob("*.eml"))


def test_a_moved_meeting_moves_the_trip_and_tells_hr_again(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    first = scan_employee(anna, [_meeting(date(2027, 3, 3))], deps)
    assert first.alerts_sent == 1

    moved = scan_employee(anna, [_meeting(date(2027, 3, 10))], deps)

    (result,) = moved.results
    assert result.trip.id == first.results[0].trip.id, "the trip keeps its id when its event moves"
    assert (result.trip.start, result.write.value, result.alerted) == (date(2027, 3, 10), "updated", True)
    (stored,) = deps.repo.trips_of(anna.id)
    assert (stored.trip.start, stored.version) == (date(2027, 3, 10), 2)
    assert len(_mails(tmp_path)) == 2


def test_a_cancelled_meeting_closes_the_case(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    scan_employee(anna, [_meeting(date(2027, 3, 3))], deps)
    assert deps.repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31))

    report = scan_employee(anna, [], deps)

    assert [t.country for t in report.cancelled] == ["FR"]
    (stored,) = deps.repo.trips_of(anna.id)
    assert stored.trip.cancelled
    assert deps.repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    assert scan_employee(anna, [], deps).cancelled == [], "a closed case is closed once"
    assert len(_mails(tmp_path)) == 1


def test_past_trips_are_stored_but_neither_alerted_nor_cancelled(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    report = scan_employee(anna, [_meeting(date(2027, 1, 5))], deps)
    assert [r.assessment.status.value for r in report.results] == ["certificate_required"]
    assert report.alerts_sent == 0
    assert scan_employee(anna, [], deps).cancelled == []
