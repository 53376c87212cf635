"""schema.org reservations (JSON-LD) become booking segments and calendar events detection can place."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.connectors.bookings import (
    BookingsResult,
    looks_like_jsonld,
    read_booking_file,
    read_jsonld,
    read_reservations,
)
from chalicelib.detection.trips import detect_trips
from chalicelib.models import BookingKind, SourceKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bookings"
EMPLOYEE = "anna.schmidt"


def _read(name: str) -> BookingsResult:
    return read_booking_file(FIXTURES / name, EMPLOYEE)


def _flight(**overrides: Any) -> dict[str, Any]:
    flight: dict[str, Any] = {
        "@type": "Flight",
        "flightNumber": "422",
        "airline": {"@type": "Airline", "iataCode": "LH"},
        "departureAirport": {"@type": "Airport", "iataCode": "FRA"},
        "departureTime": "2027-04-05T10:15:00",
        "arrivalAirport": {"@type": "Airport", "iataCode": "BOS", "name": "Boston Logan"},
        "arrivalTime": "2027-04-05T12:40:00",
    }
    flight.update(overrides)
    return {"@context": "https://schema.org/", "@type": "FlightReservation", "reservationNumber": "LH7QZK",
            "reservationFor": flight}  # fmt: skip


def test_a_flight_is_an_event_on_the_departure_day_placed_in_the_arrival_country() -> None:
    result = _read("lufthansa_fra_bos_roundtrip.jsonld")

    outbound, inbound = result.segments
    assert outbound.event.title == "LH422 FRA → BOS"
    assert outbound.event.location == "Boston Logan International (BOS)"
    assert outbound.event.country_hint == "US"
    assert outbound.event.source == SourceKind.BOOKING
    assert (outbound.booking.kind, outbound.booking.departure_country, outbound.booking.arrival_country) == (
        BookingKind.FLIGHT,
        "DE",
        "US",
    )
    # times without an offset are read in each airport's own zone
    assert outbound.booking.start.isoformat() == "2027-04-05T10:15:00+02:00"
    assert outbound.booking.end.isoformat() == "2027-04-05T12:40:00-04:00"
    # the overnight return lands on the 24th but its event stays on the departure day
    assert inbound.booking.end.date() == date(2027, 4, 24)
    assert inbound.event.start.isoformat() == "2027-04-23T17:35:00-04:00"
    assert inbound.event.end.isoformat() == "2027-04-24T00:00:00-04:00"  # midnight: not the 24th
    assert result.problems == []


def test_booked_flights_show_the_days_of_arrival_abroad_to_detection() -> None:
    flights = _read("lufthansa_fra_bos_roundtrip.jsonld").events
    trips = detect_trips(EMPLOYEE, "DE", flights)

    # arriving in Boston on the 5th and leaving Boston on the 23rd: in the US for every day in between
    assert [(t.country, t.start, t.end) for t in trips] == [("US", date(2027, 4, 5), date(2027, 4, 23))]


def test_a_hotel_is_an_all_day_stay_from_check_in_through_check_out_in_its_country() -> None:
    (stay,) = _read("accor_paris_hotel_fr.json").segments

    assert stay.event.all_day
    assert (stay.event.start, stay.event.end) == (datetime(2027, 3, 3), datetime(2027, 3, 6))
    assert stay.event.country_hint == "FR"  # from addressCountry {"name": "France"}
    assert stay.event.location == "Novotel Paris Gare de Lyon, 2 Rue Hector Malot, 75012 Paris, France"
    assert stay.event.coordinates == (48.8443, 2.3736)
    assert stay.booking.start.isoformat() == "2027-03-03T15:00:00+01:00"
    trips = detect_trips(EMPLOYEE, "DE", [stay.event])
    assert [(t.country, t.start, t.end) for t in trips] == [("FR", date(2027, 3, 3), date(2027, 3, 5))]


def test_a_graph_of_train_bus_car_and_event_bookings_gives_each_its_country() -> None:
    result = _read("business_trip_graph.jsonld")

    by_kind = {s.booking.kind: s for s in result.segments}
    train, bus = by_kind[BookingKind.TRAIN], by_kind[BookingKind.BUS]
    car, event = by_kind[BookingKind.RENTAL_CAR], by_kind[BookingKind.EVENT]
    assert (train.booking.departure_country, train.event.country_hint) == ("GB", "FR")
    assert train.event.title == "Train 9014 London St Pancras International → Paris Gare du Nord"
    assert bus.event.country_hint == "BE"  # addressCountry "Belgique"
    assert bus.booking.start.isoformat() == "2027-05-12T23:15:00+02:00"  # Paris local time
    # a car picked up in Milan and returned in Lugano: the event is at the pick-up
    assert car.event.country_hint == "IT"
    assert (car.booking.departure_country, car.booking.arrival_country) == ("IT", "CH")
    assert event.event.all_day
    assert event.event.country_hint == "ES"
    assert (event.event.start, event.event.end) == (datetime(2027, 3, 1), datetime(2027, 3, 5))


def test_a_reservation_without_destination_or_dates_is_reported_and_the_others_still_count() -> None:
    result = _read("business_trip_graph.jsonld")

    assert len(result.segments) == 4
    assert result.reservations == 5  # the Person node is not a reservation
    (problem,) = result.problems
    assert problem.uid == "item 5 (FlightReservation BROKEN1)"
    assert "no arrival airport" in problem.message


def test_loose_shapes_strings_arrays_and_utc_times_are_understood() -> None:
    result = _read("loose_shapes_ba.json")

    flight, hotel = result.segments
    assert flight.event.title == "BA117 LHR → JFK"
    assert flight.event.location == "John F Kennedy International Airport (JFK)"
    assert flight.booking.start.isoformat() == "2027-09-14T12:25:00+01:00"  # 11:25Z in London
    assert hotel.event.country_hint == "US"  # from the one-line address "..., New York, NY 10017"
    (problem,) = result.problems
    assert "ends (2027-10-03" in problem.message
    assert "before it starts" in problem.message


@pytest.mark.parametrize(
    "country", ["DE", "de", "DEU", "Germany", {"@type": "Country", "name": "Germany"}, "Deutschland"]
)
def test_address_country_as_code_name_or_object(country: object) -> None:
    hotel = {
        "@type": "LodgingReservation",
        "reservationFor": {"@type": "Hotel", "name": "Hotel X", "address": {"addressCountry": country}},
        "checkinDate": "2027-05-01",
        "checkoutDate": "2027-05-02",
    }
    (segment,) = read_reservations(hotel, employee_id=EMPLOYEE).segments
    assert segment.event.country_hint == "DE"


def test_without_a_country_the_city_decides() -> None:
    hotel = {
        "@type": "LodgingReservation",
        "reservationFor": {"name": "Hotel Sacher", "address": {"addressLocality": "Wien"}},
        "checkinDate": "2027-05-01",
        "checkoutDate": "2027-05-02",
    }
    (segment,) = read_reservations(hotel, employee_id=EMPLOYEE).segments
    assert segment.event.country_hint == "AT"


def test_a_cancellation_names_the_uid_of_the_segment_it_cancels() -> None:
    booked = _read("lufthansa_fra_bos_roundtrip.jsonld")
    cancelled = _read("lufthansa_fra_bos_cancelled.jsonld")

    assert cancelled.cancelled_uids == [booked.segments[1].event.uid]
    assert cancelled.events[0].cancelled
    assert cancelled.bookings[0].cancelled
    assert cancelled.accepted == []
    assert detect_trips(EMPLOYEE, "DE", cancelled.events) == []


@pytest.mark.parametrize(
    "status",
    [
        "http://schema.org/ReservationCancelled",
        "https://schema.org/ReservationCancelled",
        "ReservationCancelled",
        "http://schema.org/Cancelled",
        {"@id": "https://schema.org/ReservationCancelled"},
    ],
)
def test_every_spelling_of_cancelled_cancels(status: object) -> None:
    reservation = {**_flight(), "reservationStatus": status}
    result = read_reservations(reservation, employee_id=EMPLOYEE)
    assert result.cancelled_uids == [result.segments[0].event.uid]


def test_a_cancellation_too_thin_for_a_segment_still_cancels_by_its_identity() -> None:
    booked = read_reservations(_flight(), employee_id=EMPLOYEE)
    thin = _flight(arrivalAirport=None, arrivalTime=None)
    thin["reservationStatus"] = "ReservationCancelled"

    result = read_reservations(thin, employee_id=EMPLOYEE)
    assert result.segments == []
    assert result.cancelled_uids == [booked.segments[0].event.uid]


def test_a_re_sent_confirmation_with_a_new_time_keeps_the_uid_so_it_replaces() -> None:
    first = read_reservations(_flight(), employee_id=EMPLOYEE).segments[0]
    moved = read_reservations(
        _flight(flightNumber="LH 422", departureTime="2027-04-05T11:00:00"), employee_id=EMPLOYEE
    ).segments[0]

    assert moved.event.uid == first.event.uid
    assert moved.event.changed != first.event.changed
    assert moved.event.start.hour == 11


def test_the_same_leg_for_two_passengers_is_one_segment() -> None:
    result = read_reservations([_flight(), _flight()], employee_id=EMPLOYEE)
    assert len(result.segments) == 1


def test_kde_time_objects_and_times_without_offset_use_the_given_zone() -> None:
    reservation = _flight(
        departureAirport={"@type": "Airport", "name": "Flugplatz ohne Code"},
        departureTime={"@type": "QDateTime", "@value": "2027-04-05T10:15:00", "timezone": "Europe/Berlin"},
    )
    (segment,) = read_reservations(reservation, employee_id=EMPLOYEE).segments
    assert segment.booking.start.isoformat() == "2027-04-05T10:15:00+02:00"


def test_a_flight_with_only_a_departure_day_is_an_all_day_event() -> None:
    reservation = _flight(departureTime=None, arrivalTime=None, departureDay="2027-04-05")
    (segment,) = read_reservations(reservation, employee_id=EMPLOYEE).segments
    assert segment.event.all_day
    assert (segment.event.start, segment.event.end) == (datetime(2027, 4, 5), datetime(2027, 4, 6))


def test_no_personal_details_survive_in_the_event() -> None:
    result = _read("accor_paris_hotel_fr.json")
    dumped = json.dumps([e.model_dump(mode="json") for e in result.events]) + json.dumps(
        [s.as_json() for s in result.segments]
    )
    assert "Claire" not in dumped
    assert "claire.martin@example.com" not in dumped
    assert "412" not in dumped


def test_input_without_reservations_says_no_structured_data() -> None:
    result = read_reservations({"@type": "WebSite", "name": "x"}, employee_id=EMPLOYEE)
    assert result.segments == []
    assert result.reservations == 0
    assert "no structured data" in result.problems[0].message
    assert "WebSite" in result.problems[0].message


def test_invalid_json_is_a_problem_not_a_crash() -> None:
    result = read_jsonld(b'{"@type": "FlightReservation",', employee_id=EMPLOYEE)
    assert result.segments == []
    assert "not valid JSON" in result.problems[0].message


def test_unsupported_reservation_types_are_named() -> None:
    result = read_reservations({"@type": "FoodEstablishmentReservation"}, employee_id=EMPLOYEE)
    assert result.problems[0].message == "FoodEstablishmentReservation is not supported"


def test_jsonld_is_told_apart_from_other_json() -> None:
    assert looks_like_jsonld({"@context": "https://schema.org", "@type": "FlightReservation"})
    assert looks_like_jsonld([{"@graph": []}])
    assert not looks_like_jsonld({"value": [{"subject": "Graph event"}]})
    assert not looks_like_jsonld({"kind": "calendar#events", "items": []})
