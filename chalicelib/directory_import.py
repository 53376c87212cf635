"""Reading an HR system's employee export (CSV) into Employee records, with a reason for every row left out.

Why so forgiving about the file and so strict about the rows: HR exports come from many systems and
spreadsheets — with or without Excel's UTF-8 byte-order mark, separated by ``;`` (German locales) or
``,``, with headers like ``Home Country`` or ``HOME_COUNTRY`` and extra columns nobody asked for. None of
that changes what a row means, so it is accepted. A row's values, though, decide social-security
questions, so each row is validated exactly like ``PUT /v1/employees/{id}`` and, when it is wrong, left
out and reported with its line number and the fields at fault, while the good rows go through.

Pure: bytes in, records and rejections out; the route does the storing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from chalicelib.models import Employee

REQUIRED_COLUMNS = ("id", "name", "home_country", "nationalities", "residence_country")
OPTIONAL_COLUMNS = ("email", "employment_type", "employer_country", "language")
DELIMITERS = (";", ",", "\t")
_NATIONALITY_SEPARATORS = re.compile(r"[;|,]")


class UnreadableFileError(ValueError):
    """The body is not a text file we can read as CSV (empty, not UTF-8)."""


class HeaderError(ValueError):
    """The first line does not name the columns an import needs."""

    def __init__(self, missing: tuple[str, ...], duplicated: tuple[str, ...] = ()) -> None:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if duplicated:
            parts.append(f"column(s) named twice: {', '.join(duplicated)}")
        super().__init__("; ".join(parts))
        self.missing = missing
        self.duplicated = duplicated


@dataclass(frozen=True)
class RowError:
    field: str
    message: str


@dataclass(frozen=True)
class RejectedRow:
    row: int
    """The 1-based line of the file where the row starts (the header is line 1)."""
    id: str | None
    errors: tuple[RowError, ...]


@dataclass
class Directory:
    employees: list[tuple[int, Employee]] = field(default_factory=list)
    """Valid rows with the line each starts on, in file order."""
    rejected: list[RejectedRow] = field(default_factory=list)


ALIASES = {"e_mail": "email", "mail": "email"}
"""Spellings HR systems use for a column (German exports say ``E-Mail``)."""


def normalise_header(name: str) -> str:
    """``" Home Country "``, ``"HOME_COUNTRY"`` and ``"home-country"`` all name ``home_country``."""
    column = re.sub(r"[\s_-]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(column, column)


def read_directory(data: bytes) -> Directory:
    """Every row of the export as an Employee or a rejection; raises for a file that has no usable header."""
    text = _decode(data)
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), None)
    if header_line is None:
        raise UnreadableFileError("the file is empty; send the CSV export with its header row")
    delimiter = sniff_delimiter(header_line)
    rows = _rows(text, delimiter)
    _, header = next(rows)
    columns = [normalise_header(cell) for cell in header]
    _check_header(columns)
    directory = Directory()
    first_line_of: dict[str, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells a spreadsheet left behind
        record, errors = _record(columns, cells)
        row_id = record.get("id")
        if isinstance(row_id, str):
            if row_id in first_line_of:
                errors.append(RowError("id", f"id {row_id!r} is already on line {first_line_of[row_id]}"))
            else:
                first_line_of[row_id] = line
        if not errors:
            try:
                directory.employees.append((line, Employee.model_validate(record)))
                continue
            except ValidationError as exc:
                errors.extend(_row_errors(exc))
        rejected_id = row_id if isinstance(row_id, str) else None
        directory.rejected.append(RejectedRow(row=line, id=rejected_id, errors=tuple(errors)))
    return directory


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of the header line: the one it uses most (column names never contain them)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"the file is not UTF-8 (byte {exc.start}); export it as 'CSV UTF-8'"
        ) from None


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, its cells); a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        before = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFileError(f"line {reader.line_num}: {exc}") from None
        yield before + 1, cells


def _check_header(columns: list[str]) -> None:
    missing = tuple(c for c in REQUIRED_COLUMNS if c not in columns)
    known = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
    duplicated = tuple(sorted({c for c in columns if c in known and columns.count(c) > 1}))
    if missing or duplicated:
        raise HeaderError(missing, duplicated)


def _record(columns: list[str], cells: list[str]) -> tuple[dict[str, str | list[str]], list[RowError]]:
    """The row as Employee fields (empty cells left out, so a required one is reported as missing)."""
    errors: list[RowError] = []
    extra = [cell for cell in cells[len(columns) :] if cell.strip()]
    if extra:
        errors.append(RowError("(row)", f"the row has {len(cells)} cells; the header names {len(columns)}"))
    record: dict[str, str | list[str]] = {}
    for name, cell in zip(columns, cells, strict=False):
        value = cell.strip()
        if not value or name not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
            continue
        if name == "nationalities":
            record[name] = [code.strip() for code in _NATIONALITY_SEPARATORS.split(value) if code.strip()]
        else:
            record[name] = value
    return record, errors


def _row_errors(exc: ValidationError) -> list[RowError]:
    return [
        RowError(".".join(str(p) for p in err["loc"]) or "(row)", err["msg"].removeprefix("Value error, "))
        for err in exc.errors(include_url=False)
    ]
