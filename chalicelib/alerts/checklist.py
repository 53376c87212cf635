"""The traveler's pre-trip checklist: where and when, the document's status, what to carry, what to answer.

Sent some days before departure to the traveler (not to HR), in the traveler's own language. It says
whether the A1 / certificate of coverage is issued (carry a copy, with its reference), applied for
(pending) or missing (HR is on it), reminds that such a certificate is not health insurance, attaches
an .ics entry with a reminder the day before departure, offers the two signed answer links when the
purpose is not certain, and passes on what is good to know in the host country, each with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib.alerts.links import TripAnswer, sign
from chalicelib.alerts.render import format_period, render, translate
from chalicelib.countries import country_name
from chalicelib.models import (
    Alert,
    AlertKind,
    Assessment,
    Attachment,
    Certificate,
    CertificateStatus,
    Employee,
    Language,
    Purpose,
    Trip,
)

LINK_DAYS = 30


def _document_status(
    assessment: Assessment, certificates: Sequence[Certificate], trip: Trip, language: Language
) -> str:
    if assessment.document is None:
        return translate(language, "checklist.doc.none")
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
        reference = issued[0].reference or issued[0].id
        return translate(language, "checklist.doc.issued", doc=doc, reference=reference)
    if any(c.status is CertificateStatus.APPLIED for c in relevant):
        return translate(language, "checklist.doc.applied", doc=doc)
    return translate(language, "checklist.doc.missing", doc=doc)


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newline are escaped."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def trip_ics(trip: Trip, key: str, language: Language = Language.EN) -> str:
    """An all-day calendar entry for the stay, with a reminder the day before departure at 09:00."""
    end = trip.end + timedelta(days=1)
    summary = translate(language, "checklist.ics.summary", country=country_name(trip.country, language))
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
            f"SUMMARY:{_ics_text(summary)}",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_ics_text(translate(language, 'checklist.ics.reminder'))}",
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
    host_notes: Sequence[tuple[str, str, str]] = (),
) -> Alert:
    """The checklist for one trip version; ``host_notes`` are (note, source title, source URL)."""
    if not employee.email:
        raise ValueError(f"employee {employee.id} has no e-mail address for the checklist")
    language = employee.language
    where = country_name(trip.country, language)
    dates = format_period(trip.start, trip.end, language)
    items = [
        translate(language, "checklist.destination", country=where, dates=dates),
        _document_status(assessment, certificates, trip, language),
        translate(language, "checklist.health"),
    ]
    links: list[tuple[str, str]] = []
    if answer_base_url and secret and (trip.purpose is Purpose.UNKNOWN or trip.confirm):
        expires = now + timedelta(days=LINK_DAYS)
        for purpose in (Purpose.WORK, Purpose.HOLIDAY):
            token = sign(TripAnswer(employee.id, trip.id, purpose, expires), secret)
            label = translate(language, f"checklist.answer.{purpose.value}")
            links.append((label, f"{answer_base_url.rstrip('/')}/v1/answers/{token}"))
    key = f"{AlertKind.TRAVELER_CHECKLIST.value}:{trip.id}:v{version}"
    text, html = render(
        "checklist",
        language,
        headline=translate(language, "checklist.headline", country=where, dates=dates),
        employee=employee,
        trip=trip,
        items=items,
        links=links,
        link_days=LINK_DAYS,
        notes=list(host_notes),
    )
    return Alert(
        key=key,
        kind=AlertKind.TRAVELER_CHECKLIST,
        employee_id=employee.id,
        trip_id=trip.id,
        recipient=employee.email,
        subject=translate(language, "checklist.subject", country=where, dates=dates),
        text=text,
        html=html,
        attachments=(
            Attachment(filename="trip.ics", content_type="text/calendar", text=trip_ics(trip, key, language)),
        ),
    )
