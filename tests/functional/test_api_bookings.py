"""Bookings pushed to the app become trips; a re-sent confirmation changes nothing; a cancellation cancels."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from tests.functional.conftest import KeyedClient

ANNA = {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}


def _flight(status: str = "https://schema.org/ReservationConfirmed") -> list[dict[str, Any]]:
    return [
        {
            "@context": "https://schema.org",
            "@type": "FlightReservation",
            "reservationNumber": "LH7QX2",
            "reservationStatus": status,
            "underName": {"@type": "Person", "name": "Anna Schmidt"},
            "reservationFor": {
                "@type": "Flight",
                "flightNumber": "422",
                "airline": {"@type": "Airline", "iataCode": "LH"},
                "departureAirport": {"@type": "Airport", "iataCode": "FRA"},
                "arrivalAirport": {"@type": "Airport", "iataCode": "BOS"},
                "departureTime": "2027-04-05T10:15:00+02:00",
                "arrivalTime": "2027-04-05T12:35:00-04:00",
            },
        },
        {
            "@context": "https://schema.org",
            "@type": "LodgingReservation",
            "reservationNumber": "HX-55120",
            "reservationStatus": status,
            "reservationFor": {
                "@type": "LodgingBusiness",
                "name": "Harbor View Hotel",
                "address": {
                    "@type": "PostalAddress",
                    "addressLocality": "Boston",
                    "addressRegion": "MA",
                    "addressCountry": "US",
                },
            },
            "checkinTime": "2027-04-05T15:00:00-04:00",
            "checkoutTime": "2027-04-09T11:00:00-04:00",
        },
    ]


@pytest.fixture
def client(mocked_aws: Settings, api: KeyedClient) -> KeyedClient:
    api.http.put(
        "/v1/employees/emp-anna", headers={"Content-Type": "application/json"}, body=json.dumps(ANNA)
    )
    return api


def _post(client: KeyedClient, body: Any, employee: str = "emp-anna") -> tuple[int, dict[str, Any]]:
    r = client.http.post(
        f"/v1/bookings?employee_id={employee}",
        headers={"Content-Type": "application/ld+json"},
        body=json.dumps(body),
    )
    return r.status_code, json.loads(r.body)


def test_a_booked_trip_is_decided_and_a_cancellation_closes_it(
    client: KeyedClient, mocked_aws: Settings
) -> None:
    status, answer = _post(client, _flight())
    assert (status, answer["accepted"], answer["cancelled"]) == (202, 2, 0)
    repo = bootstrap.repository(mocked_aws)
    (stored,) = repo.trips_of("emp-anna")
    assert (stored.trip.country, stored.trip.start, stored.trip.end) == (
        "US",
        date(2027, 4, 5),
        date(2027, 4, 9),
    )
    assert stored.trip.purpose.value == "unknown", "a booking says where, not why"
    assert (stored.assessment.status.value, stored.assessment.document) == ("certificate_required", "CoC")
    assert any("confirm" in item.lower() for item in stored.assessment.checklist)

    _post(client, _flight())  # the booking tool re-sends the same confirmation
    assert [s.version for s in repo.trips_of("emp-anna")] == [1]

    status, answer = _post(client, _flight("https://schema.org/ReservationCancelled"))
    assert (status, answer["cancelled"]) == (202, 2)
    (stored,) = repo.trips_of("emp-anna")
    assert stored.trip.cancelled
    assert repo.trips_lacking_certificate(date(2027, 4, 1), date(2027, 4, 30)) == []


def test_bookings_for_an_unknown_employee_are_refused(client: KeyedClient, mocked_aws: Settings) -> None:
    status, problem = _post(client, _flight(), employee="ghost")
    assert status == 404
    assert problem["errors"][0]["field"] == "employee_id"
    assert bootstrap.repository(mocked_aws).connections_of("ghost") == []
