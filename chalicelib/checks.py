"""The "does this trip need a certificate?" use case behind POST /v1/checks and `coverwatch check`.

The request and response shapes are a public contract: later versions add fields, never remove or
rename them. Both the API and the CLI call ``run_check``, so they always give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Self

from pydantic import Field, model_validator

from chalicelib.countries import CountryCode
from chalicelib.models import Assessment, Certificate, Employee, EmploymentType, Model, Purpose, Trip
from chalicelib.rules import assess

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


def run_check(request: CheckRequest, certificates: Sequence[Certificate], decided_on: date) -> Assessment:
    employee = Employee(
        id=request.employee_id or CHECK_EMPLOYEE,
        name=request.employee_id or "(check)",
        home_country=request.home_country,
        nationalities=(request.nationality or request.home_country,),
        residence_country=request.residence_country or request.home_country,
        employment_type=request.employment_type,
    )
    trip = Trip(
        id="check",
        employee_id=employee.id,
        country=request.host_country,
        start=request.start,
        end=request.end,
        purpose=request.purpose,
        confidence=1.0,
    )
    return assess(trip, employee, certificates, decided_on)


def check_response(assessment: Assessment) -> dict[str, Any]:
    """The JSON body of a 200 answer (the contract's fields first, then additions)."""
    return assessment.model_dump(mode="json")
