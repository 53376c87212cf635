"""Reading HR exports: forgiving about the file's dialect, strict about each row's values."""

from __future__ import annotations

import pytest

from chalicelib.directory_import import (
    HeaderError,
    UnreadableFileError,
    normalise_header,
    read_directory,
    sniff_delimiter,
)

HEADER = "id,name,home_country,nationalities,residence_country"


@pytest.mark.parametrize(
    ("raw", "column"),
    [
        (" Home Country ", "home_country"),
        ("HOME_COUNTRY", "home_country"),
        ("home-country", "home_country"),
        ("E-Mail", "email"),
        ("Residence  Country", "residence_country"),
    ],
)
def test_header_names_are_matched_whatever_their_case_and_spacing(raw: str, column: str) -> None:
    assert normalise_header(raw) == column


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("id;name;home_country", ";"),
        ("id,name,home_country", ","),
        ("id\tname\thome_country", "\t"),
        ("id", ","),
    ],
)
def test_the_delimiter_is_the_one_the_header_uses(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def test_a_file_that_is_not_utf8_is_refused_with_a_hint() -> None:
    with pytest.raises(UnreadableFileError, match="CSV UTF-8"):
        read_directory(f"{HEADER}\ne1,Jürgen,DE,DE,DE\n".encode("cp1252"))


def test_a_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(HeaderError) as caught:
        read_directory(f"{HEADER},Name\n".encode())
    assert (caught.value.missing, caught.value.duplicated) == ((), ("name",))


def test_a_row_with_more_values_than_columns_is_rejected_but_trailing_empty_cells_are_not() -> None:
    directory = read_directory(f"{HEADER}\ne1,Anna,DE,DE,DE,,\ne2,Ben,DE,DE,DE,oops\n".encode())
    assert [e.id for _, e in directory.employees] == ["e1"]
    (rejected,) = directory.rejected
    assert (rejected.row, rejected.id, [e.field for e in rejected.errors]) == (3, "e2", ["(row)"])


def test_a_quoted_cell_spanning_lines_keeps_later_line_numbers_right() -> None:
    text = f'{HEADER}\ne1,"Anna\nSchmidt",DE,DE,DE\ne2,Ben,DE,DE,XX\n'
    directory = read_directory(text.encode())
    assert [(line, e.id) for line, e in directory.employees] == [(2, "e1")]
    assert [(r.row, r.id) for r in directory.rejected] == [(4, "e2")]


def test_optional_columns_and_every_nationality_separator_are_read() -> None:
    text = (
        "id;name;home_country;nationalities;residence_country;employment_type;employer_country;language\n"
        "e1;Anna;DE;DE | AT , FR;DE;self_employed;DE;de\n"
        "e2;Ben;DE;DE;DE;freelancer;;\n"
    )
    directory = read_directory(text.encode())
    ((_, anna),) = directory.employees
    assert (anna.nationalities, anna.employment_type, anna.employer_country, anna.language) == (
        ("DE", "AT", "FR"),
        "self_employed",
        "DE",
        "de",
    )
    assert [e.field for e in directory.rejected[0].errors] == ["employment_type"]
