"""HR's daily digest: open cases by urgency, what is new, once a day, and silence on quiet days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib.bootstrap import Settings
from chalicelib.digest import send_digest
from chalicelib.scan import ScanDeps
from tests.builders import assessment, scan_deps, trip


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    return scan_deps(mocked_aws, tmp_path / "out")


def _mail(tmp_path: Path) -> list[str]:
    return [p.read_text() for p in sorted((tmp_path / "out").glob("*.eml"))]


def test_the_digest_lists_open_cases_most_urgent_first_and_goes_out_once(
    deps: ScanDeps, tmp_path: Path
) -> None:
    day1 = replace(deps, decided_on=date(2027, 1, 14))
    day1.repo.save_trip(
        trip(date(2027, 5, 3), id="later", country="US"),
        assessment(decided_on=day1.decided_on, apply_by=date(2027, 3, 22)),
    )
    deps.repo.save_trip(trip(date(2027, 2, 3), id="soon"), assessment(apply_by=date(2027, 1, 20)))
    assert send_digest(deps) is True
    assert send_digest(deps) is False, "one digest a day"
    (text,) = _mail(tmp_path)
    soon, later = text.index("France 2027-02-03"), text.index("United States 2027-05-03")
    assert soon < later, "the case with the nearest apply-by comes first"
    assert "Open cases, most urgent first (2)" in text
    assert "New since yesterday (2)" in text  # both first seen on 2027-01-14 or 15
    assert "apply within 5 days" in text


def test_a_quiet_day_sends_nothing_unless_asked(deps: ScanDeps, tmp_path: Path) -> None:
    old = replace(deps, decided_on=date(2027, 1, 1))
    old.repo.save_trip(trip(date(2027, 3, 3)), assessment(decided_on=old.decided_on))
    assert send_digest(deps) is False
    assert send_digest(deps, send_when_quiet=True) is True
    assert "New since yesterday (0)" in _mail(tmp_path)[0]
