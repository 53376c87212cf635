"""Small builders for domain objects, so tests state only what matters to them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib import bootstrap
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.bootstrap import Settings
from chalicelib.models import (
    Assessment,
    CalendarEvent,
    Certificate,
    DocumentType,
    Employee,
    Evidence,
    Instrument,
    Purpose,
    SourceKind,
    Status,
    Trip,
)
from chalicelib.scan import ScanDeps

EU883 = Instrument(
    id="eu883",
    title="Regulation (EC) No 883/2004",
    article="Art. 12",
    in_force_since=date(2010, 5, 1),
    source="https://eur-lex.europa.eu/eli/reg/2004/883/oj",
)


def employee(id: str = "emp-1", home: str = "DE", name: str = "Anna Schmidt") -> Employee:
    return Employee(id=id, name=name, home_country=home, nationalities=(home,), residence_country=home)


def trip(
    start: date, end: date | None = None, country: str = "FR", employee_id: str = "emp-1", id: str = "trp_1"
) -> Trip:
    return Trip(
        id=id,
        employee_id=employee_id,
        country=country,
        start=start,
        end=end or start,
        purpose=Purpose.WORK,
        confidence=0.9,
        evidence=(
            Evidence(
                source=SourceKind.ICS,
                uid="ev-1@example.com",
                summary="Client meeting <Paris>",
                place="Paris",
                rule="city",
                day=start,
            ),
        ),
    )


def assessment(
    status: Status = Status.CERTIFICATE_REQUIRED,
    decided_on: date = date(2027, 1, 15),
    apply_by: date | None = date(2027, 2, 17),
) -> Assessment:
    needs_doc = status in (Status.CERTIFICATE_REQUIRED, Status.EXCEEDS_MAXIMUM, Status.COVERED)
    return Assessment(
        status=status,
        document=DocumentType.A1 if needs_doc else None,
        instrument=EU883 if needs_doc else None,
        max_months=24 if needs_doc else None,
        apply_by=apply_by if needs_doc else None,
        explanation="Posting under Art. 12.",
        checklist=("Apply for the A1",),
        rule_ids=("eu883.art12",),
        decided_on=decided_on,
    )


def certificate(
    valid_from: date = date(2027, 1, 1),
    valid_to: date = date(2027, 12, 31),
    issuing: str = "DE",
    hosts: tuple[str, ...] = ("FR",),
    employee_id: str = "emp-1",
) -> Certificate:
    return Certificate(
        id="c1",
        employee_id=employee_id,
        document=DocumentType.A1,
        issuing_country=issuing,
        host_countries=hosts,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def paris_meeting(
    day: date, uid: str = "meeting-1@example.com", source: SourceKind = SourceKind.ICS
) -> CalendarEvent:
    """A day-long client workshop at a Paris address (09:00-17:00 Paris time)."""
    paris = ZoneInfo("Europe/Paris")
    return CalendarEvent(
        source=source,
        calendar_id="anna",
        uid=uid,
        title="Client workshop",
        location="Client HQ, 12 Rue de la Paix, Paris",
        start=datetime(day.year, day.month, day.day, 9, tzinfo=paris),
        end=datetime(day.year, day.month, day.day, 17, tzinfo=paris),
    )


def scan_deps(settings: Settings, outbox: Path) -> ScanDeps:
    """Deps for the scan use cases on moto, e-mails written to ``outbox``, decisions as of 2027-01-15."""
    return ScanDeps(
        repo=bootstrap.repository(settings),
        notifier=OutboxNotifier(outbox, settings.sender),
        hr_email="hr@example.com",
        decided_on=date(2027, 1, 15),
    )
