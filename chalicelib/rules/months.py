"""Calendar-month arithmetic for posting limits, with one stated rounding rule.

Rule: a posting of N months that starts on day S may last until ``add_months(S, N) - 1 day``
inclusive; when the target month is shorter, the day is clipped to that month's last day
(2024-01-31 + 1 month = 2024-02-29). A trip exceeds the limit when it ends after that last day.
So 24 months from 2025-03-01 run to 2027-02-28 inclusive, and ending on 2027-03-01 is one day over.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clipped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def posting_last_day(start: date, months: int) -> date:
    """The last day a posting of ``months`` months starting on ``start`` may last (inclusive)."""
    return add_months(start, months) - timedelta(days=1)


def exceeds(start: date, end: date, months: int | None) -> bool:
    """True when a stay from ``start`` to ``end`` runs past a limit of ``months`` (None = no limit)."""
    return months is not None and end > posting_last_day(start, months)
