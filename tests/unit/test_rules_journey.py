"""Journeys through several countries, and the "one Art. 13 A1 instead of many" suggestion."""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.models import Employee, Purpose, Status, Trip
from chalicelib.rules import assess_journey, load_rulebook, suggest_multi_state

TODAY = date(2027, 1, 15)


def _employee(home: str = "DE", nationality: str = "DE", residence: str | None = None) -> Employee:
    return Employee(
        id="e1",
        name="A",
        home_country=home,
        nationalities=(nationality,),
        residence_country=residence or home,
    )


def _trip(country: str, start: date, days: int = 3, purpose: Purpose = Purpose.WORK, n: int = 0) -> Trip:
    return Trip(
        id=f"t{n}-{country}-{start}",
        employee_id="e1",
        country=country,
        start=start,
        end=start + timedelta(days=days - 1),
        purpose=purpose,
        confidence=1,
    )


def test_a_journey_gets_one_decision_per_leg_and_the_home_leg_needs_nothing() -> None:
    legs = [
        _trip("FR", date(2027, 3, 1), 2),
        _trip("DE", date(2027, 3, 3), 1),
        _trip("US", date(2027, 3, 4), 5),
        _trip("CH", date(2027, 3, 9), 1, Purpose.TRANSIT),
    ]
    results = assess_journey(legs, _employee(), [], TODAY)
    assert [r.status for r in results] == [
        Status.CERTIFICATE_REQUIRED,
        Status.NOT_REQUIRED,
        Status.CERTIFICATE_REQUIRED,
        Status.NOT_REQUIRED,
    ]
    assert [r.document.value if r.document else None for r in results] == ["A1", None, "CoC", None]
    assert results[1].rule_ids == ("domestic",)


def test_an_empty_journey_has_no_decisions() -> None:
    assert assess_journey([], _employee(), [], TODAY) == []


def _regular(countries: list[str], start: date = date(2026, 3, 2), every: int = 30) -> list[Trip]:
    return [_trip(c, start + timedelta(days=every * i), n=i) for i, c in enumerate(countries)]


def test_regular_work_in_two_eu_states_suggests_one_art13_a1() -> None:
    history = _regular(["FR", "NL", "FR", "NL"])
    s = suggest_multi_state(history, _employee(), TODAY)
    assert s is not None
    assert s.states == ("FR", "NL")
    assert s.trips == 4
    assert s.document.value == "A1"
    assert s.instrument.article == "Art. 13(1)"
    assert s.instrument.source.startswith("https://eur-lex.europa.eu/")
    assert s.apply_in == "DE"
    assert "eu883.art13.multi_state" in s.rule_ids
    assert "Art. 16" in s.explanation
    assert "987/2009" in s.explanation
    assert "not a legal finding" in s.explanation
    assert s.authority is not None
    assert s.window_start == TODAY - timedelta(days=load_rulebook().policy.multi_state.lookback_days)


def test_planned_trips_count_too() -> None:
    history = _regular(["FR", "NL"], start=date(2026, 12, 1)) + _regular(["FR", "NL"], start=date(2027, 2, 1))
    s = suggest_multi_state(history, _employee(), TODAY)
    assert s is not None
    assert s.trips == 4


def test_one_state_only_or_too_few_trips_gives_no_suggestion() -> None:
    assert suggest_multi_state(_regular(["FR", "FR", "FR", "FR", "FR"]), _employee(), TODAY) is None
    assert suggest_multi_state(_regular(["FR", "NL", "BE"]), _employee(), TODAY) is None


def test_trips_outside_the_window_holidays_home_and_non_eu_states_do_not_count() -> None:
    old = _regular(["FR", "NL"], start=date(2025, 1, 6))
    holidays = [
        _trip("IT", date(2026, 7, 1), 7, Purpose.HOLIDAY),
        _trip("ES", date(2026, 8, 1), 7, Purpose.HOLIDAY),
    ]
    elsewhere = _regular(["US", "GB", "DE", "DE"], start=date(2026, 4, 1))
    recent = _regular(["FR", "NL"], start=date(2026, 10, 1))
    assert suggest_multi_state([*old, *holidays, *elsewhere, *recent], _employee(), TODAY) is None
    assert suggest_multi_state([*recent, *_regular(["BE", "AT"], date(2026, 5, 4))], _employee(), TODAY)


def test_a_cancelled_trip_does_not_count() -> None:
    history = _regular(["FR", "NL", "FR", "NL"])
    history[0] = history[0].model_copy(update={"cancelled": True})
    assert suggest_multi_state(history, _employee(), TODAY) is None


def test_states_outside_the_personal_scope_do_not_count() -> None:
    """An Indian national insured in the Netherlands: Denmark is outside Reg. 1231/2010."""
    employee = _employee("NL", "IN")
    assert suggest_multi_state(_regular(["DK", "BE", "DK", "BE"]), employee, TODAY) is None
    assert suggest_multi_state(_regular(["DE", "BE", "DE", "BE"]), employee, TODAY) is not None


def test_the_state_of_residence_is_where_to_apply() -> None:
    s = suggest_multi_state(_regular(["FR", "NL", "FR", "NL"]), _employee("DE", "DE", "AT"), TODAY)
    assert s is not None
    assert s.apply_in == "AT"
    assert "Austria" in s.checklist[0]
