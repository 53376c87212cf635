"""The models stop bad data where it enters: countries, date order, unknown fields."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from chalicelib.models import Employee, Trip
from tests.builders import certificate


def _employee(**overrides: object) -> Employee:
    fields: dict[str, object] = {
        "id": "e1",
        "name": "Anna",
        "home_country": "DE",
        "nationalities": ["DE"],
        "residence_country": "DE",
    }
    return Employee.model_validate(fields | overrides)


def test_country_codes_are_normalised_and_common_aliases_accepted() -> None:
    employee = _employee(home_country=" de ", nationalities=["UK", "el"], residence_country="gb")
    assert (employee.home_country, employee.nationalities, employee.residence_country) == (
        "DE",
        ("GB", "GR"),
        "GB",
    )


@pytest.mark.parametrize("bad", ["XX", "DEU", "Germany", "", "D"])
def test_unknown_country_is_rejected_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        _employee(home_country=bad)
    (error,) = err.value.errors()
    assert error["loc"] == ("home_country",)
    assert "ISO 3166-1" in error["msg"]


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        _employee(salary=100000)
    assert err.value.errors()[0]["type"] == "extra_forbidden"


def test_a_trip_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValidationError, match="before start"):
        Trip(
            id="t",
            employee_id="e",
            country="FR",
            start=date(2027, 3, 3),
            end=date(2027, 3, 2),
            confidence=0.5,
        )


def test_certificate_covers_only_its_countries_and_whole_stay() -> None:
    cert = certificate(date(2027, 5, 17), date(2027, 5, 21), issuing="FR", hosts=("CH",))
    assert cert.covers("CH", date(2027, 5, 18), date(2027, 5, 20))
    assert not cert.covers("CH", date(2027, 5, 18), date(2027, 5, 22))
    assert not cert.covers("DE", date(2027, 5, 18), date(2027, 5, 20))
