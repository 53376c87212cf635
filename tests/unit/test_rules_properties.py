"""Properties of the engine that hold for every input, checked with hypothesis (deterministically)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.models import Certificate, DocumentType, Employee, Purpose, Status, Trip
from chalicelib.rules import assess, load_rulebook
from chalicelib.rules.months import posting_last_day

PROPERTY = settings(derandomize=True, max_examples=150, deadline=None, database=None)
DECIDED = date(2030, 1, 1)


def _countries() -> list[str]:
    book = load_rulebook()
    known = {c for regime in book.regimes for r in regime.records for c in (*r.countries, *r.partners)}
    return sorted(known | {"SG", "IN", "CN", "AE", "MX"})


countries = st.deferred(lambda: st.sampled_from(_countries()))  # deferred: data loads when a test runs
purposes = st.sampled_from(list(Purpose))
starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2035, 12, 31))


def _employee(home: str, nationality: str | None = None) -> Employee:
    return Employee(
        id="e1", name="P", home_country=home, nationalities=(nationality or home,), residence_country=home
    )


def _trip(country: str, start: date, days: int, purpose: Purpose = Purpose.WORK) -> Trip:
    return Trip(
        id="t1",
        employee_id="e1",
        country=country,
        start=start,
        end=start + timedelta(days=days - 1),
        purpose=purpose,
        confidence=1,
    )


@PROPERTY
@given(home=countries, start=starts, days=st.integers(1, 900), purpose=purposes)
def test_home_equals_host_is_never_a_certificate(home: str, start: date, days: int, purpose: Purpose) -> None:
    result = assess(_trip(home, start, days, purpose), _employee(home), [], DECIDED)
    assert result.status is Status.NOT_REQUIRED
    assert result.document is None
    assert not result.lacks_certificate


@PROPERTY
@given(home=countries, host=countries, start=starts, days=st.integers(1, 900))
def test_a_holiday_is_never_certificate_required(home: str, host: str, start: date, days: int) -> None:
    result = assess(_trip(host, start, days, Purpose.HOLIDAY), _employee(home), [], DECIDED)
    assert result.status is Status.NOT_REQUIRED


@PROPERTY
@given(
    home=countries,
    host=countries,
    nationality=st.sampled_from(["", "IN", "US", "DE"]),
    start=starts,
    days=st.integers(1, 900),
    purpose=purposes,
)
def test_every_decision_with_a_document_cites_an_instrument_with_a_source(
    home: str, host: str, nationality: str, start: date, days: int, purpose: Purpose
) -> None:
    result = assess(_trip(host, start, days, purpose), _employee(home, nationality or None), [], DECIDED)
    assert result.rule_ids
    if result.document is not None:
        assert result.instrument is not None
        assert result.instrument.source.startswith(("https://", "http://"))
        assert result.branches
    else:
        assert result.instrument is None
        assert result.apply_by is None
        assert result.authority is None


def _pairs_with_limits() -> list[tuple[str, str, date, int | None]]:
    """(home, host, in-force date, limit) of every pair an in-force record with no end date links."""
    out = []
    for regime in load_rulebook().regimes:
        for record in regime.records:
            if record.status != "in_force" or record.in_force_until is not None:
                continue
            for pair in record.pairs():
                a, b = sorted(pair)
                out.append((a, b, record.effective_since, record.max_posting_months))
    return sorted(set(out))


pairs = st.deferred(lambda: st.sampled_from(_pairs_with_limits()))


@PROPERTY
@given(
    pair=pairs,
    offset=st.integers(0, 3000),
    shift=st.integers(0, 3000),
    days=st.integers(1, 400),
    flip=st.booleans(),
)
def test_shifting_a_trip_inside_one_instruments_period_keeps_instrument_and_status(
    pair: tuple[str, str, date, int | None], offset: int, shift: int, days: int, flip: bool
) -> None:
    a, b, since, _ = pair
    home, host = (b, a) if flip else (a, b)
    employee = _employee(home)
    start = max(since, date(2012, 6, 1)) + timedelta(days=offset)  # well after every in-force date
    first = assess(_trip(host, start, days), employee, [], DECIDED)
    moved = assess(_trip(host, start + timedelta(days=shift), days), employee, [], DECIDED)
    assert first.instrument == moved.instrument
    assert first.status == moved.status or {first.status, moved.status} <= {
        Status.CERTIFICATE_REQUIRED,
        Status.EXCEEDS_MAXIMUM,
    }, "only month lengths may move a trip across its limit"
    if first.max_months is None or days <= 28 * first.max_months:
        assert first.status == moved.status


@PROPERTY
@given(pair=pairs, offset=st.integers(0, 3000), under=st.integers(0, 700), flip=st.booleans())
def test_a_trip_within_the_maximum_period_never_exceeds_it(
    pair: tuple[str, str, date, int | None], offset: int, under: int, flip: bool
) -> None:
    a, b, since, months = pair
    home, host = (b, a) if flip else (a, b)
    start = max(since, date(2012, 6, 1)) + timedelta(days=offset)
    last = posting_last_day(start, months) if months else start + timedelta(days=3000)
    end = max(start, last - timedelta(days=under))
    trip = Trip(
        id="t1", employee_id="e1", country=host, start=start, end=end, purpose=Purpose.WORK, confidence=1
    )
    result = assess(trip, _employee(home), [], DECIDED)
    assert not result.exceeds_max
    assert result.status is not Status.EXCEEDS_MAXIMUM


@PROPERTY
@given(
    start=st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(1, 120),
    cuts=st.lists(st.integers(0, 130), min_size=0, max_size=4),
)
def test_uncovered_days_are_exactly_the_days_no_certificate_covers(
    start: date, days: int, cuts: list[int]
) -> None:
    """Certificates split around random cut days; the uncovered periods are the rest of the trip."""
    de = _employee("DE")
    trip = _trip("FR", start, days)
    certs = []
    bounds = sorted(set(cuts))
    for i in range(0, len(bounds) - 1, 2):
        certs.append(
            Certificate(
                id=f"c{i}",
                employee_id="e1",
                document=DocumentType.A1,
                issuing_country="DE",
                host_countries=("FR",),
                valid_from=start + timedelta(days=bounds[i]),
                valid_to=start + timedelta(days=bounds[i + 1]),
            )
        )
    result = assess(trip, de, certs, date(2026, 1, 1))
    covered = {
        c.valid_from + timedelta(days=k) for c in certs for k in range((c.valid_to - c.valid_from).days + 1)
    }
    trip_days = {start + timedelta(days=k) for k in range(days)}
    uncovered = {p.start + timedelta(days=k) for p in result.uncovered for k in range(p.days)}
    assert uncovered == trip_days - covered
    assert (result.status is Status.COVERED) == (not uncovered)
