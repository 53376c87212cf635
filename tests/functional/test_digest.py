"""HR's daily digest: open cases by urgency, what is new, once a day, and silence on quiet days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib import digest
from chalicelib.bootstrap import Settings
from chalicelib.digest import Digest, send_digest
from chalicelib.models import AlertKind, FailedMessage, Language
from chalicelib.scan import ScanDeps
from tests.builders import assessment, scan_deps, trip


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    return scan_deps(mocked_aws, tmp_path / "out")


def _mail(tmp_path: Path) -> list[str]:
    return [p.read_text() for p in sorted((tmp_path / "out").glob("*.eml"))]


def test_the_digest_lists_open_cases_most_urgent_first_and_goes_out_once(
    deps: ScanDeps, tmp_path: Path
) -> None:
    day1 = replace(deps, decided_on=date(2027, 1, 14))
    day1.repo.save_trip(
        trip(date(2027, 5, 3), id="later", country="US"),
        assessment(decided_on=day1.decided_on, apply_by=date(2027, 3, 22)),
    )
    deps.repo.save_trip(trip(date(2027, 2, 3), id="soon"), assessment(apply_by=date(2027, 1, 20)))
    assert send_digest(deps) is True
    assert send_digest(deps) is False, "one digest a day"
    (text,) = _mail(tmp_path)
    soon, later = text.index("France 2027-02-03"), text.index("United States 2027-05-03")
    assert soon < later, "the case with the nearest apply-by comes first"
    assert "Open cases, most urgent first (2)" in text
    assert "New since yesterday (2)" in text  # both first seen on 2027-01-14 or 15
    assert "apply within 5 days" in text


def test_a_quiet_day_sends_nothing_unless_asked(deps: ScanDeps, tmp_path: Path) -> None:
    old = replace(deps, decided_on=date(2027, 1, 1))
    old.repo.save_trip(trip(date(2027, 3, 3)), assessment(decided_on=old.decided_on))
    assert send_digest(deps) is False
    assert send_digest(deps, send_when_quiet=True) is True
    assert "New since yesterday (0)" in _mail(tmp_path)[0]


def _failed() -> FailedMessage:
    return FailedMessage(
        key="traveler_checklist:trp_9:v1",
        kind=AlertKind.TRAVELER_CHECKLIST,
        employee_id="emp-9",
        recipient="jonas@example.com",
        subject="Your trip to Norway (2027-01-20): what to carry",
        channel="email",
        attempts=5,
        last_error="MessageRejected: address on the suppression list",
        claimed_on=date(2027, 1, 14),
    )


def test_undelivered_messages_are_news_and_listed_with_recipient_attempts_and_error(
    deps: ScanDeps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "collect", lambda _: Digest([], [], [], failed=[_failed()]))
    assert send_digest(deps) is True, "a quiet day with an undelivered message still sends the digest"
    (mail,) = _mail(tmp_path)
    assert "1 not delivered" in mail
    alert = digest.build(Digest([], [], [], failed=[_failed()]), deps.decided_on, "hr@example.com")
    assert "Messages that could not be delivered (1):" in alert.text
    assert (
        "- Traveler's checklist to jonas@example.com: “Your trip to Norway (2027-01-20): what to carry”, "
        "5 attempts, last error: MessageRejected: address on the suppression list"
    ) in alert.text
    assert "Messages that could not be delivered (1)</h2>" in alert.html
    assert "could not be delivered" not in digest.build(Digest([], [], []), deps.decided_on, "hr").text


def test_hr_gets_the_digest_in_its_language(deps: ScanDeps, tmp_path: Path) -> None:
    deps.repo.save_trip(trip(date(2027, 2, 3), id="soon"), assessment(apply_by=date(2027, 1, 20)))
    assert send_digest(replace(deps, hr_language=Language.DE)) is True
    alert = digest.build(digest.collect(deps), deps.decided_on, "hr@example.com", language=Language.DE)
    assert alert.subject == "[coverwatch] Tagesübersicht 15.01.2027: 1 offen, 1 neu"
    assert (
        "- emp-1: Frankreich 03.02.2027, A1 fehlt, innerhalb von 5 Tagen beantragen, Abreise in 19 Tagen"
        in alert.text
    )
    assert "Offene Fälle, dringendste zuerst (1)" in alert.html
