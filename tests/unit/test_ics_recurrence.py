"""Recurring events in .ics files: what a user sees for repeated customer days, cancellations and windows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from chalicelib.connectors.base import SyncWindow
from chalicelib.connectors.ics import MAX_OCCURRENCES, IcsResult, read_ics, read_ics_file
from chalicelib.models import CalendarEvent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"
SPRING_2027 = SyncWindow(start=date(2027, 2, 1), end=date(2027, 5, 31))


def _read(name: str, window: SyncWindow | None = SPRING_2027) -> IcsResult:
    return read_ics_file(FIXTURES / name, window=window)


def _series(result: IcsResult, uid: str) -> list[CalendarEvent]:
    return sorted((e for e in result.events if e.uid.split("#")[0] == uid), key=lambda e: e.start)


def test_rrule_exdate_rdate_and_a_moved_occurrence_give_the_real_days() -> None:
    lyon = _series(_read("recurrence_expansion.ics"), "fixture-rr-weekly-lyon")

    # Mondays 1, 8 (moved to Tue 9), 15 (EXDATE), 22 (cancelled), 29 March, plus RDATE 7 April
    assert [e.start.date() for e in lyon] == [
        date(2027, 3, 1),
        date(2027, 3, 9),
        date(2027, 3, 29),
        date(2027, 4, 7),
    ]
    assert all(e.location == "Lyon" and not e.cancelled for e in lyon)
    assert lyon[1].title == "Customer day Lyon (moved to Tuesday)"
    assert lyon[2].start.utcoffset() == timedelta(hours=2)  # summer time from 28 March


def test_each_occurrence_has_a_stable_uid_with_its_original_start() -> None:
    first = [e.uid for e in _series(_read("recurrence_expansion.ics"), "fixture-rr-weekly-lyon")]
    again = [e.uid for e in _series(_read("recurrence_expansion.ics"), "fixture-rr-weekly-lyon")]

    assert first == again
    assert first == [
        "fixture-rr-weekly-lyon#2027-03-01T09:00:00+01:00",
        "fixture-rr-weekly-lyon#2027-03-08T09:00:00+01:00",  # moved to the 9th, id kept
        "fixture-rr-weekly-lyon#2027-03-29T09:00:00+02:00",
        "fixture-rr-weekly-lyon#2027-04-07T09:00:00+02:00",
    ]


def test_a_cancelled_occurrence_is_removed_but_a_cancelled_series_is_flagged() -> None:
    result = _read("recurrence_expansion.ics")

    assert not any(e.start.date() == date(2027, 3, 22) for e in _series(result, "fixture-rr-weekly-lyon"))
    madrid = _series(result, "fixture-rr-cancelled-series")
    assert [e.start.date() for e in madrid] == [date(2027, 4, 1), date(2027, 5, 1)]  # June is outside
    assert all(e.cancelled and e.all_day for e in madrid)


def test_only_occurrences_inside_the_window_are_read() -> None:
    result = _read("recurrence_expansion.ics")

    standups = _series(result, "fixture-rr-daily-forever")  # daily since 2020, never ends
    assert standups[0].start.date() == date(2027, 2, 1)
    assert standups[-1].start.date() == date(2027, 5, 31)
    assert len(standups) == 120
    assert "fixture-rr-single-outside" not in {e.uid for e in result.events}
    assert result.problems == []


def test_without_a_window_single_events_are_all_kept_and_series_are_bounded() -> None:
    result = _read("recurrence_expansion.ics", window=None)

    assert "fixture-rr-single-outside" in {e.uid for e in result.events}  # 2025: the CLI still shows it
    assert 0 < len(_series(result, "fixture-rr-daily-forever")) <= MAX_OCCURRENCES


def test_a_runaway_series_is_cut_and_reported_not_fatal() -> None:
    data = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:hourly\r
DTSTART:20270201T000000Z\r
RRULE:FREQ=HOURLY\r
SUMMARY:Ping\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:after\r
DTSTART:20270301T090000Z\r
SUMMARY:Still read\r
END:VEVENT\r
END:VCALENDAR\r
"""
    result = read_ics(data, calendar_id="c.ics", window=SPRING_2027)

    assert len([e for e in result.events if e.uid.startswith("hourly#")]) == MAX_OCCURRENCES
    assert "after" in {e.uid for e in result.events}
    assert [(p.uid, p.line) for p in result.problems] == [("hourly", 4)]
    assert str(MAX_OCCURRENCES) in result.problems[0].message


def test_a_rule_that_ends_before_it_starts_is_reported() -> None:
    data = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:never\r
DTSTART:20270310T090000Z\r
RRULE:FREQ=DAILY;UNTIL=20270101T000000Z\r
SUMMARY:Never happens\r
END:VEVENT\r
END:VCALENDAR\r
"""
    result = read_ics(data, calendar_id="c.ics", window=SPRING_2027)

    assert result.events == []
    assert [(p.uid, p.line) for p in result.problems] == [("never", 4)]
    assert "no occurrence" in result.problems[0].message


def test_a_series_with_a_broken_override_keeps_its_other_occurrences() -> None:
    data = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:weekly\r
DTSTART:20270301T090000Z\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:Weekly\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly\r
RECURRENCE-ID:20270308T090000Z\r
DTSTART:soon\r
SUMMARY:Weekly (moved)\r
END:VEVENT\r
END:VCALENDAR\r
"""
    result = read_ics(data, calendar_id="c.ics", window=SPRING_2027)

    assert [e.start for e in result.events] == [
        datetime.fromisoformat(f"2027-03-{d:02d}T09:00:00+00:00") for d in (1, 8, 15)
    ]
    assert len(result.problems) == 1
    assert "DTSTART" in result.problems[0].message
    assert "soon" in result.problems[0].message
