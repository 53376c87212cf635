"""Booking-confirmation e-mails and HTML: JSON-LD and microdata are found wherever the mail keeps them."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from chalicelib.connectors.booking_email import extract_structured_data, read_email, read_html
from chalicelib.connectors.bookings import read_booking_file
from chalicelib.models import BookingKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bookings"
EMPLOYEE = "ravi.iyer"


def test_json_ld_in_the_html_alternative_of_a_quoted_printable_latin1_mail() -> None:
    result = read_booking_file(FIXTURES / "iberia_mad_mex_confirmacion_es.eml", EMPLOYEE)

    (segment,) = result.segments
    assert segment.event.title == "IB6401 MAD → MEX"
    assert segment.event.country_hint == "MX"
    assert segment.event.location == "Ciudad de México (MEX)"  # decoded from ISO-8859-1
    assert segment.booking.start.isoformat() == "2027-02-08T12:05:00+01:00"
    assert result.problems == []


def test_microdata_in_a_base64_html_mail_with_sloppy_markup() -> None:
    result = read_booking_file(FIXTURES / "hotel_principe_milano_microdata_it.eml", EMPLOYEE)

    (segment,) = result.segments
    assert segment.booking.kind == BookingKind.LODGING
    assert segment.event.title == "Hotel: Hotel Principe di Savoia"
    assert segment.event.country_hint == "IT"  # addressCountry "Italia"
    assert segment.event.address == "Piazza della Repubblica, 17, 20124 Milano, Italia"
    assert (segment.event.start.day, segment.event.end.day) == (12, 17)  # 12th through the 16th


def test_a_forwarded_confirmation_attached_as_message_rfc822_is_read() -> None:
    result = read_booking_file(FIXTURES / "forwarded_sbb_zurich_milano_de.eml", EMPLOYEE)

    (segment,) = result.segments
    assert segment.event.title == "Train EC 317 Zürich HB → Milano Centrale"
    assert (segment.booking.departure_country, segment.booking.arrival_country) == ("CH", "IT")


def test_a_plain_text_confirmation_gives_no_segment_and_says_why() -> None:
    result = read_booking_file(FIXTURES / "lot_plain_text_only_pl.eml", EMPLOYEE)

    assert result.segments == []
    assert [p.message for p in result.problems] == [
        "no structured data: the e-mail carries no schema.org JSON-LD or microdata"
    ]


def test_gmail_style_flight_microdata_in_an_html_file() -> None:
    result = read_booking_file(FIXTURES / "klm_ams_nrt_microdata_nl.html", EMPLOYEE)

    (segment,) = result.segments
    assert segment.event.title == "KL861 AMS → NRT"
    assert segment.event.country_hint == "JP"
    assert segment.booking.end.isoformat() == "2027-06-09T09:05:00+09:00"


def test_microdata_items_nest_and_meta_link_time_values_are_taken_from_attributes() -> None:
    data = extract_structured_data(
        '<div itemscope itemtype="https://schema.org/EventReservation">'
        '<link itemprop="reservationStatus" href="https://schema.org/ReservationCancelled">'
        '<div itemprop="reservationFor" itemscope itemtype="https://schema.org/Event">'
        '<span itemprop="name">Hannover <b>Messe</b></span>'
        '<time itemprop="startDate" datetime="2027-04-12">12.4.</time></div>'
        "<p>unclosed paragraph</div>"
    )
    assert data.documents == [
        [
            {
                "@type": "EventReservation",
                "reservationStatus": "https://schema.org/ReservationCancelled",
                "reservationFor": {"@type": "Event", "name": "Hannover Messe", "startDate": "2027-04-12"},
            }
        ]
    ]


def test_a_broken_json_ld_block_is_reported_and_the_good_one_still_counts() -> None:
    markup = (
        '<script type="application/ld+json">{"@type": "FlightReservation",,}</script>'
        '<script type="application/ld+json; charset=utf-8">'
        '{"@type": "LodgingReservation", "reservationFor": {"name": "Hotel Adlon", '
        '"address": {"addressLocality": "Berlin", "addressCountry": "DE"}}, '
        '"checkinDate": "2027-05-01", "checkoutDate": "2027-05-03"}</script>'
        '<script type="text/javascript">var x = {"@type": "FlightReservation"};</script>'
    )
    result = read_html(markup, employee_id=EMPLOYEE)

    assert [s.event.country_hint for s in result.segments] == ["DE"]
    assert [p.message for p in result.problems] == ["JSON-LD block 1 is not valid JSON"]


def test_a_json_ld_attachment_is_read() -> None:
    message = EmailMessage()
    message["Subject"] = "Itinerary"
    message.set_content("See attachment.")
    message.add_attachment(
        b'{"@context": "https://schema.org", "@type": "FlightReservation", "reservationFor": '
        b'{"flightNumber": "LX1", "departureAirport": "ZRH", "arrivalAirport": "JFK", '
        b'"departureTime": "2027-05-01T09:00"}}',
        maintype="application",
        subtype="ld+json",
        filename="itinerary.jsonld",
    )
    result = read_email(message.as_bytes(policy=SMTP), employee_id=EMPLOYEE)

    assert [s.event.country_hint for s in result.segments] == ["US"]


def test_garbage_is_not_a_crash() -> None:
    result = read_email(b"\x00\xff not a mail \r\n\r\n<<<>>>", employee_id=EMPLOYEE)
    assert result.segments == []
    assert result.problems
