"""Real booking samples (kept outside the project, from KDE Itinerary's test data): never a crash.

JSON-LD files (*.json, including kitinerary's expected outputs *.txt.json / *.html.json) go through
the JSON-LD reader, .eml and .html through the e-mail/HTML extractor, and plain-text confirmations
(.txt) must say that they carry no structured data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.connectors.bookings import read_booking_file

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "bookings"
EMPLOYEE = "sample.reader"


def _samples(*suffixes: str) -> list[Path]:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in suffixes)
    assert files, f"{SAMPLES} holds no {suffixes} files"
    return files


def test_every_json_ld_sample_gives_segments_or_reasons() -> None:
    silent = []
    for path in _samples(".json"):
        result = read_booking_file(path, EMPLOYEE)
        assert result.reservations > 0, path.name
        # each reservation either became a segment (duplicate passengers collapse) or was reported
        if not result.segments and not result.problems and not result.cancelled_uids:
            silent.append(path.name)
    assert silent == []


def test_valid_sample_reservations_come_out_with_their_countries() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    expected = {
        "kitinerary__calendarhandlerdata_flight.json": [("FI", "DE")],
        "kitinerary__calendarhandlerdata_hotel.json": [(None, "FI")],
        "kitinerary__calendarhandlerdata_rentalcar.json": [("US", "US")],
        "kitinerary__amadeus_amadeus_1.txt.json": [("DE", "NL"), ("NL", "US"), ("US", "FR"), ("FR", "DE")],
        "kitinerary__deutschebahn_deutschebahn_one-leg-return-international.txt.json": [
            ("DE", "CZ"),
            ("CZ", "DE"),
        ],
        "kitinerary__regiojet_regiojet_bus_en-one-leg-single.txt.json": [("AT", "CZ")],
        "kitinerary__aohostels_aohostels_1.txt.json": [(None, "AT")],
        "kitinerary__structureddata_google-json-ld.html": [(None, "US")],
        "kitinerary__structureddata_hotel-json-ld-fallback.html": [(None, "GB")],
        "kitinerary__synthetic_flight-booking.eml": [("US", "US")],
    }
    for name, countries in expected.items():
        result = read_booking_file(SAMPLES / name, EMPLOYEE)
        got = [(b.departure_country, b.arrival_country) for b in result.bookings]
        assert got == countries, name


def test_the_sample_cancellation_cancels_the_sample_confirmation() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    booked = read_booking_file(SAMPLES / "kitinerary__postprocessordata_google-actions.pre.json", EMPLOYEE)
    cancelled = read_booking_file(SAMPLES / "kitinerary__jsonlddata_flight-cancellation.in.json", EMPLOYEE)
    assert cancelled.cancelled_uids == [booked.segments[0].event.uid]


def test_sample_problems_name_the_reason() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    merge = read_booking_file(SAMPLES / "kitinerary__postprocessordata_flight-merge.pre.json", EMPLOYEE)
    assert len(merge.segments) == 1  # BRU → Toulouse (no IATA code: the city decides)
    assert merge.segments[0].booking.arrival_country == "FR"
    assert [p.message for p in merge.problems] == ["no arrival airport: cannot tell where the traveler goes"]


def test_every_mail_and_html_sample_is_read_without_a_crash() -> None:
    for path in _samples(".eml", ".html"):
        result = read_booking_file(path, EMPLOYEE)
        assert result.segments or result.problems, path.name
    brussels = read_booking_file(SAMPLES / "kitinerary__brusselsairlines_brusselsairlines_1.html", EMPLOYEE)
    assert brussels.segments == []
    assert "no structured data" in brussels.problems[0].message


def test_plain_text_confirmations_give_no_segment_and_a_clear_problem() -> None:
    for path in _samples(".txt"):
        result = read_booking_file(path, EMPLOYEE)
        assert result.segments == [], path.name
        assert [p.message for p in result.problems] == [
            "no structured data: the plain-text confirmation carries no schema.org JSON-LD or microdata"
        ], path.name
