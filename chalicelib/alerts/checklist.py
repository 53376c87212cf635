"""The traveler's pre-trip checklist: where and when, the document's status, what to carry, what to answer.

Sent some days before departure to the traveler (not to HR). It says whether the A1 / certificate of
coverage is issued (carry a copy, with its reference), applied for (pending) or missing (HR is on it),
reminds that such a certificate is not health insurance, attaches an .ics entry with a reminder the day
before departure, and, when the purpose is not certain, offers the two signed answer links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from chalicelib.alerts.links import TripAnswer, sign
from chalicelib.countries import country_name
from chalicelib.models import (
    Alert,
    AlertKind,
    Assessment,
    Attachment,
    Certificate,
    CertificateStatus,
    Employee,
    Purpose,
    Trip,
)

HEALTH = "An A1 or a certificate of coverage is not health insurance: take your travel health insurance card."
LINK_DAYS = 30
_BUTTON = "display:inline-block;padding:.5rem 1rem;border:1px solid #333;margin:.2rem"


def _document_status(assessment: Assessment, certificates: Sequence[Certificate], trip: Trip) -> str:
    if assessment.document is None:
        return "No social-security certificate is needed for this trip."
    doc = assessment.document.value
    relevant = [
        c for c in certificates if c.document == assessment.document and trip.country in c.host_countries
    ]
    issued = [
        c
        for c in relevant
        if c.status is CertificateStatus.ISSUED and c.covers(trip.country, trip.start, trip.end)
    ]
    if issued:
        ref = issued[0].reference or issued[0].id
        return (
            f"Your {doc} is issued (reference {ref}): carry a copy (paper or on your phone) during the trip."
        )
    if any(c.status is CertificateStatus.APPLIED for c in relevant):
        return f"Your {doc} has been applied for and is pending; HR will send it to you."
    return f"Your {doc} is not on record yet: HR has been told and is applying for it."


def trip_ics(trip: Trip, key: str) -> str:
    """An all-day calendar entry for the stay, with a reminder the day before departure at 09:00."""
    end = trip.end + timedelta(days=1)
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//coverwatch//traveler checklist//EN",
            "BEGIN:VEVENT",
            f"UID:{key}@coverwatch",
            f"DTSTAMP:{trip.start:%Y%m%d}T000000Z",
            f"DTSTART;VALUE=DATE:{trip.start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{end:%Y%m%d}",
            f"SUMMARY:Trip to {country_name(trip.country)}: documents to carry",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Pack your A1 / certificate of coverage copy",
            "TRIGGER:-PT15H",
            "END:VALARM",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def build_checklist(
    employee: Employee,
    trip: Trip,
    assessment: Assessment,
    certificates: Sequence[Certificate],
    *,
    answer_base_url: str | None,
    secret: bytes | None,
    now: datetime,
    version: int,
) -> Alert:
    if not employee.email:
        raise ValueError(f"employee {employee.id} has no e-mail address for the checklist")
    where = country_name(trip.country)
    dates = trip.start.isoformat() if trip.start == trip.end else f"{trip.start} to {trip.end}"
    items = [f"Destination: {where}, {dates}.", _document_status(assessment, certificates, trip), HEALTH]
    links: list[tuple[str, str]] = []
    if answer_base_url and secret and (trip.purpose is Purpose.UNKNOWN or trip.confirm):
        expires = now + timedelta(days=LINK_DAYS)
        for purpose, label in ((Purpose.WORK, "This is a work trip"), (Purpose.HOLIDAY, "This is a holiday")):
            token = sign(TripAnswer(employee.id, trip.id, purpose, expires), secret)
            links.append((label, f"{answer_base_url.rstrip('/')}/v1/answers/{token}"))
    key = f"{AlertKind.TRAVELER_CHECKLIST.value}:{trip.id}:v{version}"
    text = "\n".join(
        [f"Hello {employee.name},", "", "Before your trip:", *[f"- {i}" for i in items]]
        + (
            ["", "Is this a work trip? Tell us:", *[f"- {label}: {url}" for label, url in links]]
            if links
            else []
        )
        + ["", "The attached calendar entry reminds you the day before you leave."]
    )
    html = (
        "<html><body style='font-family:sans-serif;max-width:36rem'>"
        f"<p>Hello {escape(employee.name)},</p><h2>Before your trip</h2><ul>"
        + "".join(f"<li>{escape(i)}</li>" for i in items)
        + "</ul>"
        + (
            "<p>Is this a work trip?</p><p>"
            + " ".join(
                f"<a href='{escape(url)}' style='{_BUTTON}'>{escape(label)}</a>" for label, url in links
            )
            + "</p>"
            if links
            else ""
        )
        + "<p>The attached calendar entry reminds you the day before you leave.</p></body></html>"
    )
    return Alert(
        key=key,
        kind=AlertKind.TRAVELER_CHECKLIST,
        employee_id=employee.id,
        trip_id=trip.id,
        recipient=employee.email,
        subject=f"Your trip to {where} ({dates}): what to carry",
        text=text,
        html=html,
        attachments=(
            Attachment(filename="trip.ics", content_type="text/calendar", text=trip_ics(trip, key)),
        ),
    )
