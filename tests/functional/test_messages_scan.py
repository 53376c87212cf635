"""HR hears of every case it must act on, in its own language: no agreement and review cases included."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings, settings_from_env
from chalicelib.models import Alert, Employee, Language, Status
from chalicelib.scan import ScanDeps, reassess_employee, scan_employee
from tests.builders import assessment, employee, scan_deps, trip


class _Recorder:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> str:
        self.alerts.append(alert)
        return f"rec-{len(self.alerts)}"


@pytest.fixture
def recorder() -> _Recorder:
    return _Recorder()


@pytest.fixture
def deps(mocked_aws: Settings, tmp_path: Path, recorder: _Recorder) -> ScanDeps:
    return replace(scan_deps(mocked_aws, tmp_path / "out"), notifier=recorder)


def _priya() -> Employee:
    """Indian national working for a Dutch employer: Denmark is outside Reg. 1231/2010, so a review."""
    return Employee(
        id="emp-1", name="Priya Nair", home_country="NL", nationalities=("IN",), residence_country="NL"
    )


def _stored(deps: ScanDeps, who: Employee, country: str) -> None:
    deps.repo.put_employee(who)
    deps.repo.save_trip(trip(date(2027, 3, 3), date(2027, 3, 5), country=country), assessment())


def test_a_trip_without_agreement_is_alerted_once_and_closed_when_cancelled(
    deps: ScanDeps, recorder: _Recorder
) -> None:
    anna = employee(home="DE")
    _stored(deps, anna, "SG")

    (result,) = reassess_employee(anna, deps).results
    assert (result.assessment.status, result.alerted) == (Status.NO_AGREEMENT, True)
    assert reassess_employee(anna, deps).alerts_sent == 0, "the same facts are not sent twice"
    (alert,) = recorder.alerts
    assert alert.subject == (
        "[coverwatch] No social-security agreement: Anna Schmidt in Singapore, 2027-03-03 to 2027-03-05"
    )
    assert "The host country's (Singapore) social security may apply from the first day of work" in alert.text

    scan_employee(anna, [], deps)  # the trip left the calendar
    assert recorder.alerts[-1].subject.startswith("[coverwatch] Resolved: Anna Schmidt in Singapore")


def test_a_case_coverwatch_cannot_decide_goes_to_hr_for_review(deps: ScanDeps, recorder: _Recorder) -> None:
    priya = _priya()
    _stored(deps, priya, "DK")
    (result,) = reassess_employee(priya, deps).results
    assert (result.assessment.status, result.alerted) == (Status.NEEDS_REVIEW, True)
    (alert,) = recorder.alerts
    assert alert.subject == "[coverwatch] Review needed: Priya Nair in Denmark, 2027-03-03 to 2027-03-05"
    assert "Why coverwatch could not decide:" in alert.text
    assert "national of India" in alert.text


def test_hr_messages_follow_the_configured_language(mocked_aws: Settings, recorder: _Recorder) -> None:
    settings = replace(mocked_aws, hr_language="de")
    deps = replace(bootstrap.scan_deps(settings), notifier=recorder)
    assert deps.hr_language is Language.DE
    anna = employee(home="DE")
    _stored(deps, anna, "SG")
    reassess_employee(anna, deps)
    (alert,) = recorder.alerts
    assert (
        alert.subject
        == "[coverwatch] Kein Sozialversicherungsabkommen: Anna Schmidt – Singapur, 03.03.2027 bis 05.03.2027"
    )
    assert bootstrap.scan_deps(mocked_aws).hr_language is Language.EN


def test_the_hr_language_is_read_from_the_environment_and_checked() -> None:
    assert settings_from_env({}).hr_language == "en"
    assert settings_from_env({"COVERWATCH_HR_LANGUAGE": " DE "}).hr_language == "de"
    with pytest.raises(ValueError, match="COVERWATCH_HR_LANGUAGE is 'fr'; use one of: en, de"):
        settings_from_env({"COVERWATCH_HR_LANGUAGE": "fr"})
