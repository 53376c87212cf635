"""The Assessment's completeness fields and the answers that depend on optional data.

Signed agreements, homes without a recorded authority and homes without a domestic position are
tested on a rulebook built here from the core data files plus a small synthetic regime, so these
tests do not depend on the bilateral files that are still being researched.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from chalicelib.models import Assessment, Certificate, DocumentType, Employee, Purpose, Status, Trip
from chalicelib.rules import assess
from chalicelib.rules.rulebook import Rulebook, build
from chalicelib.rules.trace import trace

DATA = Path(str(resources.files("chalicelib.rules") / "data"))
CORE = (
    "eu_883_2004.json",
    "uk_eu_tca.json",
    "us_bilateral.json",
    "policy.json",
    "authorities.json",
    "domestic_positions.json",
    "eu_art13.json",
)


def _record(**change: Any) -> dict[str, Any]:
    us = json.loads((DATA / "us_bilateral.json").read_text(encoding="utf-8"))
    record: dict[str, Any] = dict(us["records"][0])
    record.update(
        id="bilateral.SG_AE",
        rule_id="bilateral.SG_AE",
        title="Agreement on Social Security between Singapore and the United Arab Emirates",
        countries=["SG"],
        partners=["AE"],
        document_names={"SG": "Certificate of Coverage (CPF Board)"},
    )
    record.update(change)
    return record


def _book(records: list[dict[str, Any]], complete: bool = True) -> Rulebook:
    files = [(name, (DATA / name).read_text(encoding="utf-8")) for name in CORE]
    claim = {
        "country": "SG",
        "partners": ["AE"],
        "citation": {"title": "Synthetic list for tests", "url": "https://example.org/sg"},
        "last_reviewed_on": "2026-11-25",
    }
    regime = {
        "id": "bilateral_sg",
        "title": "Singapore (synthetic, for tests)",
        "precedence": 30,
        "note": "Synthetic data for engine tests.",
        "complete_for": [claim] if complete else [],
        "gaps": [],
        "records": records,
    }
    return build([*files, ("bilateral_sg.json", json.dumps(regime))])


def _sg() -> Employee:
    return Employee(id="e1", name="A", home_country="SG", nationalities=("SG",), residence_country="SG")


def _trip(country: str, start: date, end: date, purpose: Purpose = Purpose.WORK) -> Trip:
    return Trip(
        id="t1", employee_id="e1", country=country, start=start, end=end, purpose=purpose, confidence=1
    )


SIGNED = {"status": "signed", "signed_on": "2026-02-10", "in_force_since": "2028-01-01"}


def test_a_signed_agreement_never_applies_and_its_dates_are_named() -> None:
    book = _book([_record(**SIGNED)])
    result = assess(
        _trip("AE", date(2028, 3, 1), date(2028, 3, 5)), _sg(), [], date(2027, 1, 1), rulebook=book
    )
    assert result.status is Status.NO_AGREEMENT
    assert result.document is None
    assert "signed on 2026-02-10" in result.explanation
    assert "enters into force on 2028-01-01" in result.explanation
    assert {"bilateral.SG_AE.not_in_force", "agreement.signed_not_in_force"} <= set(result.rule_ids)
    assert any("check again for trips starting on or after 2028-01-01" in c for c in result.checklist)


def test_a_signed_agreement_without_a_start_date_says_so_and_needs_review_without_a_complete_list() -> None:
    book = _book([_record(status="signed", signed_on="2026-02-10", in_force_since=None)], complete=False)
    result = assess(
        _trip("AE", date(2027, 3, 1), date(2027, 3, 5)), _sg(), [], date(2027, 1, 1), rulebook=book
    )
    assert result.status is Status.NEEDS_REVIEW
    assert "has no date of entry into force yet" in result.explanation
    assert "rules that applied before" not in result.explanation


def test_an_in_force_agreement_applies_from_its_first_day_not_the_day_before() -> None:
    book = _book([_record(in_force_since="2027-07-01")])
    before = assess(
        _trip("AE", date(2027, 6, 30), date(2027, 7, 2)), _sg(), [], date(2027, 1, 1), rulebook=book
    )
    on = assess(_trip("AE", date(2027, 7, 1), date(2027, 7, 2)), _sg(), [], date(2027, 1, 1), rulebook=book)
    assert before.status is Status.NO_AGREEMENT
    assert "2027-07-01" in before.explanation
    assert on.status is Status.CERTIFICATE_REQUIRED
    assert on.instrument is not None
    assert on.instrument.in_force_since == date(2027, 7, 1)


def test_a_home_without_a_recorded_authority_is_told_to_ask_its_institution() -> None:
    book = _book([_record()])
    result = assess(
        _trip("AE", date(2027, 3, 1), date(2027, 3, 5)), _sg(), [], date(2027, 1, 1), rulebook=book
    )
    assert result.status is Status.CERTIFICATE_REQUIRED
    assert result.authority is None
    assert "authority.not_in_data" in result.rule_ids
    assert "apply_by.policy_default" in result.rule_ids
    assert result.apply_by == date(2027, 1, 18)  # 2027-03-01 less the 42-day CoC default
    assert "coverwatch's default lead time" in result.explanation
    assert any("social-security institution in Singapore" in c for c in result.checklist)
    assert result.document_name == "Certificate of Coverage (CPF Board)"
    assert any("(Certificate of Coverage (CPF Board))" in c for c in result.checklist)


def test_a_pension_only_agreement_says_which_contributions_stay_due_in_the_host() -> None:
    book = _book([_record(branches=["pension"])])
    result = assess(
        _trip("AE", date(2027, 3, 1), date(2027, 3, 5)), _sg(), [], date(2027, 1, 1), rulebook=book
    )
    assert result.branches == ("pension",)
    item = next(c for c in result.checklist if "covers only pension" in c)
    assert (
        "health, unemployment, accident, long term care, family may still be due in United Arab Emirates"
        in item
    )


def test_authority_document_name_branches_and_uncovered_are_filled_for_a_document() -> None:
    de = Employee(id="e1", name="A", home_country="DE", nationalities=("DE",), residence_country="DE")
    result = assess(_trip("FR", date(2027, 3, 1), date(2027, 3, 10)), de, [], date(2027, 1, 1))
    assert result.authority is not None
    assert result.authority.source.startswith("https://")
    assert set(result.branches) == {
        "pension",
        "health",
        "unemployment",
        "accident",
        "long_term_care",
        "family",
    }
    assert [(p.start, p.end) for p in result.uncovered] == [(date(2027, 3, 1), date(2027, 3, 10))]


def test_no_document_means_no_authority_and_nothing_uncovered() -> None:
    de = Employee(id="e1", name="A", home_country="DE", nationalities=("DE",), residence_country="DE")
    for trip in (
        _trip("DE", date(2027, 3, 1), date(2027, 3, 10)),
        _trip("FR", date(2027, 3, 1), date(2027, 3, 10), Purpose.HOLIDAY),
    ):
        result = assess(trip, de, [], date(2027, 1, 1))
        assert (result.authority, result.document_name, result.branches, result.uncovered) == (
            None,
            None,
            (),
            (),
        )


def test_a_covered_trip_has_no_uncovered_days() -> None:
    de = Employee(id="e1", name="A", home_country="DE", nationalities=("DE",), residence_country="DE")
    cert = Certificate(
        id="A1-1",
        employee_id="e1",
        document=DocumentType.A1,
        issuing_country="DE",
        host_countries=("FR",),
        valid_from=date(2027, 1, 1),
        valid_to=date(2027, 12, 31),
    )
    result = assess(_trip("FR", date(2027, 3, 1), date(2027, 3, 10)), de, [cert], date(2027, 1, 1))
    assert result.status is Status.COVERED
    assert result.uncovered == ()


def test_an_assessment_stored_before_the_new_fields_still_loads() -> None:
    old: dict[str, Any] = {
        "status": "certificate_required",
        "document": "A1",
        "instrument": None,
        "max_months": 24,
        "exceeds_max": False,
        "apply_by": "2027-02-17",
        "explanation": "...",
        "checklist": [],
        "rule_ids": [],
        "certificate_id": None,
        "decided_on": "2027-01-15",
    }
    a = Assessment.model_validate(old)
    assert (a.authority, a.document_name, a.branches, a.uncovered) == (None, None, (), ())


def test_trace_cites_every_fact_of_the_instrument_and_the_lead_time() -> None:
    de = Employee(id="e1", name="A", home_country="DE", nationalities=("DE",), residence_country="DE")
    result = assess(_trip("US", date(2027, 3, 1), date(2027, 3, 10)), de, [], date(2027, 1, 1))
    from chalicelib.rules import load_rulebook

    fired = {f.rule_id: f for f in trace(result, load_rulebook(), "DE")}
    assert set(fired) == set(result.rule_ids)
    facts = {fact.name: fact for fact in fired["us.bilateral.DE"].facts}
    assert set(facts) >= {"instrument", "in force", "max period", "document", "branches", "scope"}
    assert all(f.citation is not None and f.citation.url.startswith("http") for f in facts.values())
    assert fired["apply_by.policy_default"].facts[0].citation is None
