"""Loads an examples folder (employees.json + calendars) into typed objects, validating as it goes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, TypeAdapter

from chalicelib.models import Certificate, Employee, Model


class ExampleEmployee(Model):
    employee: Employee
    calendars: tuple[str, ...] = Field(min_length=1)


class ExampleFile(Model):
    hr_email: str = Field(min_length=3, max_length=320)
    escalation_email: str | None = Field(default=None, min_length=3, max_length=320)
    employees: tuple[ExampleEmployee, ...]
    certificates: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class Examples:
    folder: Path
    data: ExampleFile

    def calendar_paths(self, entry: ExampleEmployee) -> tuple[str, ...]:
        return tuple(str((self.folder / c).resolve()) for c in entry.calendars)


def load_examples(folder: Path) -> Examples:
    raw = json.loads((folder / "employees.json").read_text(encoding="utf-8"))
    return Examples(folder=folder, data=TypeAdapter(ExampleFile).validate_python(raw))
