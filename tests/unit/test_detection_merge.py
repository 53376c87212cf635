"""One stay seen in several calendars and bookings is one trip, with a stable id and all its evidence."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.detection.trips import detect_trips
from chalicelib.models import CalendarEvent, SourceKind, Trip

BERLIN = ZoneInfo("Europe/Berlin")
BOSTON = ZoneInfo("America/New_York")


def make(
    uid: str, source: SourceKind, start: datetime, end: datetime, title: str, **extra: object
) -> CalendarEvent:
    return CalendarEvent.model_validate(
        {"source": source, "calendar_id": f"{source.value}-cal", "uid": uid, "title": title,
         "start": start, "end": end, **extra}
    )  # fmt: skip


def outlook_kickoff(first_day: int = 5) -> CalendarEvent:
    start = datetime(2027, 4, first_day)
    return make("outlook-kickoff", SourceKind.GRAPH, start, start + timedelta(days=3), "Project kickoff",
                location="Boston, MA", all_day=True)  # fmt: skip


def ics_flight() -> CalendarEvent:
    return make("uid-flight@example.com", SourceKind.ICS, datetime(2027, 4, 5, 10, 35, tzinfo=BERLIN),
                datetime(2027, 4, 5, 12, 55, tzinfo=BOSTON), "LH 422 FRA → BOS")  # fmt: skip


def booked_flight(cancelled: bool = False) -> CalendarEvent:
    return make("booking-0a1b2c", SourceKind.BOOKING, datetime(2027, 4, 5, 10, 35, tzinfo=BERLIN),
                datetime(2027, 4, 5, 12, 55, tzinfo=BOSTON), "LH422 FRA → BOS",
                categories=("booking", "flight"), country_hint="US", origin_country="DE",
                cancelled=cancelled)  # fmt: skip


def booked_return() -> CalendarEvent:
    return make("booking-9f8e7d", SourceKind.BOOKING, datetime(2027, 4, 9, 17, 40, tzinfo=BOSTON),
                datetime(2027, 4, 10, 0, 0, tzinfo=BOSTON), "LH423 BOS → FRA",
                categories=("booking", "flight"), country_hint="DE", origin_country="US")  # fmt: skip


def one(trips: list[Trip]) -> Trip:
    assert len(trips) == 1, trips
    return trips[0]


def test_the_same_stay_in_outlook_a_booking_and_an_ics_feed_is_one_trip_with_all_the_evidence() -> None:
    trip = one(detect_trips("emp", "DE", [outlook_kickoff(), ics_flight(), booked_flight(), booked_return()]))

    assert (trip.country, trip.start.isoformat(), trip.end.isoformat()) == ("US", "2027-04-05", "2027-04-09")
    assert {e.source for e in trip.evidence} == {SourceKind.GRAPH, SourceKind.ICS, SourceKind.BOOKING}
    assert len(trip.evidence) == 4
    assert all(e.rule and e.summary for e in trip.evidence)


def test_confidence_rises_with_independent_sources() -> None:
    alone = one(detect_trips("emp", "DE", [outlook_kickoff()]))
    two = one(detect_trips("emp", "DE", [outlook_kickoff(), ics_flight()]))
    three = one(detect_trips("emp", "DE", [outlook_kickoff(), ics_flight(), booked_flight()]))

    assert alone.confidence < two.confidence < three.confidence <= 0.99


def test_adding_a_booking_to_a_known_stay_keeps_its_id() -> None:
    # the booking uids ("booking-...") sort before the calendar uids: the id still does not change
    calendar_only = one(detect_trips("emp", "DE", [outlook_kickoff(), ics_flight()]))
    with_bookings = one(
        detect_trips("emp", "DE", [booked_return(), outlook_kickoff(), booked_flight(), ics_flight()])
    )

    assert with_bookings.id == calendar_only.id
    assert with_bookings.end > calendar_only.end  # the booked return now dates the end


def test_the_id_survives_a_rescan_and_a_moved_entry_and_the_dates_follow_the_move() -> None:
    before = one(detect_trips("emp", "DE", [outlook_kickoff(5)]))
    again = one(detect_trips("emp", "DE", [outlook_kickoff(5)]))
    moved = one(detect_trips("emp", "DE", [outlook_kickoff(19)]))

    assert before.id == again.id == moved.id
    assert before == again
    assert moved.start.isoformat() == "2027-04-19"


def test_a_cancelled_entry_cancels_its_part_of_the_trip() -> None:
    assert detect_trips("emp", "DE", [booked_flight(cancelled=True)]) == []
    trip = one(detect_trips("emp", "DE", [outlook_kickoff(), booked_flight(cancelled=True)]))
    assert {e.source for e in trip.evidence} == {SourceKind.GRAPH}


def test_a_trip_seen_only_in_bookings_has_an_id_too_and_it_is_stable() -> None:
    first = one(detect_trips("emp", "DE", [booked_flight(), booked_return()]))
    second = one(detect_trips("emp", "DE", [booked_return(), booked_flight()]))

    assert first.id == second.id
    assert first.id.startswith("trp_")
