"""The coverwatch CLI: same answer as the API, clear errors, trips from calendar files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from coverwatch.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_check_json_is_the_api_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import app as app_module

    monkeypatch.setenv("COVERWATCH_TODAY", "2027-01-15")
    bootstrap.default_settings.cache_clear()
    code, out, _ = _run(
        "check", "DE", "FR", "2027-03-01", "2027-03-03", "--nationality", "IN", "--residence", "DE", "--json"
    )
    assert code == 0
    with Client(app_module.app) as client:
        r = client.http.post(
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
