"""The coverwatch CLI: same answer as the API, clear errors, trips from calendar files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from coverwatch.cli import main
from tests.functional.conftest import KeyedClient

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_check_json_is_the_api_answer(api: KeyedClient) -> None:
    code, out, _ = _run(
        "check", "DE", "FR", "2027-03-01", "2027-03-03", "--nationality", "IN", "--residence", "DE", "--json"
    )
    assert code == 0
    r = api.http.post(
        "/v1/checks",
        headers={"Content-Type": "application/json"},
        body=json.dumps(
            {
                "home_country": "DE",
                "host_country": "FR",
                "start": "2027-03-01",
                "end": "2027-03-03",
                "nationality": "IN",
                "residence_country": "DE",
            }
        ),
    )
    assert json.loads(out) == json.loads(r.body)


def test_check_prints_a_readable_decision() -> None:
    code, out, _ = _run("check", "DE", "FR", "2027-03-01", "2027-03-03", "--today", "2027-01-15")
    assert code == 0
    assert out.startswith("certificate_required — A1 needed")
    assert "883/2004" in out
    assert "Apply by:" in out
    assert "Checklist:" in out


def test_check_rejects_bad_input_naming_the_argument() -> None:
    code, out, err = _run("check", "DE", "Frankreich", "2027-03-01", "2027-03-03")
    assert code == 2
    assert out == ""
    assert "host_country" in err
    assert "ISO 3166-1" in err


def test_detect_lists_trips_with_evidence_as_json() -> None:
    code, out, _err = _run(
        "detect", "--home-country", "DE", "--json", str(ROOT / "examples" / "calendars" / "anna.schmidt.ics")
    )
    assert code == 0
    trips = json.loads(out)
    assert [(t["country"], t["start"], t["end"]) for t in trips] == [
        ("FR", "2027-03-03", "2027-03-03"),
        ("US", "2027-04-05", "2027-04-23"),
    ]
    for t in trips:
        assert {"country", "start", "end", "purpose", "confidence", "evidence"} <= set(t)
        assert t["evidence"]


def test_detect_reports_a_missing_file() -> None:
    code, _, err = _run("detect", "--home-country", "DE", "nowhere.ics")
    assert code == 2
    assert "nowhere.ics" in err


def test_explain_prints_the_decision_rules_citations_authority_and_apply_by() -> None:
    code, out, _ = _run("explain", "DE", "US", "2027-03-01", "2027-03-10", "--today", "2027-01-15")
    assert code == 0
    assert out.startswith("certificate_required — CoC needed")
    for label in (
        "Instrument:",
        "Document:",
        "Max posting:",
        "Branches:",
        "Authority:",
        "Apply by:",
        "Uncovered:",
    ):
        assert label in out
    assert "Rules that fired:" in out
    assert "us.bilateral.DE — posting under" in out
    for fact in ("instrument:", "in force:", "max period:", "document:", "branches:", "scope:"):
        assert fact in out
    assert out.count("source: ") >= 6
    assert "2027-03-01 to 2027-03-10 (10 days)" in out


def test_explain_a_third_country_national_names_the_extension_regulation() -> None:
    code, out, _ = _run(
        "explain", "NL", "DK", "2027-03-01", "2027-03-10", "--nationality", "IN", "--today", "2027-01-15"
    )
    assert code == 0
    assert out.startswith("needs_review")
    assert "eu883.personal_scope.tcn_1231_2010.not_applicable" in out
    assert "eur-lex.europa.eu/eli/reg/2010/1231" in out


def test_explain_rejects_bad_input_like_check() -> None:
    code, out, err = _run("explain", "DE", "Frankreich", "2027-03-01", "2027-03-03")
    assert code == 2
    assert out == ""
    assert "host_country" in err


def test_coverage_lists_complete_homes_regimes_signed_agreements_and_gaps() -> None:
    code, out, _ = _run("coverage")
    assert code == 0
    for title in (
        "Home countries declared complete:",
        "Bilateral agreements per home:",
        "Signed, not in force:",
    ):
        assert title in out
    assert "home: US (United States)" in out
    assert "last reviewed: 2026-11-25" in out


def test_docs_coverage_md_is_the_coverage_command_output() -> None:
    """docs/coverage.md is `coverwatch coverage --markdown`: regenerate it when the data changes."""
    code, out, _ = _run("coverage", "--markdown")
    assert code == 0
    assert (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8") == out


@pytest.mark.parametrize(
    ("fixture", "country"),
    [
        ("graph/mailbox_anna.json", "FR"),
        ("google/calendar_anna.json", "CH"),
        ("bookings/lufthansa_fra_bos_roundtrip.jsonld", "US"),
        ("bookings/iberia_mad_mex_confirmacion_es.eml", "MX"),
    ],
)
def test_detect_reads_graph_google_json_ld_and_email_files(fixture: str, country: str) -> None:
    code, out, _ = _run(
        "detect", "--home-country", "DE", "--json", str(ROOT / "tests" / "fixtures" / fixture)
    )
    assert code == 0
    assert country in {t["country"] for t in json.loads(out)}


def test_detect_reports_an_unreadable_file_and_goes_on(tmp_path: Path) -> None:
    junk = tmp_path / "notes.json"
    junk.write_text("{not json")
    code, out, err = _run(
        "detect",
        "--home-country",
        "DE",
        "--json",
        str(junk),
        str(ROOT / "examples" / "calendars" / "anna.schmidt.ics"),
    )
    assert code == 0
    assert "notes.json" in err
    assert "not a format coverwatch reads" in err
    assert {t["country"] for t in json.loads(out)} == {"FR", "US"}
