"""The "does this trip need a certificate?" use cases behind POST /v1/checks and POST /v1/journeys.

The request and response shapes are a public contract: later versions add fields, never remove or
rename them. Both the API and the CLI call ``run_check``, so they always give the same answer.
A journey through several countries gets one decision per host (each is its own posting) and, when
the employee's trips show regular work in several EU/EEA/Swiss states, a suggestion of one Art. 13 A1.

A check that names a stored employee (``employee_id``) is answered with what HR recorded: the profile
fills the facts the caller left out (a booking tool rarely knows nationalities or residence) and the
employee's certificates count. ``CheckAnswerer`` loads each employee once, so a batch of trips for the
same traveler costs one read of their profile and certificates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.countries import CountryCode
from chalicelib.models import Assessment, Certificate, Employee, EmploymentType, Model, Purpose, Trip
from chalicelib.problems import not_found_problem
from chalicelib.rules import assess, assess_journey, suggest_multi_state

CHECK_EMPLOYEE = "check"


class CheckBody(Model):
    """The body of ``POST /v1/checks`` (and each trip of a batch): a trip, and who makes it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"home_country": "DE", "host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"}
            ]
        },
    )

    home_country: CountryCode | None = Field(
        default=None,
        description="Required unless `employee_id` names a stored employee, whose home country it then is.",
    )
    host_country: CountryCode
    start: date
    end: date
    nationality: CountryCode | None = None
    residence_country: CountryCode | None = None
    employment_type: EmploymentType = EmploymentType.EMPLOYEE
    purpose: Purpose = Purpose.WORK
    employee_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="A stored employee: their profile fills the fields left out, their certificates count.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class CheckRequest(CheckBody):
    """A check whose caller knows the home country (the CLI, benchmarks): no stored profile needed."""

    home_country: CountryCode


def _employee(request: CheckBody | JourneyRequest, profile: Employee | None = None) -> Employee:
    """Who travels: the request's facts, the stored profile for what the request leaves out."""
    home = request.home_country or (profile.home_country if profile else None)
    if home is None:
        raise ValueError("home_country is needed when no stored employee is named")
    if request.nationality is not None:
        nationalities: tuple[str, ...] = (request.nationality,)
    else:
        nationalities = profile.nationalities if profile else (home,)
    residence = request.residence_country or (profile.residence_country if profile else home)
    employment = request.employment_type
    if profile is not None and "employment_type" not in request.model_fields_set:
        employment = profile.employment_type
    return Employee(
        id=profile.id if profile else request.employee_id or CHECK_EMPLOYEE,
        name=profile.name if profile else request.employee_id or "(check)",
        home_country=home,
        nationalities=nationalities,
        residence_country=residence,
        employment_type=employment,
        employer_country=profile.employer_country if profile else None,
    )


def run_check(
    request: CheckBody,
    certificates: Sequence[Certificate],
    decided_on: date,
    profile: Employee | None = None,
) -> Assessment:
    """The decision for one trip; ``profile`` (the stored employee) fills what the request omits."""
    employee = _employee(request, profile)
    trip = _trip("check", employee, request)
    return assess(trip, employee, certificates, decided_on)


class EmployeeRecords(Protocol):
    def get_employee(self, employee_id: str) -> Employee | None: ...
    def certificates_of(self, employee_id: str) -> list[Certificate]: ...


@dataclass(frozen=True)
class CheckRefusal:
    """Why a well-formed check cannot be answered: the field at fault, as the caller named it."""

    status: int
    field: str
    message: str

    def problem(self, prefix: str = "") -> dict[str, Any]:
        """The problem+json body; ``prefix`` places the field inside a batch (``trips.3.``)."""
        where = prefix + self.field
        if self.status == 404:
            return not_found_problem(where, self.message)
        return {
            "type": "urn:coverwatch:problem:validation",
            "title": "The request is not valid",
            "status": self.status,
            "detail": f"Invalid field(s): {where}",
            "errors": [{"field": where, "message": self.message}],
        }


@dataclass
class CheckAnswerer:
    """Answers checks against the stored employees, reading each employee at most once."""

    records: EmployeeRecords
    decided_on: date
    _loaded: dict[str, tuple[Employee, list[Certificate]] | None] = field(default_factory=dict)

    def answer(self, request: CheckBody) -> Assessment | CheckRefusal:
        profile: Employee | None = None
        certificates: list[Certificate] = []
        if request.employee_id is not None:
            loaded = self._load(request.employee_id)
            if loaded is None:
                return CheckRefusal(404, "employee_id", f"no employee {request.employee_id!r}")
            profile, certificates = loaded
        if request.home_country is None and profile is None:
            return CheckRefusal(
                400, "home_country", "Field required (or name a stored employee with employee_id)"
            )
        return run_check(request, certificates, self.decided_on, profile)

    def _load(self, employee_id: str) -> tuple[Employee, list[Certificate]] | None:
        if employee_id not in self._loaded:
            profile = self.records.get_employee(employee_id)
            self._loaded[employee_id] = (
                (profile, self.records.certificates_of(employee_id)) if profile else None
            )
        return self._loaded[employee_id]


def _trip(trip_id: str, employee: Employee, stay: CheckBody | JourneyLeg) -> Trip:
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
