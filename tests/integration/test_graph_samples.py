"""Graph JSON files (our fixtures and, when present, the shared real-world samples) read without a crash.

Valid events come out normalised; a broken event is reported with its reason and never costs the
rest of the file — what a user running ``coverwatch detect`` on saved Graph JSON would notice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.connectors.graph import read_graph_bytes
from chalicelib.models import CalendarEvent, EventKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graph"
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "graph"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []


def _read(path: Path) -> tuple[dict[str, CalendarEvent], dict[str | None, str], list[str]]:
    result = read_graph_bytes(path.read_bytes(), path.name)
    return {e.uid: e for e in result.events}, {p.uid: p.message for p in result.problems}, result.removed


def test_mixed_page_keeps_good_events_and_explains_bad_ones() -> None:
    events, problems, removed = _read(FIXTURES / "delta_page_mixed.json")

    review = events["AAMkAGI2-ok-berlin"]
    assert review.start == datetime(2027, 2, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))  # Windows zone name
    assert review.changed == "2027-01-10T10:00:00.1234567Z"
    assert removed == ["AAMkAGI2-gone"]
    assert problems == {
        "AAMkAGI2-no-start": "start has no dateTime",
        "AAMkAGI2-backwards": problems["AAMkAGI2-backwards"],
        "AAMkAGI2-bad-zone": "start.timeZone 'tzone://Microsoft/Custom' is not a known time zone",
        "AAMkAGI2-bad-date": "start.dateTime is not a date-time: 'sometime in March'",
        None: "entry is not a JSON object",
        "AAMkAGI2-occ-1": "occurrence without its series master in this file",
    }
    assert "is before start" in problems["AAMkAGI2-backwards"]
    assert len(events) == 1


def test_not_json_is_one_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"value": [')
    events, problems, _ = _read(broken)
    assert events == {}
    assert list(problems) == [None]
    assert problems[None].startswith("not a JSON file")


def test_mailbox_fixture_reads_completely() -> None:
    events, problems, _ = _read(FIXTURES / "mailbox_anna.json")
    assert problems == {}
    assert len(events) == 5


@pytest.mark.skipif(not SAMPLE_FILES, reason="no shared Graph samples in this checkout")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_shared_sample_reads_without_a_crash(path: Path) -> None:
    result = read_graph_bytes(path.read_bytes(), path.name)
    assert result.events or result.removed or result.problems
    for problem in result.problems:
        assert problem.message
    for event in result.events:
        assert event.start.tzinfo is not None or event.all_day
        stored = event.model_dump_json()
        assert "samanthab@" not in stored  # the organiser is dropped
        assert "<html>" not in stored  # and so is the body


@pytest.mark.skipif(not SAMPLE_FILES, reason="no shared Graph samples in this checkout")
def test_shared_samples_give_the_expected_events() -> None:
    def only(name: str) -> CalendarEvent:
        [event] = _read(SAMPLES / name)[0].values()
        return event

    if (SAMPLES / "msgraph-docs__calendarview-delta_nextround_removed.json").exists():
        events, _, removed = _read(SAMPLES / "msgraph-docs__calendarview-delta_nextround_removed.json")
        service = events["AAMkADj1HvAAA="]
        assert service.country_hint == "US"  # "United States" normalised
        assert service.coordinates == (47.6105, -122.321)
        assert removed == ["AAMkADk0MGFkODE3LWE4MmYtNDRhOS04OGQLkRkXbBznTvAADb6ytyAAA="]
    if (SAMPLES / "onedrive-perl__personal_appointment_showAs-oof.json").exists():
        oof = only("onedrive-perl__personal_appointment_showAs-oof.json")
        assert oof.kind == EventKind.OUT_OF_OFFICE
    if (SAMPLES / "onedrive-perl__personal_yearly_allday.json").exists():
        memorial = only("onedrive-perl__personal_yearly_allday.json")
        assert memorial.all_day
        assert memorial.start == datetime(2016, 6, 6)
    if (SAMPLES / "msgraph-docs__create-event_multiple-locations_response.json").exists():
        picnic = only("msgraph-docs__create-event_multiple-locations_response.json")
        assert picnic.start == datetime(2017, 8, 30, 18, tzinfo=UTC)
        assert picnic.country_hint == "US"
