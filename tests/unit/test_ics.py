"""The ICS connector: what a user who uploads an .ics export gets back (events and problems)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.connectors.ics import IcsResult, read_ics, read_ics_file
from chalicelib.models import CalendarEvent, EventKind, SourceKind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"


def _read(name: str) -> IcsResult:
    return read_ics_file(FIXTURES / name)


def _by_uid(result: IcsResult) -> dict[str, CalendarEvent]:
    return {event.uid: event for event in result.events}


def test_outlook_windows_zone_with_vtimezone_keeps_local_time_and_offset() -> None:
    result = _read("outlook_windows_tz.ics")
    events = _by_uid(result)

    assert result.problems == []
    winter = events["fixture-outlook-winter"]
    assert winter.start.replace(tzinfo=None) == datetime(2027, 1, 20, 9, 0)
    assert winter.start.utcoffset() == timedelta(hours=1)
    assert winter.end.replace(tzinfo=None) == datetime(2027, 1, 20, 10, 30)
    summer = events["fixture-outlook-summer"]
    assert summer.start.replace(tzinfo=None) == datetime(2027, 7, 15, 14, 0)
    assert summer.start.utcoffset() == timedelta(hours=2)
    assert winter.source is SourceKind.ICS
    assert winter.calendar_id == "outlook_windows_tz.ics"
    assert (winter.title, winter.location) == ("Budget review", "Room 2.01")


def test_windows_zone_without_vtimezone_is_still_zoned() -> None:
    event = _by_uid(_read("outlook_windows_tz.ics"))["fixture-outlook-no-vtimezone"]

    assert event.start.replace(tzinfo=None) == datetime(2027, 3, 1, 9, 0)
    assert event.start.utcoffset() == timedelta(hours=1)


def test_outlook_midnight_all_day_flag_gives_an_all_day_event() -> None:
    event = _by_uid(_read("outlook_windows_tz.ics"))["fixture-outlook-allday-midnight"]

    assert event.all_day
    assert (event.start, event.end) == (datetime(2027, 5, 10), datetime(2027, 5, 12))


def test_iana_utc_and_floating_times_are_kept_as_written() -> None:
    events = _by_uid(_read("times.ics"))

    iana = events["fixture-iana"]
    assert iana.start.replace(tzinfo=None) == datetime(2027, 3, 10, 9, 0)
    assert iana.start.utcoffset() == timedelta(hours=-5)  # US summer time starts 2027-03-14
    utc = events["fixture-utc"]
    assert utc.start.hour == 14
    assert utc.start.utcoffset() == timedelta(0)
    floating = events["fixture-floating"]
    assert floating.start == datetime(2027, 3, 10, 9, 0)
    assert floating.start.tzinfo is None


def test_all_day_events_are_naive_midnights_with_exclusive_end() -> None:
    events = _by_uid(_read("times.ics"))

    three_days = events["fixture-allday-range"]
    assert three_days.all_day
    assert (three_days.start, three_days.end) == (datetime(2027, 4, 5), datetime(2027, 4, 8))
    one_day = events["fixture-allday-no-end"]
    assert one_day.all_day
    assert (one_day.start, one_day.end) == (datetime(2027, 4, 12), datetime(2027, 4, 13))


def test_missing_end_means_start_and_duration_gives_end() -> None:
    events = _by_uid(_read("times.ics"))

    no_end = events["fixture-timed-no-end"]
    assert no_end.end == no_end.start
    assert not no_end.all_day
    with_duration = events["fixture-duration"]
    assert with_duration.end - with_duration.start == timedelta(hours=1, minutes=30)


def test_cancelled_and_out_of_office_are_flagged() -> None:
    events = _by_uid(_read("status.ics"))

    assert events["fixture-cancelled"].cancelled
    assert not events["fixture-confirmed"].cancelled
    assert events["fixture-oof"].kind is EventKind.OUT_OF_OFFICE
    assert events["fixture-oof-intended"].kind is EventKind.OUT_OF_OFFICE
    assert events["fixture-transparent"].kind is EventKind.EVENT  # a birthday is not an absence
    assert events["fixture-confirmed"].kind is EventKind.EVENT


def test_a_broken_event_is_reported_and_skipped_not_the_file() -> None:
    result = _read("broken_events.ics")

    assert sorted(_by_uid(result)) == ["fixture-good-after", "fixture-good-before"]
    problems = {problem.uid: problem for problem in result.problems}
    assert set(problems) == {"fixture-bad-dtstart", "fixture-end-before-start", "fixture-no-dtstart"}
    assert "DTSTART" in problems["fixture-bad-dtstart"].message
    assert "next tuesday" in problems["fixture-bad-dtstart"].message
    assert "before" in problems["fixture-end-before-start"].message
    assert "DTSTART" in problems["fixture-no-dtstart"].message
    assert problems["fixture-bad-dtstart"].line == 11  # the line of its UID
    assert all(p.source is SourceKind.ICS and p.calendar_id == "broken_events.ics" for p in result.problems)


def test_a_file_with_a_stray_line_is_read_event_by_event() -> None:
    result = _read("malformed_file.ics")

    assert sorted(_by_uid(result)) == ["fixture-survivor-1", "fixture-survivor-2"]
    assert len(result.problems) == 1
    assert result.problems[0].uid is None
    assert "not well-formed" in result.problems[0].message


def test_a_file_that_is_not_icalendar_gives_one_problem_and_no_events() -> None:
    result = _read("not_a_calendar.html")

    assert result.events == []
    assert len(result.problems) == 1
    assert "not an iCalendar file" in result.problems[0].message


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n\x00\x00", b"just some text"])
def test_garbage_never_raises(data: bytes) -> None:
    result = read_ics(data, calendar_id="upload.ics")

    assert result.events == []
    assert len(result.problems) == 1


def test_description_and_attendees_are_never_copied() -> None:
    result = _read("personal_data.ics")
    event = _by_uid(result)["fixture-personal"]

    dumped = "".join(e.model_dump_json() for e in result.events)
    assert "SECRET" not in dumped
    assert "secret." not in dumped
    assert event.title == "Appraisal talk"
    assert event.location == "Tour Montparnasse, 33 Avenue du Maine, Paris"


def test_long_titles_are_cut_to_500_characters() -> None:
    event = _by_uid(_read("personal_data.ics"))["fixture-long-title"]

    assert len(event.title) == 500
    assert event.title.startswith("LONGTITLE LONGTITLE")


def test_an_event_without_uid_gets_a_stable_one() -> None:
    first = [e for e in _read("personal_data.ics").events if e.title == "Event without a UID"]
    second = [e for e in _read("personal_data.ics").events if e.title == "Event without a UID"]

    assert len(first) == 1
    assert first[0].uid.startswith("ics-")
    assert first[0].uid == second[0].uid


def test_recurring_events_are_expanded_with_moved_occurrences_in_place() -> None:
    events = _by_uid(_read("recurring.ics"))

    weekly = sorted(
        (e for uid, e in events.items() if uid.startswith("fixture-weekly#")), key=lambda e: e.start
    )
    assert len(weekly) == 10  # COUNT=10
    assert weekly[0].uid == "fixture-weekly#2027-01-04T09:00:00+01:00"
    moved = events["fixture-weekly#2027-01-11T09:00:00+01:00"]  # keeps its original start as id
    assert moved.start.replace(tzinfo=None) == datetime(2027, 1, 12, 9, 0)
    assert moved.title == "Weekly sync (moved to Tuesday)"
    assert datetime(2027, 1, 11, 9, 0) not in [e.start.replace(tzinfo=None) for e in weekly]
    # the first daily occurrence was moved to 10:00: only the moved copy remains for that day
    daily = sorted(
        e.start.replace(tzinfo=None) for uid, e in events.items() if uid.startswith("fixture-daily#")
    )
    assert daily == [datetime(2027, 2, 1, 10, 0)] + [datetime(2027, 2, d, 8, 0) for d in range(2, 6)]
