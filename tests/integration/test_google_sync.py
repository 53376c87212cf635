"""Google Calendar sync through google-api-python-client and google-auth against the local fake.

What a user relies on: the first sync reads the whole window page by page, every later sync asks
Google only for what changed (one request when nothing did), deletions and moves out of the window
remove evidence, and an expired sync token or a moved window quietly starts over.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.connectors.base import SyncWindow
from chalicelib.connectors.google import GoogleCalendarSource
from chalicelib.connectors.google_auth import GoogleServices, ServiceAccountKey
from chalicelib.models import CalendarEvent, Connection, EventKind, SourceKind
from tests.fakes.google_server import FakeGoogle, new_service_account, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google"
ANNA = "anna.schmidt@example.com"
WINDOW = SyncWindow(date(2026, 12, 16), date(2028, 1, 15))
CONNECTION = Connection(id="google:anna", employee_id="anna", source=SourceKind.GOOGLE, account=ANNA)


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())["items"]
    return items


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with serve() as running:
        running.add_user(ANNA)
        for item in _items("calendar_anna.json"):
            running.put_event(ANNA, item)
        yield running


@pytest.fixture
def services(fake: FakeGoogle) -> GoogleServices:
    info, public_pem = new_service_account(fake.token_uri)
    fake.register_service_account(info, public_pem)
    return GoogleServices(ServiceAccountKey.model_validate(info), api_endpoint=fake.api_endpoint)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(services: GoogleServices, sleeps: list[float]) -> GoogleCalendarSource:
    return GoogleCalendarSource(services, page_size=3, sleep=sleeps.append)


def _by_uid(events: list[CalendarEvent]) -> dict[str, CalendarEvent]:
    return {e.uid: e for e in events}


def test_first_sync_reads_the_window_page_by_page_and_keeps_the_sync_token(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    result = source.sync(CONNECTION, None, WINDOW)

    assert result.full
    assert len(result.events) == 9  # the June 2026 trip lies before the window
    assert "old0trip2026june" not in _by_uid(result.events)
    calls = fake.api_requests()
    assert len(calls) == result.requests == 3  # 9 events, 3 per page
    first, *rest = calls
    assert first.query["singleEvents"] == ["true"]
    assert first.query["timeMin"] == ["2026-12-16T00:00:00Z"]
    assert first.query["timeMax"] == ["2028-01-16T00:00:00Z"]
    assert first.query["maxResults"] == ["3"]
    assert all("pageToken" in c.query for c in rest)
    assert all(c.user == ANNA for c in calls)
    cursor = json.loads(result.cursor or "")
    assert cursor["window_start"] == "2026-12-16"
    assert cursor["window_end"] == "2028-01-15"
    assert cursor["syncToken"]
    assert not result.problems


def test_events_are_normalised_for_detection(source: GoogleCalendarSource) -> None:
    events = _by_uid(source.sync(CONNECTION, None, WINDOW).events)

    offsite = events["7h8i9j0k1l2m3n4o5p6q7r8s9t"]
    assert offsite.all_day
    assert (offsite.start, offsite.end) == (datetime(2027, 3, 3), datetime(2027, 3, 4))  # end exclusive
    assert offsite.location == "Paris, France"
    assert offsite.show_as == "transparent"

    flight = events["_6tlnaqrle5p6cpb4dhmj4phpehomscridgq64obidcsn4djmd5q6es9mdpk"]
    assert flight.title == "Flight to Paris (AF 1419)"
    assert flight.location == "Frankfurt FRA"
    assert flight.start == datetime(2027, 3, 2, 17, 0, tzinfo=UTC)
    assert str(flight.start.tzinfo) == "Europe/Berlin"
    assert str(flight.end.tzinfo) == "Europe/Paris"

    workshop = events["nyc1a2b3c4d5e6f7g8h9i0j1k2"]
    assert workshop.start.utcoffset() == timedelta(hours=-4)  # shown in its own zone, same instant
    assert workshop.start.hour == 10

    assert events["ooo0a1b2c3d4e5f6g7h8i9j0k1"].kind == EventKind.OUT_OF_OFFICE
    home, office, custom = (events[u] for u in ("wl1home20270208", "wl2office20270209", "wl3custom20270210"))
    assert {e.kind for e in (home, office, custom)} == {EventKind.WORKING_LOCATION}
    assert (home.location, office.location, custom.location) == (
        "Home office",
        "Zurich HQ",
        "Client site Lyon",
    )

    meeting = events["4f1c2d3e5a6b7c8d9e0f1a2b3c"]
    assert meeting.changed  # Google's `updated`
    assert meeting.source == SourceKind.GOOGLE
    assert meeting.calendar_id == "primary"
    assert events["standup5k2j3h4g5f6d7s8a9_20270215T080000Z"].title == "Stand-up"  # instance id, not iCalUID


def test_bodies_attendees_organisers_and_meeting_links_are_never_kept(source: GoogleCalendarSource) -> None:
    stored = json.dumps([e.model_dump(mode="json") for e in source.sync(CONNECTION, None, WINDOW).events])

    for secret in (
        "Salary bands",
        "PIN 99812",
        "boss@example.com",
        "The Boss",
        "meet.google.com",
        "unknownorganizer",
        "mail.google.com",
        "On holiday with my family",
        "g.co/calendar",
    ):
        assert secret not in stored


def test_an_unchanged_calendar_costs_exactly_one_request(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    before = len(fake.requests)

    second = source.sync(CONNECTION, first.cursor, WINDOW)

    made = fake.requests[before:]
    assert len(made) == 1  # no token exchange: the access token is still valid
    assert second.requests == 1
    assert second.unchanged
    assert second.cursor == first.cursor  # nothing to write back either
    assert made[0].query["syncToken"] == [json.loads(first.cursor or "")["syncToken"]]
    assert "timeMin" not in made[0].query
    assert "timeMax" not in made[0].query


def test_later_syncs_return_only_changes_and_deletions(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    fake.update_event(ANNA, "7h8i9j0k1l2m3n4o5p6q7r8s9t", location="Lyon, France")
    fake.delete_event(ANNA, "4f1c2d3e5a6b7c8d9e0f1a2b3c")
    new_id = fake.put_event(
        ANNA,
        {
            "summary": "Site visit Vienna",
            "location": "Vienna",
            "start": {"date": "2027-05-10"},
            "end": {"date": "2027-05-12"},
        },
    )

    second = source.sync(CONNECTION, first.cursor, WINDOW)

    assert not second.full
    assert {e.uid for e in second.events} == {"7h8i9j0k1l2m3n4o5p6q7r8s9t", new_id}
    assert _by_uid(second.events)["7h8i9j0k1l2m3n4o5p6q7r8s9t"].location == "Lyon, France"
    assert second.removed == ["4f1c2d3e5a6b7c8d9e0f1a2b3c"]
    assert second.cursor != first.cursor
    third = source.sync(CONNECTION, second.cursor, WINDOW)
    assert third.unchanged


def test_incremental_sync_pages_with_the_same_sync_token(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    for day in range(1, 8):
        fake.put_event(
            ANNA,
            {
                "summary": f"Trip day {day}",
                "location": "Madrid",
                "start": {"date": f"2027-06-{day:02d}"},
                "end": {"date": f"2027-06-{day + 1:02d}"},
            },
        )
    before = len(fake.api_requests())

    second = source.sync(CONNECTION, first.cursor, WINDOW)

    calls = fake.api_requests()[before:]
    assert len(calls) == 3  # 7 changes, 3 per page
    token = json.loads(first.cursor or "")["syncToken"]
    assert all(c.query["syncToken"] == [token] for c in calls)
    assert all("pageToken" in c.query for c in calls[1:])
    assert len(second.events) == 7


def test_changes_outside_the_window_are_filtered_and_moves_out_remove_the_event(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    far = fake.put_event(
        ANNA,
        {
            "summary": "Tokyo 2029",
            "location": "Tokyo",
            "start": {"date": "2029-03-01"},
            "end": {"date": "2029-03-05"},
        },
    )
    fake.update_event(
        ANNA, "7h8i9j0k1l2m3n4o5p6q7r8s9t", start={"date": "2029-01-10"}, end={"date": "2029-01-11"}
    )

    second = source.sync(CONNECTION, first.cursor, WINDOW)

    assert second.events == []
    assert sorted(second.removed) == sorted([far, "7h8i9j0k1l2m3n4o5p6q7r8s9t"])


def test_an_expired_sync_token_starts_a_full_sync(fake: FakeGoogle, source: GoogleCalendarSource) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    fake.invalidate_sync_tokens()
    before = len(fake.api_requests())

    again = source.sync(CONNECTION, first.cursor, WINDOW)

    calls = fake.api_requests()[before:]
    assert "syncToken" in calls[0].query  # answered 410 fullSyncRequired
    assert "timeMin" in calls[1].query
    assert again.full
    assert len(again.events) == 9
    assert again.requests == len(calls) == 4
    assert again.cursor != first.cursor
    assert source.sync(CONNECTION, again.cursor, WINDOW).unchanged


def test_a_moved_window_or_an_unreadable_cursor_starts_a_full_sync(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    later = SyncWindow(date(2027, 1, 15), date(2028, 2, 14))

    moved = source.sync(CONNECTION, first.cursor, later)
    garbled = source.sync(CONNECTION, "not json", WINDOW)

    assert moved.full
    assert json.loads(moved.cursor or "")["window_start"] == "2027-01-15"
    assert garbled.full
    assert all("syncToken" not in c.query for c in fake.api_requests())


def test_the_service_is_built_offline_and_talks_only_to_the_local_fake(
    fake: FakeGoogle, services: GoogleServices
) -> None:
    service = services(ANNA)

    request = service.events().list(calendarId="primary", singleEvents=True)

    assert request.uri.startswith(fake.api_endpoint)
    assert request.uri.startswith("http://127.0.0.1:")
    assert services(ANNA) is service  # one service per thread and user
