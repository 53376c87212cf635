"""Real-world .ics samples (kept outside the project): reading them must never blow up."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from chalicelib.connectors.ics import read_ics_file

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "ics"


@pytest.mark.filterwarnings("ignore")  # icalendar warns about guessed time zones in old exports
def test_every_real_sample_gives_events_or_problems_and_never_raises() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    files = sorted(SAMPLES.glob("*.ics"))
    assert files, f"{SAMPLES} holds no .ics files"

    silent = []
    for path in files:
        result = read_ics_file(path)
        has_vevent = b"BEGIN:VEVENT" in path.read_bytes().upper()
        # A calendar without any VEVENT (an empty export) legitimately gives neither.
        if has_vevent and not (result.events or result.problems):
            silent.append(path.name)
    assert silent == []


_VEVENT = re.compile(r"^BEGIN:VEVENT\r?$(.*?)^END:VEVENT\r?$", re.MULTILINE | re.DOTALL)
_UID = re.compile(r"^UID:(.*?)\r?$", re.MULTILINE)


def _rrule_uids(text: str) -> set[str]:
    """UIDs of the sample's recurring masters (RRULE inside a VEVENT, not inside a VTIMEZONE)."""
    uids = set()
    for block in _VEVENT.findall(re.sub(r"\r?\n[ \t]", "", text)):  # unfold long lines first
        uid = _UID.search(block)
        if re.search(r"^RRULE[:;]", block, re.MULTILINE) and uid and "RECURRENCE-ID" not in block:
            uids.add(uid.group(1).strip())
    return uids


@pytest.mark.filterwarnings("ignore")
def test_recurring_samples_are_expanded_into_occurrences_or_reported() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")

    checked = expanded = 0
    unexplained = []
    for path in sorted(SAMPLES.glob("*.ics")):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        uids = _rrule_uids(text)
        if not uids:
            continue
        result = read_ics_file(path)
        for uid in uids:
            checked += 1
            occurrences = [e for e in result.events if e.uid.startswith(f"{uid[:400]}#")]
            reported = any(p.uid and p.uid.startswith(uid[:60]) for p in result.problems)
            if len(occurrences) > 1:
                expanded += 1
            if not occurrences and not reported:
                unexplained.append(f"{path.name}: {uid}")
            assert not [e for e in result.events if e.uid == uid], f"{path.name}: {uid} was not expanded"
    assert unexplained == []
    assert checked >= 10
    assert expanded >= checked // 2


@pytest.mark.filterwarnings("ignore")
def test_a_cancelled_occurrence_in_a_real_sample_is_left_out() -> None:
    path = SAMPLES / "khal__event_rrule_recuid_cancelled.ics"
    if not path.is_file():
        pytest.skip(f"no sample {path}")

    days = sorted(e.start.date() for e in read_ics_file(path).events)

    assert days == [
        date(2014, 6, 30),
        date(2014, 7, 7),
        date(2014, 7, 21),
        date(2014, 7, 28),
        date(2014, 8, 4),
    ]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Windows display names without a VTIMEZONE: resolved through the CLDR table, DST included
        ("node-ical__Office-2012-owa.ics", {(date(2020, 10, 28), timedelta(hours=11)),  # Sydney, summer
                                           (date(2020, 10, 28), timedelta(hours=-4)),   # New York, EDT
                                           (date(2020, 11, 2), timedelta(hours=-5))}),  # New York, EST
        ("node-ical__windows-quoted-tz-rrule.ics", {(date(2015, 7, 6), timedelta(hours=-4))}),
        # Windows ids with a VTIMEZONE: the file's own definition is used
        ("node-ical__ms_timezones.ics", {(date(2020, 9, 10), timedelta(hours=2))}),
        ("khal__tz_windows_format.ics", {(date(2019, 11, 20), timedelta(hours=1))}),
    ],
)  # fmt: skip
def test_windows_zone_samples_give_zoned_times(name: str, expected: set[tuple[date, timedelta]]) -> None:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"no sample {path}")

    events = read_ics_file(path).events

    assert events
    assert all(e.all_day or e.start.tzinfo is not None for e in events), (
        "a Windows zone fell back to floating"
    )
    assert expected <= {(e.start.date(), e.start.utcoffset()) for e in events}
