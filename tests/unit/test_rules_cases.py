"""Legal examples from tests/rules/cases/*.yaml, each run through the rules engine.

The cases are written as sentences a lawyer could check, with the facts and the expected answer;
keeping them as data makes it cheap to add the example that proves a new rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from chalicelib.models import Certificate, Employee, EmploymentType, Purpose, Trip
from chalicelib.rules import assess

CASES_DIR = Path(__file__).resolve().parents[1] / "rules" / "cases"
UNSET: Any = object()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseEmployee(_Strict):
    home: str
    nationality: list[str]
    residence: str
    employment_type: EmploymentType = EmploymentType.EMPLOYEE


class CaseTrip(_Strict):
    country: str
    start: date
    end: date
    purpose: Purpose


class Expect(_Strict):
    status: str
    document: str | None = UNSET
    instrument: str | None = UNSET
    max_months: int | None = UNSET
    exceeds_max: bool = UNSET
    apply_by: date | None = UNSET
    certificate_id: str | None = UNSET
    rule_ids: list[str] = []
    explanation_contains: list[str] = []
    checklist_contains: list[str] = []


class Case(_Strict):
    name: str
    decided_on: date
    employee: CaseEmployee
    trip: CaseTrip
    certificates: list[dict[str, Any]] = []
    expect: Expect


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
            case = Case.model_validate(raw)
            params.append(pytest.param(case, id=f"{path.stem}: {case.name}"))
    return params


CASES = _load()


def test_there_are_cases_for_every_regime() -> None:
    assert len(CASES) >= 30
    assert {p.id.split(":")[0] for p in CASES} >= {"eu_883_2004", "uk_eu_tca", "us_bilateral", "general"}


@pytest.mark.parametrize("case", CASES)
def test_legal_example(case: Case) -> None:
    employee = Employee(
        id="emp-1",
        name="Traveler",
        home_country=case.employee.home,
        nationalities=tuple(case.employee.nationality),
        residence_country=case.employee.residence,
        employment_type=case.employee.employment_type,
    )
    trip = Trip(
        id="trip-1",
        employee_id="emp-1",
        country=case.trip.country,
        start=case.trip.start,
        end=case.trip.end,
        purpose=case.trip.purpose,
        confidence=0.9,
    )
    certs = [Certificate.model_validate({"employee_id": "emp-1", **c}) for c in case.certificates]

    result = assess(trip, employee, certs, case.decided_on)

    want = case.expect
    assert result.status.value == want.status, result.explanation
    assert result.decided_on == case.decided_on
    if want.document is not UNSET:
        assert (result.document.value if result.document else None) == want.document
    if want.instrument is not UNSET:
        assert (result.instrument.id if result.instrument else None) == want.instrument
    if want.max_months is not UNSET:
        assert result.max_months == want.max_months
    if want.exceeds_max is not UNSET:
        assert result.exceeds_max is want.exceeds_max
    if want.apply_by is not UNSET:
        assert result.apply_by == want.apply_by
    if want.certificate_id is not UNSET:
        assert result.certificate_id == want.certificate_id
    assert set(want.rule_ids) <= set(result.rule_ids), result.rule_ids
    for text in want.explanation_contains:
        assert text in result.explanation
    for text in want.checklist_contains:
        assert any(text in item for item in result.checklist), result.checklist
