"""`make bench`: figures for the paths that run most often. Printed, never asserted in tests."""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from chalicelib.checks import CheckRequest, run_check
from chalicelib.connectors.ics import read_ics_file
from chalicelib.detection.trips import detect_trips
from chalicelib.models import Certificate, Employee, Purpose, Trip
from chalicelib.rules import assess, load_rulebook

ROOT = Path(__file__).resolve().parents[1]
HOSTS = ["FR", "US", "CH", "GB", "SG", "IN", "ES", "DK"]


def bench_checks(n: int = 5000) -> None:
    requests = [
        CheckRequest(
            home_country="DE",
            host_country=HOSTS[i % len(HOSTS)],
            start=date(2027, 3, 1) + timedelta(days=i % 300),
            end=date(2027, 3, 5) + timedelta(days=i % 300),
        )
        for i in range(n)
    ]
    run_check(requests[0], [], date(2027, 1, 15))  # load the rulebook once, as a warm Lambda would
    t0 = time.perf_counter()
    for r in requests:
        run_check(r, [], date(2027, 1, 15))
    elapsed = time.perf_counter() - t0
    print(f"checks: {n} decisions in {elapsed:.2f} s = {elapsed / n * 1e6:.0f} µs each")


def _assessment_mix(n: int, seed: int = 2027) -> list[tuple[Trip, Employee, list[Certificate]]]:
    """``n`` seeded random trips: homes and hosts across the known countries, 1-800 days, mixed purposes."""
    rng = random.Random(seed)
    book = load_rulebook()
    countries = sorted(
        {c for regime in book.regimes for r in regime.records for c in (*r.countries, *r.partners)}
    )
    countries += ["SG", "IN", "CN", "AE", "BR", "MX", "ZA"]
    purposes = [Purpose.WORK] * 6 + [Purpose.UNKNOWN, Purpose.HOLIDAY, Purpose.TRANSIT]
    employees = {
        (home, nat): Employee(
            id=f"e-{home}-{nat}",
            name="Bench",
            home_country=home,
            nationalities=(nat,),
            residence_country=home,
        )
        for home in countries
        for nat in (home, "IN")
    }
    out = []
    for i in range(n):
        home, host = rng.choice(countries), rng.choice(countries)
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(1500))
        end = start + timedelta(days=rng.randrange(800))
        trip = Trip(
            id=f"t{i}",
            employee_id="bench",
            country=host,
            start=start,
            end=end,
            purpose=rng.choice(purposes),
            confidence=0.9,
        )
        employee = employees[(home, "IN" if rng.random() < 0.1 else home)]
        certs: list[Certificate] = []
        if rng.random() < 0.2:
            doc = book.matches(home, host)[0].record.document if book.matches(home, host) else "A1"
            certs.append(
                Certificate(
                    id=f"c{i}",
                    employee_id="bench",
                    document=doc,
                    issuing_country=home,
                    host_countries=(host,),
                    valid_from=start - timedelta(days=rng.randrange(30)),
                    valid_to=start + timedelta(days=rng.randrange(900)),
                )
            )
        out.append((trip, employee, certs))
    return out


def bench_assessments(n: int = 100_000) -> None:
    """Assessments per second on one core for a mix of ``n`` generated trips (assess() only is timed)."""
    mix = _assessment_mix(n)
    decided_on = date(2025, 6, 1)
    for trip, employee, certs in mix[:2000]:  # warm: rulebook loaded and memoised, as in a warm Lambda
        assess(trip, employee, certs, decided_on)
    t0 = time.perf_counter()
    for trip, employee, certs in mix:
        assess(trip, employee, certs, decided_on)
    elapsed = time.perf_counter() - t0
    print(f"assessments: {n} generated trips in {elapsed:.2f} s = {n / elapsed:,.0f} per second on one core")


def bench_detection() -> None:
    files = sorted((ROOT / "examples" / "calendars").glob("*.ics"))
    read_ics_file(files[0])  # first call loads icalendar's time-zone machinery; measured separately
    t0 = time.perf_counter()
    events = [e for f in files for e in read_ics_file(f).events]
    parsed = time.perf_counter()
    detect_trips("bench", "DE", events[:1])  # loads the airport and city tables once
    warm = time.perf_counter()
    trips = detect_trips("bench", "DE", events * 20)
    done = time.perf_counter()
    tracemalloc.start()
    detect_trips("bench", "DE", events * 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"ics: {len(events)} events from {len(files)} files parsed in {(parsed - t0) * 1000:.1f} ms")
    print(
        f"detection: place tables loaded in {(warm - parsed) * 1000:.0f} ms; {len(events) * 20} events -> "
        f"{len(trips)} trips in {(done - warm) * 1000:.1f} ms; peak traced memory {peak / 1e6:.1f} MB"
    )


def bench_cold_start() -> None:
    """Import time of each function role before it works (target: API ≤ 150 ms), and its first request."""
    from benchmarks.cold_start import run

    run()


def bench_bundle() -> None:
    """The Lambda bundle's size against its targets, and the API's import from inside it."""
    from benchmarks.bundle_size import run

    run()


def bench_api_latency() -> None:
    """POST /v1/checks through chalice's test client with a cached key: median and p99 of 10,000."""
    from benchmarks.api_latency import run

    run(calls=10_000)


def bench_places_and_detection() -> None:
    from benchmarks.detection_bench import run as detection
    from benchmarks.places_bench import run as places

    places()
    detection()


def bench_sync_costs() -> None:
    import tempfile

    from benchmarks.sync_costs import run

    with tempfile.TemporaryDirectory() as outbox:
        run(calendars=20, events_each=50, outbox=Path(outbox))


def bench_scale() -> None:
    """5,000 Outlook calendars x 50 events through fan-out, SQS and the worker, twice (a few minutes)."""
    from benchmarks.scale import simulate

    simulate(connections=5000, events=50)


if __name__ == "__main__":
    bench_assessments()
    bench_checks()
    bench_detection()
    bench_cold_start()
    bench_bundle()
    bench_api_latency()
    bench_places_and_detection()
    bench_sync_costs()
    bench_scale()
