"""Saved Google ``events.list`` answers — ours and real public ones — read without a crash.

What a user relies on: an odd or broken event in a Google calendar is reported with the reason and
skipped; the rest of the calendar is still read.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from chalicelib.connectors.google import read_events_json
from chalicelib.models import SourceKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "google"
SAMPLES = sorted(SHARED.glob("*")) if SHARED.is_dir() else []


def test_broken_events_are_reported_with_the_reason_and_the_rest_is_read() -> None:
    read = read_events_json((FIXTURES / "broken_events.json").read_bytes(), "broken@example.com")

    assert [e.uid for e in read.events] == ["fine08"]
    assert read.removed == ["gone07"]
    reasons = {p.uid: p.message for p in read.problems}
    assert reasons["nostart01"] == "start is missing"
    assert "TBD" in reasons["tbd02"]
    assert "before start" in reasons["backwards03"]
    assert reasons[None].startswith(("event has neither id nor iCalUID", "event is not a JSON object"))
    assert "mix date and dateTime" in reasons["mixed05"]
    assert "no offset" in reasons["floating06"]
    assert len(read.problems) == 7
    assert all(p.source == SourceKind.GOOGLE for p in read.problems)


def test_a_calendar_time_zone_gives_floating_times_their_zone() -> None:
    doc = b"""{"kind": "calendar#events", "timeZone": "Europe/Madrid", "items": [
      {"id": "f1", "summary": "Kick-off", "start": {"dateTime": "2027-02-01T09:00:00"},
       "end": {"dateTime": "2027-02-01T10:00:00"}}]}"""

    (event,) = read_events_json(doc, "c").events

    assert str(event.start.tzinfo) == "Europe/Madrid"


def test_not_json_and_json_without_events_are_reported() -> None:
    assert "not JSON" in read_events_json(b"<html>502</html>", "c").problems[0].message
    assert read_events_json(b'{"kind": "calendar#calendarList"}', "c").problems[0].message == (
        "no Google events found in JSON"
    )


def test_our_own_fixture_reads_completely() -> None:
    read = read_events_json((FIXTURES / "calendar_anna.json").read_bytes(), "primary")

    assert len(read.events) == 10
    assert read.problems == []


@pytest.mark.skipif(not SAMPLES, reason="no shared Google samples in ../shared/samples/google")
@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_shared_google_sample_is_read_without_a_crash(sample: Path) -> None:
    read = read_events_json(sample.read_bytes(), sample.name)

    assert read.events or read.problems
    for problem in read.problems:
        assert problem.message
    for event in read.events:
        assert event.end >= event.start
        assert "description" not in event.model_dump()


@pytest.mark.skipif(not (SHARED / "shortpoet__sample_calendar.json").exists(), reason="shared sample absent")
def test_gmail_flight_events_keep_the_flight_and_the_departure_airport() -> None:
    read = read_events_json((SHARED / "shortpoet__sample_calendar.json").read_bytes(), "shortpoet")

    flights = {e.title: e for e in read.events if e.title.startswith("Flight to")}
    denver = flights["Flight to Denver (F9 279)"]
    assert denver.location == "St. Louis STL"
    assert denver.start.isoformat() == "2019-04-05T09:45:00-05:00"
    assert denver.show_as == "transparent"


@pytest.mark.skipif(not (SHARED / "libkgapi__events_fetch_page2_response.txt").exists(), reason="absent")
def test_a_raw_http_response_is_read_from_its_body() -> None:
    read = read_events_json((SHARED / "libkgapi__events_fetch_page2_response.txt").read_bytes(), "kde")

    (sprint,) = read.events
    assert sprint.title == "KDE PIM Sprint"
    assert sprint.location == "Toulouse, France"
    assert sprint.all_day
    assert (sprint.start, sprint.end) == (datetime(2018, 4, 20), datetime(2018, 4, 23))


@pytest.mark.skipif(not (SHARED / "relai__events.js.json").exists(), reason="shared sample absent")
def test_events_wrapped_in_another_envelope_are_found() -> None:
    read = read_events_json((SHARED / "relai__events.js.json").read_bytes(), "relai")

    mumbai = [e for e in read.events if e.location == "Mumbai"]
    assert len(mumbai) == 2
    assert str(mumbai[0].start.tzinfo) == "Asia/Kolkata"  # Google's offset, shown in the event's zone
    assert mumbai[0].start.isoformat() == "2021-04-23T01:00:00+05:30"
