"""Time zones, places and broken lines in .ics files: the local times and coordinates a user expects."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.connectors.ics import IcsResult, read_ics_file
from chalicelib.connectors.windows_zones import WINDOWS_TO_IANA, resolve_zone, windows_to_iana
from chalicelib.models import CalendarEvent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"


def _by_uid(result: IcsResult) -> dict[str, CalendarEvent]:
    return {event.uid: event for event in result.events}


def _local(event: CalendarEvent) -> tuple[datetime, timedelta | None]:
    return event.start.replace(tzinfo=None), event.start.utcoffset()


def test_windows_table_agrees_with_the_cldr_mapping_shipped_in_icalendar() -> None:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON  # generated from CLDR windowsZones.xml

    assert len(WINDOWS_TO_IANA) >= 100
    assert {k: v for k, v in WINDOWS_TO_IANA.items() if WINDOWS_TO_OLSON.get(k) != v} == {}
    for iana in WINDOWS_TO_IANA.values():
        ZoneInfo(iana)  # every name exists in the tz database


@pytest.mark.parametrize(
    ("name", "iana"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ('"Romance Standard Time"', "Europe/Paris"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC-05:00) Eastern Time (US and Canada)", "America/New_York"),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("(UTC+03:00) Moscow, St. Petersburg, Volgograd", "Europe/Moscow"),
    ],
)
def test_windows_ids_and_display_names_map_to_iana(name: str, iana: str) -> None:
    assert windows_to_iana(name) == iana
    assert resolve_zone(name) == ZoneInfo(iana)


def test_unknown_names_give_a_fixed_offset_or_nothing() -> None:
    unknown = resolve_zone("(UTC+05:30) Somewhere Nobody Lists")
    assert unknown is not None
    assert unknown.utcoffset(None) == timedelta(hours=5, minutes=30)
    assert resolve_zone("Mars/Olympus_Mons") is None
    assert resolve_zone("") is None


def test_outlook_zone_names_without_vtimezone_keep_local_time_and_real_offsets() -> None:
    result = read_ics_file(FIXTURES / "zones_windows.ics")
    events = _by_uid(result)

    assert result.problems == []
    assert _local(events["fixture-tz-windows-id"]) == (datetime(2027, 7, 15, 9), timedelta(hours=2))
    assert _local(events["fixture-tz-windows-quoted"]) == (datetime(2027, 1, 15, 9), timedelta(hours=1))
    assert _local(events["fixture-tz-display-name"]) == (datetime(2027, 7, 15, 9), timedelta(hours=2))
    assert _local(events["fixture-tz-display-unknown"]) == (datetime(2027, 7, 15, 9), timedelta(hours=5.5))
    assert _local(events["fixture-tz-padded-custom"]) == (datetime(2027, 7, 15, 9), timedelta(hours=3))
    floating = events["fixture-tz-nonsense"]
    assert floating.start == datetime(2027, 7, 15, 9)
    assert floating.start.tzinfo is None


def test_exdate_and_rdate_with_a_display_name_zone_apply_to_the_right_occurrences() -> None:
    events = read_ics_file(FIXTURES / "zones_windows.ics").events
    us = sorted(e.start for e in events if e.uid.startswith("fixture-tz-display-us#"))

    assert [(s.date(), s.utcoffset()) for s in us] == [
        (date(2027, 7, 15), timedelta(hours=-4)),
        (date(2027, 7, 29), timedelta(hours=-4)),  # 22nd excluded, 29th added
    ]


def test_google_export_with_x_wr_timezone_reads_utc_times_in_the_calendar_zone() -> None:
    result = read_ics_file(FIXTURES / "google_xwr.ics")
    events = _by_uid(result)

    late = events["fixture-xwr-late@google.com"]
    assert _local(late) == (datetime(2027, 3, 11, 0, 0), timedelta(hours=1))  # 23:00Z is midnight in Paris
    assert late.categories == ("Travel", "Work")
    assert late.changed == "2|2027-01-05T10:15:00+00:00"
    weekly = sorted(e.start for e in result.events if e.uid.startswith("fixture-xwr-weekly@google.com#"))
    assert [s.hour for s in weekly] == [9] * 6  # the series repeats at 9:00 Paris time across DST
    assert weekly[-1].utcoffset() == timedelta(hours=2)


def test_tripit_feed_gives_trip_flights_hotel_and_coordinates_without_descriptions() -> None:
    result = read_ics_file(FIXTURES / "tripit_feed.ics")
    events = {e.title: e for e in result.events}

    assert result.problems == []
    trip = events["Paris, France, March 2027"]
    assert trip.all_day
    assert (trip.start, trip.end) == (datetime(2027, 3, 15), datetime(2027, 3, 18))
    assert trip.coordinates == (48.856614, 2.352222)
    assert trip.show_as == "transparent"
    flight = events["LH1026 FRA to CDG"]
    assert flight.location == "Frankfurt (FRA)"
    assert flight.start.utcoffset() == timedelta(0)
    directions = events["Directions from CDG to Hôtel Le Marais - Paris"]
    assert directions.start == datetime(2027, 3, 15, 9, 30)
    assert directions.start.tzinfo is None
    assert {"Check-in: Hôtel Le Marais", "Check-out: Hôtel Le Marais", "Pick-up Rental Car: Europcar"} <= set(
        events
    )
    assert all(e.uid.endswith("@tripit.com") for e in result.events)
    dumped = "".join(e.model_dump_json() for e in result.events)
    for private in ("[Flight]", "confirmation", "seat", "tripit.com/trip"):
        assert private not in dumped


def test_a_stray_line_is_reported_with_its_number_and_the_rest_is_read() -> None:
    result = read_ics_file(FIXTURES / "broken_lines.ics")

    uids = {e.uid.split("#")[0] for e in result.events}
    assert uids == {"fixture-bl-good", "fixture-bl-series"}
    assert len([e for e in result.events if e.uid.startswith("fixture-bl-series#")]) == 3
    stray, bad = result.problems
    assert (stray.uid, stray.line) == (None, 25)
    assert "line 25" in stray.message
    assert (bad.uid, bad.line) == ("fixture-bl-bad-date", 26)
    assert "20271345T250000Z" in bad.message
