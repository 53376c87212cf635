"""The presence timeline: where journeys, hotels and meetings put a traveler, day by day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.connectors.bookings import read_reservations
from chalicelib.detection.trips import detect_trips
from chalicelib.models import CalendarEvent, Purpose, SourceKind, Trip

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
DOHA = ZoneInfo("Asia/Qatar")
SINGAPORE = ZoneInfo("Asia/Singapore")
BOSTON = ZoneInfo("America/New_York")


def event(
    uid: str,
    start: datetime,
    end: datetime,
    title: str = "",
    location: str | None = None,
    source: SourceKind = SourceKind.ICS,
    **extra: object,
) -> CalendarEvent:
    return CalendarEvent.model_validate(
        {
            "source": source,
            "calendar_id": f"{source.value}-cal",
            "uid": uid,
            "title": title,
            "location": location,
            "start": start,
            "end": end,
            **extra,
        }
    )


def booked(
    uid: str, kind: str, start: datetime, end: datetime, to: str, origin: str | None, title: str
) -> CalendarEvent:
    """A booking segment as the bookings connector gives it (start = departure, end = arrival)."""
    return event(
        uid,
        start,
        end,
        title,
        source=SourceKind.BOOKING,
        categories=("booking", kind),
        country_hint=to,
        origin_country=origin,
    )


def hotel(uid: str, check_in: date, check_out: date, to: str, name: str) -> CalendarEvent:
    start = datetime.combine(check_in, datetime.min.time())
    end = datetime.combine(check_out + timedelta(days=1), datetime.min.time())
    return event(
        uid,
        start,
        end,
        f"Hotel: {name}",
        name,
        source=SourceKind.BOOKING,
        categories=("booking", "lodging"),
        country_hint=to,
        all_day=True,
    )


def meeting(uid: str, start: datetime, location: str, title: str = "Meeting") -> CalendarEvent:
    return event(uid, start, start + timedelta(hours=2), title, location)


def spans(trips: list[Trip]) -> list[tuple[str, date, date]]:
    return [(t.country, t.start, t.end) for t in trips]


def d(month: int, day: int) -> date:
    return date(2027, month, day)


def test_an_overnight_flight_places_the_traveler_abroad_from_the_local_arrival_day() -> None:
    # 22:00 from Frankfurt, 07:00 next morning in Tokyo; the calendar writes the end in Tokyo time
    flight = event("f", datetime(2027, 3, 1, 22, tzinfo=BERLIN), datetime(2027, 3, 2, 7, tzinfo=TOKYO),
                   "LH 716 FRA → HND")  # fmt: skip

    [trip] = detect_trips("emp", "DE", [flight])

    assert (trip.country, trip.start, trip.end) == ("JP", d(3, 2), d(3, 2))


def test_the_arrival_day_is_read_in_the_destination_zone_whatever_zone_the_end_is_written_in() -> None:
    # the same landing written in Frankfurt time (00:00): still the 2nd in Tokyo
    flight = event("f", datetime(2027, 3, 1, 22, tzinfo=BERLIN), datetime(2027, 3, 2, 0, tzinfo=BERLIN),
                   "LH 716 FRA → HND")  # fmt: skip
    # westbound over the date line: leaves Tokyo on the 2nd, lands in San Francisco on the 2nd
    back = event("b", datetime(2027, 3, 9, 17, tzinfo=TOKYO), datetime(2027, 3, 10, 2, tzinfo=TOKYO),
                 "NH 8 HND → SFO")  # fmt: skip

    trips = detect_trips("emp", "DE", [flight, back])

    assert spans(trips) == [("JP", d(3, 2), d(3, 9)), ("US", d(3, 9), d(3, 9))]


def test_a_booked_overnight_flight_counts_from_its_landing_day() -> None:
    reservation = {
        "@context": "https://schema.org/",
        "@type": "FlightReservation",
        "reservationNumber": "ABC123",
        "reservationFor": {
            "@type": "Flight",
            "flightNumber": "LH716",
            "departureAirport": {"@type": "Airport", "iataCode": "FRA"},
            "departureTime": "2027-03-01T22:00:00",
            "arrivalAirport": {"@type": "Airport", "iataCode": "HND"},
            "arrivalTime": "2027-03-02T07:00:00",
        },
    }
    [segment] = read_reservations(reservation, employee_id="emp").segments

    assert segment.event.origin_country == "DE"
    [trip] = detect_trips("emp", "DE", [segment.event])
    assert (trip.country, trip.start, trip.end) == ("JP", d(3, 2), d(3, 2))


def test_booked_flights_out_and_back_are_one_stay_even_without_meetings_in_between() -> None:
    out = booked("b-out", "flight", datetime(2027, 4, 5, 10, 15, tzinfo=BERLIN),
                 datetime(2027, 4, 5, 12, 40, tzinfo=BOSTON), "US", "DE", "LH422 FRA → BOS")  # fmt: skip
    back = booked("b-back", "flight", datetime(2027, 4, 23, 17, 35, tzinfo=BOSTON),
                  datetime(2027, 4, 24, 0, 0, tzinfo=BOSTON), "DE", "US", "LH423 BOS → FRA")  # fmt: skip

    [trip] = detect_trips("emp", "DE", [out, back])

    assert (trip.country, trip.start, trip.end, trip.purpose) == ("US", d(4, 5), d(4, 23), Purpose.UNKNOWN)
    assert [e.rule for e in trip.evidence] == ["booking.flight", "departure.booking.flight"]


def test_a_journey_through_two_countries_is_one_trip_per_country_and_the_change_day_counts_for_both() -> None:
    legs = [
        event("a", datetime(2027, 3, 1, 8, tzinfo=BERLIN), datetime(2027, 3, 1, 9, tzinfo=LONDON),
              "LH 900 FRA → LHR"),
        event("b", datetime(2027, 3, 4, 9, tzinfo=LONDON), datetime(2027, 3, 4, 11, tzinfo=PARIS),
              "BA 306 LHR → CDG"),
        event("c", datetime(2027, 3, 6, 18, tzinfo=PARIS), datetime(2027, 3, 6, 19, tzinfo=BERLIN),
              "AF 1018 CDG → FRA"),
    ]  # fmt: skip

    trips = detect_trips("emp", "DE", legs)

    assert spans(trips) == [("GB", d(3, 1), d(3, 4)), ("FR", d(3, 4), d(3, 6))]
    assert trips[0].id != trips[1].id


def test_a_short_connection_with_nothing_else_there_is_not_a_trip_in_that_country() -> None:
    legs = [
        event("1", datetime(2027, 3, 1, 15, tzinfo=BERLIN), datetime(2027, 3, 1, 23, tzinfo=DOHA),
              "QR 68 FRA → DOH"),
        event("2", datetime(2027, 3, 2, 2, tzinfo=DOHA), datetime(2027, 3, 2, 14, tzinfo=SINGAPORE),
              "QR 944 DOH → SIN"),
        meeting("m", datetime(2027, 3, 3, 10, tzinfo=SINGAPORE), "Marina Bay Sands, Singapore",
                "Client workshop"),
    ]  # fmt: skip

    trips = detect_trips("emp", "DE", legs)

    assert spans(trips) == [("SG", d(3, 2), d(3, 3))]
    with_transit = detect_trips("emp", "DE", legs, include_transit=True)
    assert [(t.country, t.purpose) for t in with_transit] == [("QA", Purpose.TRANSIT), ("SG", Purpose.WORK)]
    assert (with_transit[0].start, with_transit[0].end) == (d(3, 1), d(3, 2))


def test_a_connection_with_a_meeting_or_longer_than_a_day_is_a_stay() -> None:
    inbound = event("1", datetime(2027, 3, 1, 15, tzinfo=BERLIN), datetime(2027, 3, 1, 23, tzinfo=DOHA),
                    "QR 68 FRA → DOH")  # fmt: skip
    onward = event("2", datetime(2027, 3, 2, 2, tzinfo=DOHA), datetime(2027, 3, 2, 14, tzinfo=SINGAPORE),
                   "QR 944 DOH → SIN")  # fmt: skip
    late_onward = onward.model_copy(
        update={
            "start": datetime(2027, 3, 3, 2, tzinfo=DOHA),
            "end": datetime(2027, 3, 3, 14, tzinfo=SINGAPORE),
        }
    )
    breakfast = meeting("m", datetime(2027, 3, 2, 0, 30, tzinfo=DOHA), "Hamad Airport lounge, Doha, Qatar",
                        "Breakfast meeting")  # fmt: skip

    with_meeting = detect_trips("emp", "DE", [inbound, onward, breakfast])
    long_layover = detect_trips("emp", "DE", [inbound, late_onward])

    assert [t.country for t in with_meeting] == ["QA", "SG"]
    assert with_meeting[0].purpose is Purpose.WORK
    assert spans(long_layover) == [("QA", d(3, 1), d(3, 3)), ("SG", d(3, 3), d(3, 3))]


def test_a_same_day_return_is_a_day_trip_not_a_transit() -> None:
    out = event("o", datetime(2027, 3, 1, 7, tzinfo=BERLIN), datetime(2027, 3, 1, 8, tzinfo=LONDON),
                "LH 900 FRA → LHR")  # fmt: skip
    back = event("b", datetime(2027, 3, 1, 19, tzinfo=LONDON), datetime(2027, 3, 1, 22, tzinfo=BERLIN),
                 "LH 905 LHR → FRA")  # fmt: skip

    assert spans(detect_trips("emp", "DE", [out, back])) == [("GB", d(3, 1), d(3, 1))]


def test_hotel_nights_give_presence_from_check_in_through_check_out() -> None:
    stay = hotel("h", d(3, 3), d(3, 6), "FR", "Novotel Paris Gare de Lyon")

    [trip] = detect_trips("emp", "DE", [stay])

    assert (trip.country, trip.start, trip.end, trip.purpose) == ("FR", d(3, 3), d(3, 6), Purpose.UNKNOWN)


def test_a_journey_home_in_between_splits_two_stays_in_the_same_country() -> None:
    events = [
        meeting("m1", datetime(2027, 3, 1, 10, tzinfo=PARIS), "12 Rue de la Paix, Paris"),
        event("h", datetime(2027, 3, 1, 18, tzinfo=PARIS), datetime(2027, 3, 1, 19, tzinfo=BERLIN),
              "AF 1018 CDG → FRA"),
        event("o", datetime(2027, 3, 3, 7, tzinfo=BERLIN), datetime(2027, 3, 3, 8, tzinfo=PARIS),
              "AF 1019 FRA → CDG"),
        meeting("m2", datetime(2027, 3, 3, 10, tzinfo=PARIS), "12 Rue de la Paix, Paris"),
    ]  # fmt: skip

    assert spans(detect_trips("emp", "DE", events)) == [("FR", d(3, 1), d(3, 1)), ("FR", d(3, 3), d(3, 3))]


def test_written_out_trains_and_flights_are_journeys() -> None:
    events = [
        event("t1", datetime(2027, 5, 18, 6, tzinfo=PARIS), datetime(2027, 5, 18, 10, tzinfo=PARIS),
              "Train TGV Lyria 9203 Paris → Zürich", "Gare de Lyon, Paris"),
        event("t2", datetime(2027, 5, 21, 17, tzinfo=PARIS), datetime(2027, 5, 21, 21, tzinfo=PARIS),
              "Zug nach Paris", "Zürich HB"),
    ]  # fmt: skip

    [trip] = detect_trips("emp", "FR", events)

    assert (trip.country, trip.start, trip.end) == ("CH", d(5, 18), d(5, 21))
    assert trip.evidence[0].rule.startswith("route.")
    assert trip.evidence[1].rule == "departure.inferred"  # "nach Paris" leaves from where the train went


def test_a_missing_leg_does_not_stretch_a_stay() -> None:
    # out to Boston, then (return not in any calendar) a flight from Frankfurt to London a month later
    events = [
        event("a", datetime(2027, 4, 5, 10, tzinfo=BERLIN), datetime(2027, 4, 5, 13, tzinfo=BOSTON),
              "LH 422 FRA → BOS"),
        event("b", datetime(2027, 5, 10, 8, tzinfo=BERLIN), datetime(2027, 5, 10, 9, tzinfo=LONDON),
              "LH 900 FRA → LHR"),
    ]  # fmt: skip

    assert spans(detect_trips("emp", "DE", events)) == [("US", d(4, 5), d(4, 5)), ("GB", d(5, 10), d(5, 10))]


def test_a_cancelled_flight_gives_no_presence() -> None:
    out = booked("o", "flight", datetime(2027, 4, 5, 10, tzinfo=BERLIN),
                 datetime(2027, 4, 5, 13, tzinfo=BOSTON), "US", "DE", "LH422 FRA → BOS")  # fmt: skip
    back = booked("b", "flight", datetime(2027, 4, 23, 17, tzinfo=BOSTON),
                  datetime(2027, 4, 24, 0, tzinfo=BOSTON), "DE", "US", "LH423 BOS → FRA")  # fmt: skip

    cancelled_out = out.model_copy(update={"cancelled": True})

    assert detect_trips("emp", "DE", [cancelled_out, back.model_copy(update={"cancelled": True})]) == []
    assert spans(detect_trips("emp", "DE", [out, back.model_copy(update={"cancelled": True})])) == [
        ("US", d(4, 5), d(4, 5))
    ]
