"""Engine properties that cut across the legal examples: purity, apply-by policy and output shape."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

from chalicelib.models import Employee, Purpose, Status, Trip
from chalicelib.rules import assess

RULES = Path(__file__).resolve().parents[2] / "chalicelib" / "rules"


def _employee(home: str = "DE") -> Employee:
    return Employee(id="e1", name="A", home_country=home, nationalities=(home,), residence_country=home)


def _trip(country: str, start: date, end: date, purpose: Purpose = Purpose.WORK) -> Trip:
    return Trip(
        id="t1", employee_id="e1", country=country, start=start, end=end, purpose=purpose, confidence=1
    )


def test_rules_package_reads_no_clock_and_no_network() -> None:
    for path in RULES.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & {"today", "now", "utcnow"}, path.name
        imported = {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names
        }
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not ({"boto3", "requests", "urllib"} & (imported | modules)), path.name


def test_same_inputs_give_the_same_assessment() -> None:
    trip = _trip("FR", date(2027, 3, 3), date(2027, 3, 3))
    first = assess(trip, _employee(), [], date(2027, 1, 1))
    assert first == assess(trip, _employee(), [], date(2027, 1, 1))


def test_apply_by_is_the_longer_of_the_processing_time_and_the_default() -> None:
    trip = _trip("FR", date(2027, 3, 3), date(2027, 3, 4))
    # Germany's electronic A1 takes about 5 days, shorter than coverwatch's 14-day default
    german = assess(trip, _employee("DE"), [], date(2027, 1, 1))
    assert german.apply_by == date(2027, 2, 17)
    assert "apply_by.policy_default" in german.rule_ids
    assert "typically takes 5 days" in german.explanation
    # the SVB takes 6-8 weeks: its 56 days govern
    dutch = assess(trip, _employee("NL"), [], date(2026, 12, 1))
    assert dutch.apply_by == date(2027, 1, 6)
    assert "apply_by.authority_processing_time" in dutch.rule_ids
    coc = assess(_trip("US", date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
    assert coc.apply_by == date(2027, 1, 20)
    assert f"Apply by {german.apply_by.isoformat()}" in german.explanation


def test_apply_by_today_is_not_yet_passed() -> None:
    start = date(2027, 3, 15)
    result = assess(_trip("FR", start, start + timedelta(days=1)), _employee(), [], date(2027, 3, 1))
    assert result.apply_by == date(2027, 3, 1)
    assert "Apply by 2027-03-01" in result.explanation
    assert "apply_by.passed" not in result.rule_ids


def test_instrument_carries_a_source_and_lacks_certificate_flags_hr_work() -> None:
    result = assess(_trip("FR", date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
    assert result.instrument is not None
    assert result.instrument.source.startswith("https://")
    assert result.lacks_certificate


def test_no_document_means_no_apply_by() -> None:
    for home, country, status in [("DE", "DE", Status.NOT_REQUIRED), ("MX", "SG", Status.NEEDS_REVIEW)]:
        result = assess(
            _trip(country, date(2027, 3, 3), date(2027, 3, 4)), _employee(home), [], date(2027, 1, 1)
        )
        assert result.status is status
        assert result.apply_by is None
        assert result.document is None
        assert not result.lacks_certificate
