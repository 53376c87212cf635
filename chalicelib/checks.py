"""The "does this trip need a certificate?" use cases behind POST /v1/checks and POST /v1/journeys.

The request and response shapes are a public contract: later versions add fields, never remove or
rename them. Both the API and the CLI call ``run_check``, so they always give the same answer.
A journey through several countries gets one decision per host (each is its own posting) and, when
the employee's trips show regular work in several EU/EEA/Swiss states, a suggestion of one Art. 13 A1.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from chalicelib.countries import CountryCode
from chalicelib.models import Assessment, Certificate, Employee, EmploymentType, Model, Purpose, Trip
from chalicelib.rules import assess, assess_journey, suggest_multi_state

CHECK_EMPLOYEE = "check"


class CheckRequest(Model):
    home_country: CountryCode
    host_country: CountryCode
    start: date
    end: date
    nationality: CountryCode | None = None
    residence_country: CountryCode | None = None
    employment_type: EmploymentType = EmploymentType.EMPLOYEE
    purpose: Purpose = Purpose.WORK
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


def _employee(request: CheckRequest | JourneyRequest) -> Employee:
    return Employee(
        id=request.employee_id or CHECK_EMPLOYEE,
        name=request.employee_id or "(check)",
        home_country=request.home_country,
        nationalities=(request.nationality or request.home_country,),
        residence_country=request.residence_country or request.home_country,
        employment_type=request.employment_type,
    )


def run_check(request: CheckRequest, certificates: Sequence[Certificate], decided_on: date) -> Assessment:
    employee = _employee(request)
    trip = _trip("check", employee, request)
    return assess(trip, employee, certificates, decided_on)


def _trip(trip_id: str, employee: Employee, stay: CheckRequest | JourneyLeg) -> Trip:
    """A trip the caller states as fact (confidence 1), not one detected in a calendar."""
    return Trip(
        id=trip_id,
        employee_id=employee.id,
        country=stay.host_country,
        start=stay.start,
        end=stay.end,
        purpose=stay.purpose,
        confidence=1.0,
    )


def check_response(assessment: Assessment) -> dict[str, Any]:
    """The JSON body of a 200 answer (the contract's fields first, then additions)."""
    return assessment.model_dump(mode="json")


class JourneyLeg(Model):
    host_country: CountryCode
    start: date
    end: date
    purpose: Purpose = Purpose.WORK

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class JourneyRequest(Model):
    home_country: CountryCode
    legs: tuple[JourneyLeg, ...] = Field(max_length=50)
    nationality: CountryCode | None = None
    residence_country: CountryCode | None = None
    employment_type: EmploymentType = EmploymentType.EMPLOYEE
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("legs", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        # checked before the items, so one bad leg is not also reported as "no legs"
        if isinstance(value, list | tuple) and not value:
            raise ValueError("a journey needs at least one leg")
        return value


def run_journey(
    request: JourneyRequest, certificates: Sequence[Certificate], history: Sequence[Trip], decided_on: date
) -> dict[str, Any]:
    """One assessment per leg, and an Art. 13 suggestion from ``history`` plus the legs when it fits."""
    employee = _employee(request)
    legs = [_trip(f"leg-{i}", employee, leg) for i, leg in enumerate(request.legs, start=1)]
    decisions = assess_journey(legs, employee, certificates, decided_on)
    suggestion = suggest_multi_state([*history, *legs], employee, decided_on)
    return {
        "legs": [
            {
                "host_country": leg.country,
                "start": leg.start.isoformat(),
                "end": leg.end.isoformat(),
                **check_response(decision),
            }
            for leg, decision in zip(legs, decisions, strict=True)
        ],
        "multi_state": suggestion.model_dump(mode="json") if suggestion else None,
    }
