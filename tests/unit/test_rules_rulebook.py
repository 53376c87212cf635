"""The rules data loads, every fact is cited, and broken data is rejected with a clear message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from chalicelib.countries import is_country_code
from chalicelib.models import DocumentType
from chalicelib.rules import RulebookError, load_rulebook
from chalicelib.rules.schema import Citation

DATA = Path(str(resources.files("chalicelib.rules") / "data"))
EU27 = {
    *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
    *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
}


def test_packaged_rulebook_loads_all_regimes() -> None:
    book = load_rulebook()
    assert {r.id for r in book.regimes} >= {"eu883", "uk_eu_tca", "us_bilateral"}
    assert book.policy.lead_days == {DocumentType.A1: 14, DocumentType.COC: 42}
    assert "not law" in book.policy.note
    assert "heuristic, not law" in book.policy.multi_state.note
    assert book.multi_state is not None
    assert book.multi_state.regime == "eu883"
    assert book.multi_state.citations.apply_to.url.startswith("https://eur-lex.europa.eu/")


def test_every_record_cites_every_fact_with_a_url() -> None:
    for regime in load_rulebook().regimes:
        for record in regime.records:
            citations = record.citations.model_dump()
            assert set(citations) >= {"instrument", "in_force_since", "max_posting_months", "document"}
            for fact, cite in citations.items():
                Citation.model_validate(cite)
                assert cite["url"].startswith(("http://", "https://")), (record.id, fact)
            assert record.last_reviewed_on <= date(2026, 12, 31)


def test_dates_parse_and_are_plausible() -> None:
    for regime in load_rulebook().regimes:
        for record in regime.records:
            if record.in_force_since is None:
                assert record.status == "signed", record.id
                continue
            assert date(1950, 1, 1) < record.in_force_since < date(2030, 1, 1), record.id
            if record.in_force_until is not None:
                assert record.in_force_since <= record.in_force_until, record.id


def test_country_codes_are_valid_and_no_pair_is_claimed_twice_at_one_precedence() -> None:
    seen: set[tuple[frozenset[str], int, object, str]] = set()
    for regime in load_rulebook().regimes:
        for record in regime.records:
            for code in (*record.countries, *record.partners):
                assert is_country_code(code), (record.id, code)
            for pair in record.pairs():
                key = (pair, regime.precedence, record.in_force_since, record.status)
                assert key not in seen, record.id
                seen.add(key)


def test_us_list_has_thirty_agreements_and_is_declared_complete() -> None:
    book = load_rulebook()
    us = next(r for r in book.regimes if r.id == "us_bilateral")
    assert len(us.records) == 30
    assert [c.country for c in us.complete_for] == ["US"]
    assert us.complete_for[0].citation.url == "https://secure.ssa.gov/poms.nsf/lnx/0201701005"
    limits = {r.partners[0]: r.max_posting_months for r in us.records}
    assert limits["IT"] is None
    assert {v for k, v in limits.items() if k != "IT"} == {60}
    assert all(r.document is DocumentType.COC for r in us.records)


def test_eu_zone_dates_and_tca_pairs() -> None:
    book = load_rulebook()
    assert book.matches("DE", "FR")[0].record.in_force_since == date(2010, 5, 1)
    assert book.matches("CH", "FR")[0].record.in_force_since == date(2012, 4, 1)
    assert book.matches("IS", "FR")[0].record.in_force_since == date(2012, 6, 1)
    tca = {
        p for m in ("uk_eu_tca",) for r in book.regimes if r.id == m for rec in r.records for p in rec.pairs()
    }
    assert tca == {frozenset(("GB", c)) for c in EU27}
    assert all(m.regime.id != "uk_eu_tca" for m in book.matches("GB", "CH"))


# --- broken data ------------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _first(doc: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = doc["records"][0]
    return record


def test_copied_data_loads(tmp_path: Path) -> None:
    assert len(load_rulebook(_copy(tmp_path)).regimes) >= 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda d: _first(d).update(typo=1), "Extra inputs are not permitted", id="unknown key"),
        pytest.param(
            lambda d: _first(d).update(in_force_since="2010-13-01"), "in_force_since", id="bad date"
        ),
        pytest.param(
            lambda d: _first(d).update(in_force_since=1272672000), "in_force_since", id="number date"
        ),
        pytest.param(
            lambda d: _first(d).update(partners=["XX"]), "'XX' is not an ISO 3166-1", id="bad country"
        ),
        pytest.param(
            lambda d: _first(d)["citations"].pop("document"), "citations.document", id="no citation"
        ),
        pytest.param(
            lambda d: _first(d)["citations"]["document"].update(url="see the EU website"),
            "citations.document.url",
            id="citation without url",
        ),
        pytest.param(lambda d: _first(d).update(document="E101"), "document", id="unknown document"),
        pytest.param(lambda d: _first(d).update(branches=["pensions"]), "branches", id="unknown branch"),
    ],
)
def test_broken_regime_file_is_rejected_naming_the_problem(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "us_bilateral.json", change)
    with pytest.raises(RulebookError, match=r"us_bilateral\.json") as err:
        load_rulebook(folder)
    assert message in str(err.value)


def test_duplicate_pair_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)

    def duplicate(doc: dict[str, Any]) -> None:
        copy = dict(doc["records"][0], id="us.bilateral.AT_again")
        doc["records"].append(copy)

    _edit(folder, "us_bilateral.json", duplicate)
    with pytest.raises(RulebookError, match=r"pair AT-US in .* overlapping periods"):
        load_rulebook(folder)


def test_a_replaced_agreement_and_its_successor_may_share_a_pair(tmp_path: Path) -> None:
    folder = _copy(tmp_path)

    def successor(doc: dict[str, Any]) -> None:
        old = doc["records"][0]
        old["in_force_until"] = "2029-12-31"
        doc["records"].append(
            dict(
                old,
                id="us.bilateral.AT_2030",
                in_force_since="2030-01-01",
                in_force_until=None,
                max_posting_months=24,
            )
        )

    _edit(folder, "us_bilateral.json", successor)
    book = load_rulebook(folder)
    records = [m.record for m in book.matches("US", "AT")]
    assert [r.id for r in records] == ["us.bilateral.AT", "us.bilateral.AT_2030"]
    assert [r.in_force_on(date(2029, 12, 31)) for r in records] == [True, False]
    assert [r.in_force_on(date(2030, 1, 1)) for r in records] == [False, True]


def test_same_pair_at_other_precedence_is_allowed_and_the_lower_wins(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    doc = json.loads((folder / "us_bilateral.json").read_text(encoding="utf-8"))
    record = dict(doc["records"][0], id="mt_bilateral.CY", rule_id="mt.bilateral.CY", countries=["MT"])
    record["partners"] = ["CY"]  # two states no completeness claim covers
    extra = dict(doc, id="mt_bilateral", precedence=40, complete_for=[], records=[record])
    (folder / "mt_bilateral.json").write_text(json.dumps(extra), encoding="utf-8")
    book = load_rulebook(folder)
    assert [m.record.id for m in book.matches("CY", "MT")] == ["eu883.eu27", "mt_bilateral.CY"]


def test_missing_policy_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "policy.json").unlink()
    with pytest.raises(RulebookError, match=r"policy\.json: missing"):
        load_rulebook(folder)


def test_policy_needs_lead_days_for_every_document(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "policy.json", lambda d: d["lead_days"].pop("CoC"))
    with pytest.raises(RulebookError, match="lead_days lacks"):
        load_rulebook(folder)


def test_a_completeness_claim_must_match_the_records(tmp_path: Path) -> None:
    folder = _copy(tmp_path)

    def forget_one(doc: dict[str, Any]) -> None:
        doc["complete_for"][0]["partners"].remove("JP")

    _edit(folder, "us_bilateral.json", forget_one)
    with pytest.raises(RulebookError, match=r"completeness of US .* recorded but not declared: \['JP'\]"):
        load_rulebook(folder)


def test_policy_needs_the_multi_state_thresholds(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "policy.json", lambda d: d.pop("multi_state"))
    with pytest.raises(RulebookError, match=r"policy\.json: multi_state"):
        load_rulebook(folder)


def test_multi_state_thresholds_need_two_states(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "policy.json", lambda d: d["multi_state"].update(min_states=1))
    with pytest.raises(RulebookError, match=r"multi_state\.min_states"):
        load_rulebook(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda d: d["citations"].pop("apply_to"), "citations.apply_to", id="no citation"),
        pytest.param(lambda d: d.update(regime="nowhere"), "regime 'nowhere' is not loaded", id="regime"),
        pytest.param(lambda d: d.update(extra=1), "Extra inputs are not permitted", id="unknown key"),
    ],
)
def test_broken_art13_file_is_rejected(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "eu_art13.json", change)
    with pytest.raises(RulebookError, match=r"eu_art13\.json") as err:
        load_rulebook(folder)
    assert message in str(err.value)


def test_lookups_by_record_authority_and_position() -> None:
    book = load_rulebook()
    assert book.record("eu883.eu27") is not None
    assert book.record("nothing.here") is None
    assert book.authority("ZZ", DocumentType.A1) is None
    assert book.domestic_position("ZZ") is None


def test_a_trip_past_an_unverified_limit_is_sent_for_review_not_declared_over(tmp_path: Path) -> None:
    from chalicelib.models import Employee, Purpose, Status, Trip
    from chalicelib.rules import assess

    folder = _copy(tmp_path)

    def unverify(doc: dict[str, Any]) -> None:
        at = next(r for r in doc["records"] if r["id"] == "us.bilateral.AT")
        at["max_posting_months"] = 12
        at["max_posting_verified"] = False

    _edit(folder, "us_bilateral.json", unverify)
    book = load_rulebook(folder)
    employee = Employee(id="e", name="E", home_country="US", nationalities=("US",), residence_country="US")

    def trip(end: date) -> Trip:
        return Trip(
            id="t",
            employee_id="e",
            country="AT",
            start=date(2027, 3, 1),
            end=end,
            purpose=Purpose.WORK,
            confidence=1.0,
        )

    within = assess(trip(date(2028, 2, 29)), employee, [], date(2027, 1, 1), rulebook=book)
    assert within.status is Status.CERTIFICATE_REQUIRED
    past = assess(trip(date(2028, 3, 1)), employee, [], date(2027, 1, 1), rulebook=book)
    assert past.status is Status.NEEDS_REVIEW
    assert "posting.limit_unverified" in past.rule_ids
    assert "not verified" in past.explanation
    assert past.exceeds_max
