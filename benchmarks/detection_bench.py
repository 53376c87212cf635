"""Events per second through ``detect_trips`` on one core, for a realistic generated mix.

Why: every sync rebuilds an employee's trips from all their events, and a tenant has thousands of
employees; issue 5 sets a floor of 50,000 events/s. The mix imitates real calendars: mostly
recurring virtual meetings and office rooms, domestic meetings at addresses, focus blocks without
a place, and per employee a few journeys (calendar flights across zones, booked flights and hotels,
foreign meetings, all-day conferences, holidays, cancellations). Titles vary per employee (names,
clients), so the text caches see the share of repeats a real tenant gives them, not 100%.

Printed, never asserted: ``python -m benchmarks.detection_bench`` (or ``run()`` from ``make bench``).
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.detection.trips import detect_trips
from chalicelib.models import CalendarEvent, EventKind, SourceKind

HOME = ("DE", "Europe/Berlin", "FRA", ["Hamburg office, Am Sandtorkai 1, 20457 Hamburg", "Berlin", "München"])
ABROAD = [
    ("US", "America/New_York", "BOS", "Boston, MA"),
    ("GB", "Europe/London", "LHR", "Canary Wharf, London, UK"),
    ("FR", "Europe/Paris", "CDG", "12 Rue de la Paix, Paris"),
    ("SG", "Asia/Singapore", "SIN", "Marina Bay Sands, Singapore"),
    ("ES", "Europe/Madrid", "MAD", "Calle de Alcalá 21, Madrid, Spain"),
    ("JP", "Asia/Tokyo", "HND", "Tokyo, Japan"),
    ("IT", "Europe/Rome", "MXP", "Via Torino 2, Milano"),
]
VIRTUAL = [
    "Microsoft Teams Meeting",
    "Zoom",
    "https://meet.google.com/abc-defg-hij",
    "Room 4.12",
    "Home office",
]
RECURRING = ["Daily stand-up", "Payroll team weekly", "Sprint review", "Pipeline review", "All hands"]
NAMES = [
    f"{first} {last}" for first in ("Jonas", "Priya", "Marc", "Ana", "Li", "Sven") for last in "ABCDEFGH"
]
CLIENTS = [f"Client {i:03d}" for i in range(400)]
WORK = ["Client meeting", "Kundentermin", "Réunion client", "Workshop", "Reunión", "Spotkanie", "Conference"]
HOLIDAY = ["Urlaub", "Vacaciones", "Congés", "Vakantie", "Urlop", "PTO"]


def _event(uid: str, start: datetime, end: datetime, title: str, **extra: object) -> CalendarEvent:
    return CalendarEvent(
        source=extra.pop("source", SourceKind.GRAPH),
        calendar_id="bench",
        uid=uid,
        title=title,
        start=start,
        end=end,
        **extra,
    )


def _employee_events(rng: random.Random, employee: int, per_employee: int) -> list[CalendarEvent]:
    berlin = ZoneInfo(HOME[1])
    year_start = date(2027, 1, 4)
    events: list[CalendarEvent] = []
    n = 0
    while len(events) < per_employee:
        n += 1
        uid = f"e{employee}-{n}"
        day = year_start + timedelta(days=rng.randrange(360))
        start = datetime(day.year, day.month, day.day, rng.randrange(8, 18), tzinfo=berlin)
        roll = rng.random()
        if roll < 0.55:
            events.append(
                _event(
                    uid,
                    start,
                    start + timedelta(minutes=30),
                    rng.choice(RECURRING),
                    location=rng.choice(VIRTUAL),
                )
            )
        elif roll < 0.70:
            events.append(
                _event(
                    uid,
                    start,
                    start + timedelta(hours=2),
                    f"1:1 {rng.choice(NAMES)}",
                    location=rng.choice(HOME[3]),
                )
            )
        elif roll < 0.85:
            events.append(_event(uid, start, start + timedelta(hours=3), "Focus time"))
        elif roll < 0.97:
            cancelled = rng.random() < 0.1  # a partner workshop abroad that was called off
            events.append(
                _event(
                    uid,
                    start,
                    start + timedelta(hours=4),
                    "Offsite",
                    location="Via Torino 2, Milano" if cancelled else "Berlin",
                    cancelled=cancelled,
                )
            )
        else:
            events.extend(_journey(rng, uid, day))
    return events[:per_employee]


def _journey(rng: random.Random, uid: str, day: date) -> list[CalendarEvent]:
    """A stay abroad: out and back, meetings or a holiday there, sometimes a booked flight and hotel."""
    country, zone_name, airport, address = rng.choice(ABROAD)
    here, there = ZoneInfo(HOME[1]), ZoneInfo(zone_name)
    length = rng.randrange(1, 12)
    back_day = day + timedelta(days=length)
    out_start = datetime(day.year, day.month, day.day, rng.randrange(6, 22), tzinfo=here)
    back_start = datetime(back_day.year, back_day.month, back_day.day, rng.randrange(8, 22), tzinfo=there)
    route_out, route_back = f"LH {rng.randrange(100, 999)} {HOME[2]} → {airport}", f"LH {airport} → {HOME[2]}"
    events = [
        _event(
            f"{uid}-o", out_start, out_start + timedelta(hours=9), route_out, kind=EventKind.OUT_OF_OFFICE
        ),
        _event(f"{uid}-b", back_start, back_start + timedelta(hours=9), route_back.replace("LH ", "LH 4")),
    ]
    if rng.random() < 0.3:
        events.append(
            _event(
                f"booking-{uid}",
                out_start,
                out_start + timedelta(hours=9),
                route_out.replace(" ", "", 1),
                source=SourceKind.BOOKING,
                categories=("booking", "flight"),
                country_hint=country,
                origin_country="DE",
            )
        )
        check_in = datetime(day.year, day.month, day.day)
        events.append(
            _event(
                f"booking-h-{uid}",
                check_in,
                check_in + timedelta(days=length),
                "Hotel: Novotel",
                source=SourceKind.BOOKING,
                categories=("booking", "lodging"),
                country_hint=country,
                all_day=True,
                location=address,
            )
        )
    holiday = rng.random() < 0.2
    for offset in range(1, length):
        meeting_day = day + timedelta(days=offset)
        start = datetime(meeting_day.year, meeting_day.month, meeting_day.day, 10, tzinfo=there)
        title = rng.choice(HOLIDAY) if holiday else f"{rng.choice(WORK)} – {rng.choice(CLIENTS)}"
        events.append(_event(f"{uid}-m{offset}", start, start + timedelta(hours=2), title, location=address))
    return events


def generate(employees: int = 250, per_employee: int = 220, seed: int = 2027) -> list[list[CalendarEvent]]:
    rng = random.Random(seed)
    return [_employee_events(rng, e, per_employee) for e in range(employees)]


def run(employees: int = 250, per_employee: int = 220) -> None:
    calendars = generate(employees, per_employee)
    total = sum(len(c) for c in calendars)
    t0 = time.perf_counter()
    detect_trips("warm-up", "DE", generate(2, 50, seed=1)[0])  # load airport, country and city tables
    loaded = time.perf_counter()
    passes = []
    for _ in range(2):  # first pass: text caches cold for these titles; second: a rescan
        start = time.perf_counter()
        trips = sum(len(detect_trips(f"emp-{i}", "DE", events)) for i, events in enumerate(calendars))
        passes.append(time.perf_counter() - start)
    cold, warm = passes
    print(
        f"detect_trips: {total} events, {employees} employees, {trips} trips; tables loaded in "
        f"{(loaded - t0) * 1000:.0f} ms; first pass {total / cold:,.0f} events/s, "
        f"rescan {total / warm:,.0f} events/s (one core, target ≥ 50,000)"
    )


if __name__ == "__main__":
    run()
