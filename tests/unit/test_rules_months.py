"""The month arithmetic behind posting limits, on both sides of each boundary."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.rules.months import add_months, exceeds, posting_last_day


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 3, 1), 24, date(2027, 3, 1)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2025, 11, 15), 2, date(2026, 1, 15)),
        (date(2025, 12, 31), 60, date(2030, 12, 31)),
    ],
)
def test_add_months_clips_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_posting_last_day_is_one_day_before_the_same_date_n_months_later() -> None:
    assert posting_last_day(date(2025, 3, 1), 24) == date(2027, 2, 28)
    assert posting_last_day(date(2024, 2, 29), 12) == date(2025, 2, 27)


def test_exceeds_on_both_sides_of_the_limit() -> None:
    start = date(2025, 3, 1)
    assert not exceeds(start, date(2027, 2, 28), 24)
    assert exceeds(start, date(2027, 3, 1), 24)
    assert not exceeds(start, date(2099, 1, 1), None)
