"""The demo calendars in examples/calendars give exactly the foreign trips the demo story promises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chalicelib.connectors.ics import read_ics_file
from chalicelib.detection.trips import detect_trips
from chalicelib.models import Purpose, Trip

CALENDARS = Path(__file__).parents[2] / "examples" / "calendars"
HOME = {
    "anna.schmidt": "DE",
    "claire.martin": "FR",
    "ravi.iyer": "NL",
    "james.walker": "GB",
    "emily.carter": "US",
}
W, H = Purpose.WORK, Purpose.HOLIDAY
EXPECTED: dict[str, list[tuple[str, date, date, Purpose]]] = {
    "anna.schmidt": [
        ("FR", date(2027, 3, 3), date(2027, 3, 3), W),
        ("US", date(2027, 4, 5), date(2027, 4, 23), W),
    ],
    "claire.martin": [
        ("ES", date(2027, 4, 12), date(2027, 4, 23), H),
        ("CH", date(2027, 5, 18), date(2027, 5, 20), W),
    ],
    "ravi.iyer": [
        ("DE", date(2027, 3, 22), date(2027, 3, 24), W),
        ("DK", date(2027, 6, 8), date(2027, 6, 8), W),
    ],
    "james.walker": [("IE", date(2027, 3, 15), date(2027, 3, 16), W)],
    "emily.carter": [
        ("GB", date(2027, 5, 10), date(2027, 5, 14), W),
        ("SG", date(2027, 6, 21), date(2027, 6, 25), W),
    ],
}


def _trips(employee: str) -> list[Trip]:
    result = read_ics_file(CALENDARS / f"{employee}.ics")
    return detect_trips(employee, HOME[employee], result.events)


@pytest.mark.parametrize("employee", sorted(EXPECTED))
def test_demo_calendar_gives_exactly_the_expected_foreign_trips(employee: str) -> None:
    trips = _trips(employee)

    assert [(t.country, t.start, t.end, t.purpose) for t in trips] == EXPECTED[employee]
    assert all(t.country != HOME[employee] for t in trips)
    assert all(t.evidence and 0.5 <= t.confidence <= 1.0 for t in trips)


def test_demo_calendars_are_all_covered() -> None:
    assert sorted(p.stem for p in CALENDARS.glob("*.ics")) == sorted(EXPECTED)


def test_the_broken_demo_event_is_reported_and_the_rest_is_read() -> None:
    results = {name: read_ics_file(CALENDARS / f"{name}.ics") for name in EXPECTED}

    problems = [(name, p) for name, r in results.items() for p in r.problems]
    assert len(problems) == 1
    name, problem = problems[0]
    assert name == "ravi.iyer"
    assert problem.uid is not None
    assert "DTSTART" in problem.message
    assert "TBD" in problem.message
    assert len({e.uid.split("#")[0] for e in results["ravi.iyer"].events}) == 6  # series, not occurrences


def test_the_demo_shows_domestic_cancelled_and_virtual_entries_without_trips() -> None:
    anna = read_ics_file(CALENDARS / "anna.schmidt.ics").events
    titles = {e.title for e in anna}

    assert "Workshop Payroll Nord \u2013 Hamburg" in titles  # domestic
    assert any(e.cancelled for e in anna)  # the Milan workshop
    assert {"Microsoft Teams Meeting", "Room 4.12", "Home office"} <= {e.location for e in anna}
    assert {t.country for t in _trips("anna.schmidt")} == {"FR", "US"}
