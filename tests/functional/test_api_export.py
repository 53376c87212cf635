"""GET /v1/export/trips.csv: what an auditor downloads, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from chalicelib import bootstrap
from chalicelib.api.records import Scope
from chalicelib.bootstrap import Settings
from chalicelib.models import Status
from chalicelib.routes import admin
from chalicelib.store.repository import Repository
from tests.builders import assessment, trip
from tests.functional.conftest import KeyedClient, issue_key

HEADER = [
    "trip_id",
    "employee_id",
    "host_country",
    "start",
    "end",
    "days",
    "purpose",
    "status",
    "document",
    "certificate_id",
    "apply_by",
    "instrument_id",
    "instrument_title",
    "article",
    "source_url",
    "rule_ids",
    "decided_on",
    "version",
    "cancelled",
    "dismissed",
]


@pytest.fixture
def repo(api: KeyedClient, mocked_aws: Settings) -> Repository:
    return bootstrap.repository(mocked_aws)


def _rows(api: KeyedClient, query: str) -> list[dict[str, str]]:
    r = api.http.get(f"/v1/export/trips.csv?{query}")
    assert r.status_code == 200, r.body
    reader = csv.reader(io.StringIO(r.body.decode("utf-8")))
    header = next(reader)
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_the_export_has_one_row_per_trip_in_the_range_with_its_legal_basis(
    api: KeyedClient, repo: Repository
) -> None:
    repo.save_trip(trip(date(2027, 3, 3), date(2027, 3, 5), id="trp_a"), assessment())
    repo.save_trip(trip(date(2027, 2, 1), country="AT", id="trp_b"), assessment(Status.NOT_REQUIRED))
    repo.save_trip(trip(date(2027, 6, 1), id="trp_later"), assessment())
    r = api.http.get("/v1/export/trips.csv?from=2027-01-01&to=2027-03-31")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="trips-2027-01-01-2027-03-31.csv"'
    rows = _rows(api, "from=2027-01-01&to=2027-03-31")
    assert [row["trip_id"] for row in rows] == ["trp_b", "trp_a"]
    a = rows[1]
    assert a == {
        "trip_id": "trp_a",
        "employee_id": "emp-1",
        "host_country": "FR",
        "start": "2027-03-03",
        "end": "2027-03-05",
        "days": "3",
        "purpose": "work",
        "status": "certificate_required",
        "document": "A1",
        "certificate_id": "",
        "apply_by": "2027-02-17",
        "instrument_id": "eu883",
        "instrument_title": "Regulation (EC) No 883/2004",
        "article": "Art. 12",
        "source_url": "https://eur-lex.europa.eu/eli/reg/2004/883/oj",
        "rule_ids": "eu883.art12",
        "decided_on": "2027-01-15",
        "version": "1",
        "cancelled": "false",
        "dismissed": "false",
    }
    assert (rows[0]["status"], rows[0]["document"], rows[0]["instrument_id"]) == ("not_required", "", "")


def test_a_range_without_trips_is_just_the_header(api: KeyedClient, repo: Repository) -> None:
    assert _rows(api, "from=2030-01-01&to=2030-12-31") == []
    assert _rows(api, "from=2027-01-01&to=2028-02-05") == [], "400 days apart is allowed"


@pytest.mark.parametrize("employee_id", ['=HYPERLINK("http://evil.example")', "+1+2", "-2+3", "@SUM(A1)"])
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(
    api: KeyedClient, repo: Repository, employee_id: str
) -> None:
    repo.save_trip(trip(date(2027, 3, 3), employee_id=employee_id), assessment())
    (row,) = _rows(api, "from=2027-03-01&to=2027-03-31")
    assert row["employee_id"] == "'" + employee_id
    assert row["trip_id"] == "trp_1", "harmless cells stay as they are"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("to=2027-03-31", 400, "from"),
        ("from=2027-03-01", 400, "to"),
        ("from=2027-03-01&to=2027-03-31&format=xlsx", 400, "format"),
        ("from=2027-03-31&to=2027-03-01", 422, "to"),
        ("from=2027-01-01&to=2028-02-06", 422, "to"),  # 401 days apart; 400 is the most
    ],
)
def test_a_bad_export_query_names_its_parameter(
    api: KeyedClient, query: str, status: int, field: str
) -> None:
    r = api.http.get(f"/v1/export/trips.csv?{query}")
    assert r.status_code == status
    assert r.headers["Content-Type"] == "application/problem+json"
    assert json.loads(r.body)["errors"][0]["field"] == field


def test_an_export_too_large_for_one_answer_asks_for_a_shorter_range(
    api: KeyedClient, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    monkeypatch.setattr(admin, "EXPORT_MAX_BYTES", 200)
    r = api.http.get("/v1/export/trips.csv?from=2027-03-01&to=2027-03-31")
    assert r.status_code == 422
    assert "shorter ranges" in json.loads(r.body)["detail"]


def test_only_admins_export_and_each_export_is_recorded(api: KeyedClient, mocked_aws: Settings) -> None:
    for scope in (Scope.READ, Scope.WRITE):
        key = issue_key(mocked_aws, scope)
        r = api.http.get(
            "/v1/export/trips.csv?from=2027-01-01&to=2027-03-31", headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 403
    assert api.http.get("/v1/export/trips.csv?from=2027-01-01&to=2027-03-31").status_code == 200
    entries = json.loads(api.http.get("/v1/audit").body)["entries"]
    assert [(e["action"], e["resource"]) for e in entries] == [
        ("trip.export", "export/trips/2027-01-01..2027-03-31")
    ]
