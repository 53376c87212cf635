"""Read-side request models and JSON shapes for the trip listings."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from pydantic import Field, model_validator

from chalicelib.models import Model
from chalicelib.store.repository import StoredTrip


class OpenCasesQuery(Model):
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.to < self.from_:
            raise ValueError(f"to ({self.to}) is before from ({self.from_})")
        return self


def stored_trip_json(stored: StoredTrip) -> dict[str, Any]:
    return {
        "trip": stored.trip.model_dump(mode="json"),
        "assessment": stored.assessment.model_dump(mode="json"),
        "version": stored.version,
    }
