"""A simulated month of daily reminder runs: the right e-mail on the right day, each exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib.bootstrap import Settings
from chalicelib.models import Alert, AlertKind, Language
from chalicelib.reminders import send_reminders
from chalicelib.scan import ScanDeps
from tests.builders import assessment, employee, scan_deps, trip

START = date(2027, 3, 20)
APPLY_BY = date(2027, 3, 6)


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path) -> ScanDeps:
    d = scan_deps(mocked_aws, tmp_path / "out")
    d.repo.put_employee(employee())
    d.repo.save_trip(trip(START), assessment(apply_by=APPLY_BY))
    return d


def _sent(tmp_path: Path) -> list[tuple[str, str]]:
    parser = BytesParser(policy=policy.default)
    mails = [parser.parsebytes(p.read_bytes()) for p in sorted((tmp_path / "out").glob("*.eml"))]
    return [(str(m["To"]), str(m["Subject"])) for m in mails]


def test_a_month_of_daily_runs_sends_each_reminder_once_on_its_day(deps: ScanDeps, tmp_path: Path) -> None:
    sent_on: list[tuple[date, int]] = []
    day = date(2027, 2, 20)
    while day <= date(2027, 3, 25):
        for _ in range(2):  # a retried run the same day sends nothing more
            count = send_reminders(replace(deps, decided_on=day), escalation_email="head-of-hr@example.com")
            if count:
                sent_on.append((day, count))
        day += timedelta(days=1)
    # apply-by - 7 (2027-02-27), departure - 3 (with the escalation), departure - 1
    assert sent_on == [(date(2027, 2, 27), 1), (date(2027, 3, 17), 2), (date(2027, 3, 19), 1)]
    mails = _sent(tmp_path)
    assert [to for to, _ in mails] == [
        "hr@example.com",
        "hr@example.com",
        "head-of-hr@example.com",
        "hr@example.com",
    ]
    assert "Reminder, 21 days to departure" in mails[0][1]
    assert "ESCALATION, departs in 3 days" in mails[2][1]


def test_a_system_switched_on_late_sends_only_the_latest_reminder(deps: ScanDeps, tmp_path: Path) -> None:
    assert send_reminders(replace(deps, decided_on=date(2027, 3, 19))) == 1
    (only,) = _sent(tmp_path)
    assert "Reminder, 1 day to departure" in only[1]


def test_a_covered_case_gets_no_reminder(deps: ScanDeps, tmp_path: Path) -> None:
    from chalicelib.models import Status

    deps.repo.save_trip(trip(START), assessment(Status.COVERED))
    assert send_reminders(replace(deps, decided_on=date(2027, 3, 19)), escalation_email="x@example.com") == 0


class _Recorder:
    """Keeps what was sent (kind and banner are not in the .eml file names)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> str:
        self.alerts.append(alert)
        return f"rec-{len(self.alerts)}"


def test_reminders_and_escalations_say_how_close_departure_is_in_hrs_language(deps: ScanDeps) -> None:
    recorder = _Recorder()
    day = replace(deps, decided_on=date(2027, 3, 19), notifier=recorder, hr_language=Language.DE)
    assert send_reminders(day, escalation_email="head-of-hr@example.com") == 2
    reminder, escalation = recorder.alerts
    assert (reminder.kind, escalation.kind) == (AlertKind.REMINDER, AlertKind.ESCALATION)
    assert reminder.subject.startswith("[coverwatch] Erinnerung, noch 1 Tag bis zur Abreise: A1 fehlt:")
    assert reminder.text.startswith("Erinnerung: noch 1 Tag bis zur Abreise\n")
    assert escalation.recipient == "head-of-hr@example.com"
    assert escalation.text.startswith("Eskalation: Abreise in 1 Tag, noch nichts erfasst\n")
    assert "Beantragen bis: 06.03.2027" in escalation.text


def test_an_employer_chooses_its_own_reminder_points(deps: ScanDeps, tmp_path: Path) -> None:
    from chalicelib.bootstrap import settings_from_env

    settings = settings_from_env(
        {"COVERWATCH_REMINDERS": "apply_by-14, start-10", "COVERWATCH_ESCALATE_DAYS": "10"}
    )
    assert settings.reminder_points == (("apply_by", -14), ("start", -10))
    sent_on = []
    day = date(2027, 2, 1)
    while day <= date(2027, 3, 19):
        count = send_reminders(
            replace(deps, decided_on=day),
            escalation_email="head-of-hr@example.com",
            points=settings.reminder_points,
            escalate_within_days=settings.escalate_within_days,
        )
        if count:
            sent_on.append((day, count))
        day += timedelta(days=1)
    # apply-by (2027-03-06) - 14, and departure (2027-03-20) - 10 with its escalation
    assert sent_on == [(date(2027, 2, 20), 1), (date(2027, 3, 10), 2)]


@pytest.mark.parametrize(
    ("name", "value"),
    [("COVERWATCH_REMINDERS", "start-3,next tuesday"), ("COVERWATCH_ESCALATE_DAYS", "soon")],
)
def test_a_mistyped_schedule_setting_stops_start_up_with_the_fix(name: str, value: str) -> None:
    from chalicelib.bootstrap import settings_from_env

    with pytest.raises(ValueError, match=name):
        settings_from_env({name: value})
