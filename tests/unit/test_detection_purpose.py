"""Why a trip happens, in the traveler's language: holiday, work, a mix to confirm, or unknown."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.detection.trips import detect_trips
from chalicelib.models import CalendarEvent, EventKind, Purpose, SourceKind

PARIS = ZoneInfo("Europe/Paris")


def entry(uid: str, title: str, location: str | None = "Madrid, Spain", **extra: object) -> CalendarEvent:
    start = datetime(2027, 7, 5, 10, tzinfo=PARIS)
    return CalendarEvent.model_validate(
        {
            "source": SourceKind.GRAPH,
            "calendar_id": "cal",
            "uid": uid,
            "title": title,
            "location": location,
            "start": start,
            "end": start + timedelta(hours=2),
            **extra,
        }
    )


def whole_week(uid: str, title: str, location: str = "Madrid, Spain", **extra: object) -> CalendarEvent:
    return entry(uid, title, location, start=datetime(2027, 7, 5), end=datetime(2027, 7, 10), all_day=True,
                 **extra)  # fmt: skip


@pytest.mark.parametrize(
    "title",
    [
        "Vacation",
        "Summer holidays",
        "PTO",
        "Annual leave",
        "Urlaub",
        "Betriebsurlaub",
        "Congés",
        "Vacances en famille",
        "Vacaciones",
        "Ferie estive",
        "Vakantie",
        "Urlop",
        "Férias",
    ],
)
def test_holiday_wording_in_many_languages_makes_a_holiday(title: str) -> None:
    [trip] = detect_trips("emp", "FR", [whole_week("h", title)])

    assert (trip.purpose, trip.confirm) == (Purpose.HOLIDAY, False)


@pytest.mark.parametrize(
    "title",
    [
        "Client meeting",
        "Besprechung Vertrieb",
        "Kundentermin",
        "Messe Barcelona",
        "Réunion projet",
        "Salon professionnel",
        "Reunión con el cliente",
        "Congreso anual",
        "Riunione di progetto",
        "Vergadering",
        "Spotkanie z klientem",
        "Conference",
        "Site visit",
    ],
)
def test_work_wording_in_many_languages_makes_work(title: str) -> None:
    [trip] = detect_trips("emp", "FR", [entry("w", title)])

    assert (trip.purpose, trip.confirm) == (Purpose.WORK, False)


def test_out_of_office_without_work_is_a_holiday() -> None:
    oof = whole_week("o", "Away", kind=EventKind.OUT_OF_OFFICE)
    out_of_office = whole_week("w", "Out of office")

    assert [t.purpose for t in detect_trips("emp", "FR", [oof])] == [Purpose.HOLIDAY]
    assert [t.purpose for t in detect_trips("emp", "FR", [out_of_office])] == [Purpose.HOLIDAY]


def test_holiday_and_work_in_one_stay_is_work_for_the_traveler_to_confirm() -> None:
    thursday = datetime(2027, 7, 8, 9, tzinfo=PARIS)
    events = [whole_week("v", "Vacaciones"), entry("w", "Kundentermin", start=thursday, end=thursday)]

    [trip] = detect_trips("emp", "FR", events)

    assert (trip.purpose, trip.confirm) == (Purpose.WORK, True)


def test_a_business_trip_marked_out_of_office_is_plain_work() -> None:
    # travellers mark business trips as OOF in Outlook: that is not holiday evidence against the meeting
    events = [whole_week("o", "Madrid", kind=EventKind.OUT_OF_OFFICE), entry("w", "Client workshop")]

    [trip] = detect_trips("emp", "FR", events)

    assert (trip.purpose, trip.confirm) == (Purpose.WORK, False)


def test_only_travel_and_hotels_leave_the_purpose_unknown() -> None:
    events = [
        entry("f", "AF 1300 CDG → MAD", location="Aéroport Paris-Charles de Gaulle (CDG)"),
        whole_week("h", "Hotel Holiday Inn Madrid", kind=EventKind.OUT_OF_OFFICE),
    ]

    [trip] = detect_trips("emp", "FR", events)

    assert (trip.purpose, trip.confirm) == (Purpose.UNKNOWN, False)


def test_a_holiday_with_a_dinner_out_stays_a_holiday() -> None:
    events = [whole_week("v", "Urlaub"), entry("d", "Dinner", location="Calle de Alcalá 21, Madrid, Spain")]

    [trip] = detect_trips("emp", "FR", events)

    assert (trip.purpose, trip.confirm, trip.start, trip.end) == (
        Purpose.HOLIDAY,
        False,
        date(2027, 7, 5),
        date(2027, 7, 9),
    )
