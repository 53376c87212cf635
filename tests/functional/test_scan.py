"""The scan use case on moto: a moved event moves the trip and alerts again; a vanished one closes it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chalicelib.bootstrap import Settings
from chalicelib.scan import ScanDeps, scan_employee
from tests.builders import certificate, employee, paris_meeting, scan_deps


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    return scan_deps(mocked_aws, tmp_path / "out")


def _mails(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").glob("*.eml"))


def test_a_moved_meeting_moves_the_trip_and_tells_hr_again(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    first = scan_employee(anna, [paris_meeting(date(2027, 3, 3))], deps)
    assert first.alerts_sent == 1

    moved = scan_employee(anna, [paris_meeting(date(2027, 3, 10))], deps)

    (result,) = moved.results
    assert result.trip.id == first.results[0].trip.id, "the trip keeps its id when its event moves"
    assert (result.trip.start, result.write.value, result.alerted) == (date(2027, 3, 10), "updated", True)
    (stored,) = deps.repo.trips_of(anna.id)
    assert (stored.trip.start, stored.version) == (date(2027, 3, 10), 2)
    mails = _mails(tmp_path)
    assert len(mails) == 2
    text = (tmp_path / "out" / mails[1]).read_text()
    assert "has moved (it was 2027-03-03)" in text
    assert "may need to be amended" in text


def test_a_cancelled_meeting_closes_the_case(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    scan_employee(anna, [paris_meeting(date(2027, 3, 3))], deps)
    assert deps.repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31))

    report = scan_employee(anna, [], deps)

    assert [t.country for t in report.cancelled] == ["FR"]
    (stored,) = deps.repo.trips_of(anna.id)
    assert stored.trip.cancelled
    assert deps.repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    assert scan_employee(anna, [], deps).cancelled == [], "a closed case is closed once"
    mails = _mails(tmp_path)
    assert [m.split("-", 2)[2].split("-anna")[0] for m in mails] == ["a1-missing", "resolved"]
    assert "was cancelled" in (tmp_path / "out" / mails[1]).read_text()


def test_a_recorded_certificate_sends_the_all_clear_once(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    scan_employee(anna, [paris_meeting(date(2027, 3, 3))], deps)
    deps.repo.put_certificate(certificate(date(2027, 3, 1), date(2027, 3, 31)))
    for _ in range(2):
        report = scan_employee(anna, [paris_meeting(date(2027, 3, 3))], deps)
        assert [r.assessment.status.value for r in report.results] == ["covered"]
    mails = _mails(tmp_path)
    assert len(mails) == 2
    assert "a certificate is now on record" in (tmp_path / "out" / mails[1]).read_text()


def test_no_all_clear_for_a_case_hr_was_never_told_about(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    deps.repo.put_certificate(certificate(date(2027, 3, 1), date(2027, 3, 31)))
    scan_employee(anna, [paris_meeting(date(2027, 3, 3))], deps)
    scan_employee(anna, [], deps)
    assert _mails(tmp_path) == []


def test_past_trips_are_stored_but_neither_alerted_nor_cancelled(deps: ScanDeps, tmp_path: Path) -> None:
    anna = employee(home="DE")
    report = scan_employee(anna, [paris_meeting(date(2027, 1, 5))], deps)
    assert [r.assessment.status.value for r in report.results] == ["certificate_required"]
    assert report.alerts_sent == 0
    assert scan_employee(anna, [], deps).cancelled == []
