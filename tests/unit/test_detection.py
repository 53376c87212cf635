"""Trip detection: which stays abroad HR sees, with dates, purpose, confidence and evidence."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.detection.trips import detect_trips
from chalicelib.models import CalendarEvent, EventKind, Purpose, SourceKind, Trip

BERLIN = ZoneInfo("Europe/Berlin")


def _event(
    uid: str, start: datetime, end: datetime, title: str, location: str | None, **extra: object
) -> CalendarEvent:
    return CalendarEvent.model_validate(
        {
            "source": SourceKind.ICS,
            "calendar_id": "test.ics",
            "uid": uid,
            "title": title,
            "location": location,
            "start": start,
            "end": end,
            **extra,
        }
    )


def timed(
    uid: str,
    start: datetime,
    hours: float = 2,
    title: str = "Meeting",
    location: str | None = None,
    **extra: object,
) -> CalendarEvent:
    return _event(uid, start, start + timedelta(hours=hours), title, location, **extra)


def all_day(
    uid: str, first: date, days: int, title: str, location: str | None = None, **extra: object
) -> CalendarEvent:
    start = datetime.combine(first, datetime.min.time())
    return _event(uid, start, start + timedelta(days=days), title, location, all_day=True, **extra)


def at(day: int, month: int = 3, hour: int = 9) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=BERLIN)


def spans(trips: list[Trip]) -> list[tuple[str, date, date]]:
    return [(t.country, t.start, t.end) for t in trips]


def test_a_client_meeting_abroad_is_a_one_day_work_trip() -> None:
    event = timed("e1", at(3), title="Client meeting", location="12 Rue de la Paix, Paris")

    [trip] = detect_trips("emp-1", "DE", [event])

    assert (trip.country, trip.start, trip.end, trip.purpose) == (
        "FR",
        date(2027, 3, 3),
        date(2027, 3, 3),
        Purpose.WORK,
    )
    assert trip.employee_id == "emp-1"
    assert trip.days == 1
    assert not trip.cancelled


def test_domestic_cancelled_virtual_and_placeless_events_give_no_trip() -> None:
    events = [
        timed("home", at(1), location="Am Sandtorkai 1, 20457 Hamburg"),
        timed("cancelled", at(2), location="Paris", cancelled=True),
        timed("teams", at(3), title="Sync with the Paris team", location="Microsoft Teams Meeting"),
        timed("room", at(4), title="London debrief", location="Room 4.12"),
        timed("nothing", at(5), title="Focus time"),
    ]

    assert detect_trips("emp-1", "DE", events) == []


def test_the_title_is_used_when_there_is_no_location() -> None:
    [trip] = detect_trips("emp-1", "DE", [timed("e1", at(3), title="Workshop in Vienna")])

    assert trip.country == "AT"
    assert trip.purpose is Purpose.WORK
    assert trip.evidence[0].place == "Vienna"


def test_a_place_named_in_passing_in_a_title_is_a_topic_not_a_trip() -> None:
    topics = [
        timed("t1", at(3), title="Turkey dinner"),
        timed("t2", at(4), title="Netflix: Emily in Paris"),
        timed("t3", at(5), title="Expense report: Milan trip"),
        timed("t4", at(8), title="Read: Vienna convention memo"),
    ]
    placed = timed("p", at(10), title="Client meeting – London")

    assert spans(detect_trips("emp-1", "DE", [*topics, placed])) == [
        ("GB", date(2027, 3, 10), date(2027, 3, 10))
    ]


def test_all_day_end_is_exclusive_and_every_spanned_day_counts() -> None:
    event = all_day("e1", date(2027, 4, 5), 19, "Project kickoff", "Boston, MA")

    [trip] = detect_trips("emp-1", "DE", [event])

    assert (trip.start, trip.end) == (date(2027, 4, 5), date(2027, 4, 23))
    assert trip.days == 19


def test_a_timed_event_over_several_days_spans_them_and_midnight_end_stays_on_its_day() -> None:
    conference = timed("conf", at(22), hours=56, title="Conference", location="Berlin")
    late = timed("late", at(10, month=5, hour=20), hours=4, title="Dinner", location="Milano")

    trips = detect_trips("emp-1", "NL", [conference, late])

    assert spans(trips) == [
        ("DE", date(2027, 3, 22), date(2027, 3, 24)),
        ("IT", date(2027, 5, 10), date(2027, 5, 10)),
    ]


def test_a_weekend_hole_keeps_one_trip_but_weeks_apart_are_two() -> None:
    week = [timed(f"d{day}", at(day), location="Dublin") for day in (1, 2, 3, 4, 5, 8, 9)]
    later = timed("later", at(29), location="Dublin")

    trips = detect_trips("emp-1", "GB", [*week, later])

    assert spans(trips) == [
        ("IE", date(2027, 3, 1), date(2027, 3, 9)),
        ("IE", date(2027, 3, 29), date(2027, 3, 29)),
    ]
    assert len(trips[0].evidence) == 7


def test_a_gap_of_three_days_splits_the_stay() -> None:
    trips = detect_trips(
        "emp-1", "DE", [timed("a", at(1), location="Paris"), timed("b", at(5), location="Paris")]
    )

    assert len(trips) == 2


def test_an_outbound_and_a_return_flight_make_one_stay_from_arrival_to_departure() -> None:
    # Issue 5 changed this: the days between arriving abroad and leaving again are presence there
    # (this test used to expect a one-day trip on the outbound day only).
    outbound = timed(
        "f1", at(5, month=4, hour=10), hours=9, title="LH 422 FRA → BOS", location="Frankfurt (FRA)"
    )
    back = timed("f2", at(23, month=4, hour=23), hours=8, title="LH 423 BOS → FRA", location="Boston (BOS)")

    [trip] = detect_trips("emp-1", "DE", [outbound, back])

    assert (trip.country, trip.start, trip.end) == ("US", date(2027, 4, 5), date(2027, 4, 23))
    assert trip.purpose is Purpose.UNKNOWN  # flights alone say nothing about why
    assert [(e.uid, e.place, e.rule, e.day) for e in trip.evidence] == [
        ("f1", "BOS", "iata.route_destination", date(2027, 4, 5)),
        ("f2", "BOS", "departure.iata.route_origin", date(2027, 4, 23)),
    ]


def test_a_written_out_flight_to_a_city_counts_as_a_flight() -> None:
    [trip] = detect_trips(
        "emp-1", "DE", [timed("f", at(7), title="Flight LH 400 to Boston", location="Terminal 1")]
    )

    assert (trip.country, trip.start, trip.purpose) == ("US", date(2027, 3, 7), Purpose.UNKNOWN)
    assert trip.evidence[0].rule == "flight_to.city"


def test_a_hotel_only_stay_has_unknown_purpose() -> None:
    hotel = all_day("h", date(2027, 3, 22), 2, "Hotel Motel One", "Dorotheenstraße 50, 10117 Berlin")

    [trip] = detect_trips("emp-1", "NL", [hotel])

    assert trip.purpose is Purpose.UNKNOWN


def test_out_of_office_or_holiday_words_make_a_holiday() -> None:
    oof = all_day("oof", date(2027, 8, 2), 5, "Away", "Mallorca, Spain", kind=EventKind.OUT_OF_OFFICE)
    urlaub = all_day("urlaub", date(2027, 9, 6), 5, "Urlaub", "Wien")
    conges = all_day("conges", date(2027, 10, 4), 5, "Congés \u2013 Barcelone", "Barcelona, Spain")

    trips = detect_trips("emp-1", "DE", [oof, urlaub, conges])

    assert [(t.country, t.purpose) for t in trips] == [
        ("ES", Purpose.HOLIDAY),
        ("AT", Purpose.HOLIDAY),
        ("ES", Purpose.HOLIDAY),
    ]


def test_work_evidence_beats_holiday_evidence() -> None:
    events = [
        all_day("v", date(2027, 8, 2), 5, "Vacation", "Lisbon"),
        timed("w", at(4, month=8), title="Customer workshop", location="Lisboa"),
    ]

    [trip] = detect_trips("emp-1", "DE", events)

    assert trip.purpose is Purpose.WORK


def test_an_ordinary_event_with_a_physical_location_means_work() -> None:
    [trip] = detect_trips("emp-1", "DE", [timed("e", at(3), title="Lunch", location="Kärntner Ring 5, Wien")])

    assert trip.purpose is Purpose.WORK


def test_the_connector_country_hint_wins() -> None:
    event = timed("e", at(3), title="Site visit", location="Plant 7", country_hint="PL")

    [trip] = detect_trips("emp-1", "DE", [event])

    assert trip.country == "PL"
    assert trip.evidence[0].rule == "event.country_hint"


def test_evidence_names_each_event_rule_place_and_day() -> None:
    long_title = "Client workshop " + "x" * 400
    events = [
        timed("b-uid", at(3), title=long_title, location="Paris, France"),
        timed("a-uid", at(4), title="Follow-up", location="Paris"),
    ]

    [trip] = detect_trips("emp-1", "DE", events)

    assert [(e.uid, e.place, e.rule, e.day) for e in trip.evidence] == [
        ("b-uid", "France", "country.name", date(2027, 3, 3)),
        ("a-uid", "Paris", "city", date(2027, 3, 4)),
    ]
    assert trip.evidence[0].summary == long_title[:200]
    assert all(e.source is SourceKind.ICS for e in trip.evidence)


def test_more_and_stronger_evidence_gives_higher_confidence() -> None:
    [city_only] = detect_trips("emp-1", "DE", [timed("a", at(3), location="Paris")])
    [country] = detect_trips("emp-1", "DE", [timed("a", at(3), location="France")])
    [several] = detect_trips(
        "emp-1", "DE", [timed("a", at(3), location="Paris"), timed("b", at(4), location="Paris")]
    )
    [title_only] = detect_trips("emp-1", "DE", [timed("a", at(3), title="Paris")])

    assert 0.0 < title_only.confidence < city_only.confidence < country.confidence <= 1.0
    assert several.confidence > city_only.confidence


def test_trip_id_is_stable_across_rescans_and_when_an_event_moves() -> None:
    first = detect_trips(
        "emp-1", "DE", [timed("uid-1", at(3), location="Paris"), timed("uid-2", at(4), location="Paris")]
    )
    rescanned = detect_trips(
        "emp-1", "DE", [timed("uid-2", at(4), location="Paris"), timed("uid-1", at(3), location="Paris")]
    )
    moved = detect_trips(
        "emp-1", "DE", [timed("uid-1", at(10), location="Paris"), timed("uid-2", at(11), location="Paris")]
    )
    other_employee = detect_trips("emp-2", "DE", [timed("uid-1", at(3), location="Paris")])

    assert first[0].id == rescanned[0].id == moved[0].id
    assert first[0].id.startswith("trp_")
    assert other_employee[0].id != first[0].id


def test_trips_are_sorted_by_start() -> None:
    events = [
        timed("c", at(20), location="Madrid"),
        timed("a", at(1), location="Roma"),
        timed("b", at(10), location="Oslo"),
    ]

    trips = detect_trips("emp-1", "DE", events)

    assert [t.country for t in trips] == ["IT", "NO", "ES"]


def test_home_country_may_be_given_in_any_accepted_spelling() -> None:
    events = [timed("a", at(3), location="Manchester"), timed("b", at(4), location="Paris")]

    assert [t.country for t in detect_trips("emp-1", "uk", events)] == ["FR"]
