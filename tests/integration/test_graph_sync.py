"""Outlook calendars read through msal + requests against the fake Graph: what a user would notice.

An unchanged mailbox costs one request, changes and deletions arrive, dead delta links and moved
windows rebuild the calendar, throttling and outages are waited out (bounded), and nothing private
(bodies, attendees, meeting links) survives normalisation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.connectors.base import ConnectorError, SyncWindow
from chalicelib.connectors.graph import GraphCalendarSource
from chalicelib.connectors.graph_auth import GraphAuth, GraphCredentials, graph_auth
from chalicelib.models import CalendarEvent, Connection, EventKind, SourceKind
from tests.fakes.graph_server import GRAPH_BASE, LOGIN, FakeGraph, RunningGraph, make_event, running_graph

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graph"
USER = "anna.schmidt@example.com"
WINDOW = SyncWindow(date(2027, 1, 1), date(2027, 12, 31))
CONNECTION = Connection(id="graph-anna", employee_id="anna", source=SourceKind.GRAPH, account=USER)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake() -> Iterator[RunningGraph]:
    with running_graph() as running:
        running.graph.register_client("tenant-1", "client-1", secret="s3cret-value")
        for event in json.loads((FIXTURES / "mailbox_anna.json").read_text()):
            running.graph.put_event(USER, event)
        yield running


@pytest.fixture
def auth(fake: RunningGraph) -> GraphAuth:
    creds = GraphCredentials.model_validate(
        {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "s3cret-value"}
    )
    return graph_auth(creds, authority_host=LOGIN, http_client=fake.session)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def source(fake: RunningGraph, auth: GraphAuth, sleeps: Sleeps) -> GraphCalendarSource:
    return GraphCalendarSource(auth, session=fake.session, graph_base=GRAPH_BASE, page_size=2, sleep=sleeps)


def _by_uid(events: list[CalendarEvent]) -> dict[str, CalendarEvent]:
    return {e.uid: e for e in events}


def _meeting(event_id: str, subject: str, day: int, **extra: Any) -> dict[str, Any]:
    return make_event(
        event_id,
        subject,
        datetime(2027, 6, day, 9, tzinfo=UTC),
        datetime(2027, 6, day, 10, tzinfo=UTC),
        **extra,
    )


def test_first_sync_reads_every_page_with_one_prefer_header(
    source: GraphCalendarSource, fake: RunningGraph
) -> None:
    result = source.sync(CONNECTION, None, WINDOW)

    assert result.full
    assert len(result.events) == 5
    assert result.requests == 3  # 5 events at 2 per page
    calls = fake.graph.graph_calls("calendarView/delta")
    assert calls[0].query["startDateTime"] == ["2027-01-01T00:00:00Z"]
    assert calls[0].query["endDateTime"] == ["2028-01-01T00:00:00Z"]
    assert "$skiptoken" in calls[1].query
    assert {c.headers["prefer"] for c in calls} == {
        'outlook.timezone="UTC", IdType="ImmutableId", odata.maxpagesize=2'
    }
    cursor = json.loads(result.cursor or "")
    assert cursor["deltaLink"].startswith(f"{GRAPH_BASE}/users/{USER}/calendarView/delta?$deltatoken=")
    assert (cursor["window_start"], cursor["window_end"]) == ("2027-01-01", "2027-12-31")


def test_unchanged_calendar_costs_exactly_one_request(
    source: GraphCalendarSource, fake: RunningGraph
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    before = len(fake.graph.calls)

    again = source.sync(CONNECTION, first.cursor, WINDOW)

    assert again.requests == 1
    assert len(fake.graph.calls) - before == 1  # no token request either: msal served its cache
    assert again.unchanged
    assert again.cursor != first.cursor  # a fresh delta link for next time
    assert source.sync(CONNECTION, again.cursor, WINDOW).requests == 1


def test_changes_and_deletions_arrive_incrementally(source: GraphCalendarSource, fake: RunningGraph) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    fake.graph.put_event(USER, _meeting("evt-new", "Kick-off Vienna", 7, location={"displayName": "Vienna"}))
    moved = json.loads((FIXTURES / "mailbox_anna.json").read_text())[0]
    moved["subject"] = "Customer workshop Lyon"
    fake.graph.put_event(USER, moved)
    fake.graph.delete_event(USER, "AAMkAGI2TGuLAAA=berlin")

    result = source.sync(CONNECTION, first.cursor, WINDOW)

    assert not result.full
    assert {e.uid: e.title for e in result.events} == {
        "evt-new": "Kick-off Vienna",
        "AAMkAGI2TGuLAAA=paris": "Customer workshop Lyon",
    }
    assert result.removed == ["AAMkAGI2TGuLAAA=berlin"]
    assert result.requests == 2  # three changes, two per page


@pytest.mark.parametrize("how", ["syncStateNotFound", "gone"])
def test_dead_delta_link_rebuilds_the_calendar(
    source: GraphCalendarSource, fake: RunningGraph, how: str
) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    fake.graph.expire_delta_tokens(how)

    result = source.sync(CONNECTION, first.cursor, WINDOW)

    assert result.full
    assert len(result.events) == 5
    assert result.requests == 1 + 3  # the refused link, then a whole new round
    assert source.sync(CONNECTION, result.cursor, WINDOW).requests == 1


def test_moved_window_starts_a_new_round(source: GraphCalendarSource, fake: RunningGraph) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    later = SyncWindow(date(2027, 3, 5), date(2028, 3, 4))

    result = source.sync(CONNECTION, first.cursor, later)

    assert result.full
    assert sorted(e.uid for e in result.events) == [
        "AAMkAGI2TGuLAAA=madrid",
        "AAMkAGI2TGuLAAA=oof",
        "AAMkAGI2TGuLAAA=zurich",
    ]
    assert "$deltatoken" not in fake.graph.graph_calls()[-1].query
    assert json.loads(result.cursor or "")["window_start"] == "2027-03-05"


def test_unreadable_cursor_starts_over(source: GraphCalendarSource) -> None:
    result = source.sync(CONNECTION, "not json", WINDOW)
    assert result.full
    assert len(result.events) == 5


def test_occurrences_take_subject_and_place_from_their_master_read_once(
    source: GraphCalendarSource, fake: RunningGraph
) -> None:
    master = _meeting(
        "series-1",
        "Weekly site visit Warsaw",
        7,
        location={
            "displayName": "Warsaw plant",
            "address": {"city": "Warszawa", "countryOrRegion": "Poland"},
        },
        categories=["Travel"],
    )
    occ = fake.graph.add_series(
        USER,
        master,
        [(datetime(2027, 6, d, 9, tzinfo=UTC), datetime(2027, 6, d, 17, tzinfo=UTC)) for d in (7, 14, 21)],
    )

    result = source.sync(CONNECTION, None, WINDOW)

    events = _by_uid(result.events)
    assert "series-1" not in events  # the master is not an event of its own
    for occ_id in occ:
        assert events[occ_id].title == "Weekly site visit Warsaw"
        assert events[occ_id].country_hint == "PL"
        assert events[occ_id].categories == ("Travel",)
    assert events[occ[1]].start == datetime(2027, 6, 14, 9, tzinfo=UTC)
    master_calls = fake.graph.graph_calls("/events/series-1")
    assert len(master_calls) == 1
    assert master_calls[0].headers["prefer"].startswith('outlook.timezone="UTC", IdType="ImmutableId"')
    assert "body" not in master_calls[0].query["$select"][0]

    fake.graph.put_event(USER, {**master, "type": "seriesMaster", "subject": "Weekly site visit Gdansk"})
    renamed = source.sync(CONNECTION, result.cursor, WINDOW)
    assert {e.title for e in renamed.events} == {"Weekly site visit Gdansk"}
    assert len(renamed.events) == 3
    assert len(fake.graph.graph_calls("/events/series-1")) == 2  # once per sync


def test_occurrence_of_a_vanished_master_is_reported(source: GraphCalendarSource, fake: RunningGraph) -> None:
    occ = fake.graph.add_series(
        USER,
        _meeting("series-2", "Gone", 8),
        [(datetime(2027, 6, 8, 9, tzinfo=UTC), datetime(2027, 6, 8, 10, tzinfo=UTC))],
    )
    fake.graph.mailbox(USER).events.pop("series-2")

    result = source.sync(CONNECTION, None, WINDOW)

    assert occ[0] not in _by_uid(result.events)
    assert [(p.uid, p.message) for p in result.problems] == [(occ[0], "series master no longer exists")]


def test_normalised_events_keep_what_detection_needs_and_nothing_private(source: GraphCalendarSource) -> None:
    result = source.sync(CONNECTION, None, WINDOW)
    events = _by_uid(result.events)

    paris = events["AAMkAGI2TGuLAAA=paris"]
    assert paris.source == SourceKind.GRAPH
    assert paris.title == "Customer workshop Paris"
    assert paris.location == "Contoso France"
    assert paris.address == "12 Rue de Rivoli, 75001, Paris, France"
    assert paris.country_hint == "FR"
    assert paris.coordinates == (48.8559, 2.3601)
    assert paris.categories == ("Travel", "Customer")
    assert paris.start == datetime(2027, 3, 3, 8, tzinfo=UTC)
    assert paris.changed is not None
    stored = paris.model_dump_json()
    for secret in ("Door code", "salary", "jean.dupont", "anna.schmidt@", "teams.microsoft.com"):
        assert secret not in stored

    oof = events["AAMkAGI2TGuLAAA=oof"]
    assert oof.kind == EventKind.OUT_OF_OFFICE
    assert oof.all_day
    assert (oof.start, oof.end) == (datetime(2027, 3, 8), datetime(2027, 3, 13))  # end exclusive

    zurich = events["AAMkAGI2TGuLAAA=zurich"]
    assert (zurich.kind, zurich.show_as, zurich.country_hint) == (EventKind.EVENT, "workingElsewhere", "CH")
    assert events["AAMkAGI2TGuLAAA=madrid"].cancelled
    assert events["AAMkAGI2TGuLAAA=berlin"].country_hint is None


def test_long_subjects_are_cut(source: GraphCalendarSource, fake: RunningGraph) -> None:
    fake.graph.put_event(USER, _meeting("long", "Trip " * 200, 9))
    event = _by_uid(source.sync(CONNECTION, None, WINDOW).events)["long"]
    assert len(event.title) == 500


def test_throttling_waits_retry_after_then_succeeds(
    source: GraphCalendarSource, fake: RunningGraph, sleeps: Sleeps
) -> None:
    fake.graph.fail_next(429, times=2, retry_after="7")

    result = source.sync(CONNECTION, None, WINDOW)

    assert len(result.events) == 5
    assert sleeps.waits == [7.0, 7.0]
    assert result.requests == 5


def test_endless_throttling_gives_up_with_retry_after(
    source: GraphCalendarSource, fake: RunningGraph, sleeps: Sleeps
) -> None:
    fake.graph.fail_next(429, times=99, retry_after="2")

    with pytest.raises(ConnectorError) as caught:
        source.sync(CONNECTION, None, WINDOW)

    assert caught.value.retry_after == 2.0
    assert not caught.value.permanent
    assert sleeps.waits == [2.0] * 4
    assert len(fake.graph.graph_calls()) == 5


def test_a_long_retry_after_goes_back_to_the_worker_instead_of_sleeping(
    source: GraphCalendarSource, fake: RunningGraph, sleeps: Sleeps
) -> None:
    """A Lambda has 60 s: sleeping out Graph's two minutes would time it out; the queue waits instead."""
    fake.graph.fail_next(429, times=99, retry_after="120")

    with pytest.raises(ConnectorError) as caught:
        source.sync(CONNECTION, None, WINDOW)

    assert caught.value.retry_after == 120.0
    assert sleeps.waits == []
    assert len(fake.graph.graph_calls()) == 1


def test_server_errors_back_off_exponentially(
    source: GraphCalendarSource, fake: RunningGraph, sleeps: Sleeps
) -> None:
    fake.graph.fail_next(503, times=3)
    assert len(source.sync(CONNECTION, None, WINDOW).events) == 5
    assert sleeps.waits == [1.0, 2.0, 4.0]

    fake.graph.fail_next(500, times=99)
    with pytest.raises(ConnectorError) as caught:
        source.sync(CONNECTION, None, WINDOW)
    assert caught.value.retry_after == 16.0
    assert "server error 500" in caught.value.reason


def test_expired_token_is_replaced_once(source: GraphCalendarSource, fake: RunningGraph) -> None:
    first = source.sync(CONNECTION, None, WINDOW)
    assert len(fake.graph.token_calls()) == 1
    fake.graph.expire_tokens()

    again = source.sync(CONNECTION, first.cursor, WINDOW)

    assert again.unchanged
    assert len(fake.graph.token_calls()) == 2
    assert again.requests == 2  # the refused call and its retry


def test_token_refused_twice_is_permanent(source: GraphCalendarSource, fake: RunningGraph) -> None:
    fake.graph.token_lifetime = -1  # every token the fake issues is already dead
    fake.graph.expire_tokens()
    with pytest.raises(ConnectorError) as caught:
        source.sync(CONNECTION, None, WINDOW)
    assert caught.value.permanent
    assert "401" in caught.value.reason


def test_mailbox_outside_the_access_policy_is_permanent(
    source: GraphCalendarSource, fake: RunningGraph
) -> None:
    fake.graph.deny_mailbox(USER)
    with pytest.raises(ConnectorError) as caught:
        source.sync(CONNECTION, None, WINDOW)
    assert caught.value.permanent
    assert "ErrorAccessDenied" in caught.value.reason


def test_unknown_mailbox_is_permanent(source: GraphCalendarSource) -> None:
    stranger = CONNECTION.model_copy(update={"account": "nobody@example.com"})
    with pytest.raises(ConnectorError) as caught:
        source.sync(stranger, None, WINDOW)
    assert caught.value.permanent


def test_fake_graph_refuses_requests_without_token() -> None:
    graph = FakeGraph()
    status, _, body = graph.handle("GET", f"/v1.0/users/{USER}/calendarView/delta", {}, b"")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"
