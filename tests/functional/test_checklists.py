"""Travelers get their checklist a week before departure, once, with what to carry and how to answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib.alerts.links import verify
from chalicelib.bootstrap import Settings
from chalicelib.checklists import send_checklists
from chalicelib.models import Certificate, Connection, Employee, Purpose, SourceKind, Status
from chalicelib.scan import ScanDeps
from tests.builders import assessment, scan_deps, trip

SECRET = b"checklist-secret"
NOW = datetime(2027, 2, 24, 8, tzinfo=UTC)


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    d = scan_deps(mocked_aws, tmp_path / "out")
    d = ScanDeps(repo=d.repo, notifier=d.notifier, hr_email=d.hr_email, decided_on=date(2027, 2, 24))
    d.repo.put_employee(
        Employee(
            id="emp-1",
            name="Anna Schmidt",
            email="anna@example.com",
            home_country="DE",
            nationalities=("DE",),
            residence_country="DE",
        )
    )
    d.repo.put_connection(
        Connection(id="graph-anna", employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com")
    )
    return d


def _sent(tmp_path: Path) -> list:  # type: ignore[type-arg]
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted((tmp_path / "out").glob("*.eml"))]


def _send(deps: ScanDeps) -> int:
    return send_checklists(deps, now=NOW, answer_base_url="https://coverwatch.example.com", secret=SECRET)


def test_a_trip_next_week_gets_one_checklist_with_an_ics_reminder_and_answer_links(
    deps: ScanDeps, tmp_path: Path
) -> None:
    deps.repo.save_trip(trip(date(2027, 3, 3)).model_copy(update={"purpose": Purpose.UNKNOWN}), assessment())
    assert _send(deps) == 1
    assert _send(deps) == 0, "the same day's rerun sends nothing"
    (mail,) = _sent(tmp_path)
    assert mail["To"] == "anna@example.com"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Destination: France, 2027-03-03." in body
    assert "not on record yet: HR has been told" in body
    assert "not health insurance" in body
    links = [line.split(": ", 1)[1] for line in body.splitlines() if "/v1/answers/" in line]
    assert [verify(link.rsplit("/", 1)[1], SECRET, NOW).purpose for link in links] == [
        Purpose.WORK,
        Purpose.HOLIDAY,
    ]
    (ics,) = [part for part in mail.iter_attachments() if part.get_filename() == "trip.ics"]
    calendar = ics.get_content()
    assert "DTSTART;VALUE=DATE:20270303" in calendar
    assert "TRIGGER:-PT15H" in calendar


def test_an_issued_certificate_is_named_and_a_work_trip_needs_no_answer_links(
    deps: ScanDeps, tmp_path: Path
) -> None:
    deps.repo.put_certificate(
        Certificate(
            id="a1-9",
            employee_id="emp-1",
            document="A1",
            issuing_country="DE",
            host_countries=("FR",),
            valid_from=date(2027, 3, 1),
            valid_to=date(2027, 3, 31),
            reference="TK-A1-2027-9",
        )
    )
    deps.repo.save_trip(trip(date(2027, 3, 2)), assessment(Status.COVERED))
    assert _send(deps) == 1
    body = _sent(tmp_path)[0].get_body(preferencelist=("plain",)).get_content()
    assert "issued (reference TK-A1-2027-9): carry a copy" in body
    assert "/v1/answers/" not in body


@pytest.mark.parametrize(
    ("start", "purpose"),
    [
        (date(2027, 3, 10), Purpose.WORK),
        (date(2027, 3, 2), Purpose.HOLIDAY),
        (date(2027, 2, 20), Purpose.WORK),
    ],
)
def test_no_checklist_for_far_away_past_or_holiday_trips(
    deps: ScanDeps, start: date, purpose: Purpose
) -> None:
    deps.repo.save_trip(trip(start).model_copy(update={"purpose": purpose}), assessment())
    assert _send(deps) == 0


def test_a_trip_to_a_country_with_posting_rules_carries_its_notes_with_sources(
    deps: ScanDeps, tmp_path: Path
) -> None:
    from chalicelib.models import Language
    from chalicelib.rules.host_notes import notes_for

    notes = notes_for("FR", date(2027, 3, 3), Language.EN)
    assert notes, "the rules know France's posting declaration"
    deps.repo.save_trip(trip(date(2027, 3, 3)), assessment())
    assert _send(deps) == 1
    mail = _sent(tmp_path)[0]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Good to know in France" in text
    for note in notes:
        assert note.text in text
        assert f'href="{note.source_url}"' in html


def test_a_german_speaking_traveler_gets_the_notes_in_german(deps: ScanDeps, tmp_path: Path) -> None:
    from chalicelib.models import Language
    from chalicelib.rules.host_notes import notes_for

    anna = deps.repo.get_employee("emp-1")
    assert anna is not None
    deps.repo.put_employee(anna.model_copy(update={"language": Language.DE}))
    deps.repo.save_trip(trip(date(2027, 3, 3)), assessment())
    assert _send(deps) == 1
    text = _sent(tmp_path)[0].get_body(preferencelist=("plain",)).get_content()
    assert "Frankreich" in text
    for note in notes_for("FR", date(2027, 3, 3), Language.DE):
        assert note.text in text
