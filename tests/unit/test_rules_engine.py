"""Engine properties that cut across the legal examples: purity, apply-by policy and output shape."""

from __future__ import annotations

import ast
from datetime import date
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


def test_apply_by_uses_policy_lead_days_per_document() -> None:
    a1 = assess(_trip("FR", date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
    coc = assess(_trip("US", date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
    assert a1.apply_by == date(2027, 2, 17)
    assert coc.apply_by == date(2027, 1, 20)
    assert "Apply by 2027-02-17" in a1.explanation


def test_apply_by_today_is_not_yet_passed() -> None:
    result = assess(_trip("FR", date(2027, 3, 15), date(2027, 3, 16)), _employee(), [], date(2027, 3, 1))
    assert result.apply_by == date(2027, 3, 1)
    assert "Apply by 2027-03-01" in result.explanation
    assert "apply_by.passed" not in result.rule_ids


def test_instrument_carries_a_source_and_lacks_certificate_flags_hr_work() -> None:
    result = assess(_trip("FR", date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
    assert result.instrument is not None
    assert result.instrument.source.startswith("https://")
    assert result.lacks_certificate


def test_no_document_means_no_apply_by() -> None:
    for country, status in [("DE", Status.NOT_REQUIRED), ("IN", Status.NEEDS_REVIEW)]:
        result = assess(_trip(country, date(2027, 3, 3), date(2027, 3, 4)), _employee(), [], date(2027, 1, 1))
        assert result.status is status
        assert result.apply_by is None
        assert result.document is None
        assert not result.lacks_certificate
