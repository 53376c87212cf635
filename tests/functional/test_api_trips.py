"""/v1/trips through Chalice's test client: listing and paging, one trip with its history, HR's changes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.api.records import Scope
from chalicelib.bootstrap import Settings
from chalicelib.jobs import SyncJob
from chalicelib.models import Connection, Purpose, SourceKind, Status
from chalicelib.routes.trips import TripDetail, TripList
from chalicelib.scan import ScanDeps
from chalicelib.store import repository as store
from chalicelib.store.repository import Repository, StaleTripError, TripOverride
from chalicelib.sync import sync_connection
from tests.builders import assessment, employee, paris_meeting, trip
from tests.fakes.memory_source import MemorySource
from tests.functional.conftest import KeyedClient, issue_key

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def repo(api: KeyedClient, mocked_aws: Settings) -> Repository:
    r = bootstrap.repository(mocked_aws)
    r.put_employee(employee())
    return r


def _get(api: KeyedClient, path: str, **headers: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    r = api.http.get(path, headers=headers)
    return r.status_code, json.loads(r.body), dict(r.headers)


def _patch(
    api: KeyedClient, trip_id: str, body: Any, if_match: str | None = None, **headers: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    sent = {**JSON, **headers}
    if if_match is not None:
        sent["If-Match"] = if_match
    r = api.http.patch(f"/v1/trips/{trip_id}", headers=sent, body=json.dumps(body))
    return r.status_code, json.loads(r.body), dict(r.headers)


def _listed(api: KeyedClient, query: str) -> list[str]:
    status, body, _ = _get(api, f"/v1/trips?{query}")
    assert status == 200, body
    TripList.model_validate(body)
    assert body["next_cursor"] is None
    return [item["trip"]["id"] for item in body["trips"]]


def _all_pages(api: KeyedClient, query: str) -> tuple[list[str], int]:
    """Every trip id the listing gives when its cursors are followed, and how many pages it took."""
    ids: list[str] = []
    pages, cursor = 0, None
    while True:
        path = f"/v1/trips?{query}" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = _get(api, path)
        assert status == 200, body
        TripList.model_validate(body)
        ids += [item["trip"]["id"] for item in body["trips"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages


def _seed(repo: Repository, *specs: tuple[str, date, str, Status, str]) -> None:
    for trip_id, start, country, status, employee_id in specs:
        repo.save_trip(trip(start, country=country, id=trip_id, employee_id=employee_id), assessment(status))


# --- GET /v1/trips -----------------------------------------------------------------------------------


def test_the_default_listing_runs_from_a_month_back_to_a_year_ahead(
    api: KeyedClient, repo: Repository
) -> None:
    required = Status.CERTIFICATE_REQUIRED
    _seed(
        repo,
        ("trp_too_early", date(2026, 12, 15), "FR", required, "emp-1"),  # today (2027-01-15) - 31 days
        ("trp_first_day", date(2026, 12, 16), "FR", required, "emp-1"),
        ("trp_march", date(2027, 3, 3), "FR", required, "emp-1"),
        ("trp_last_day", date(2028, 1, 15), "FR", required, "emp-1"),
        ("trp_too_late", date(2028, 1, 16), "FR", required, "emp-1"),
    )
    assert _listed(api, "") == ["trp_first_day", "trp_march", "trp_last_day"]
    _, body, _ = _get(api, "/v1/trips")
    first = body["trips"][0]
    assert first["trip"]["evidence"][0]["place"] == "Paris"
    assert (first["assessment"]["status"], first["version"], first["dismissed"]) == (
        "certificate_required",
        1,
        False,
    )


def test_filters_combine_status_country_employee_and_dates(api: KeyedClient, repo: Repository) -> None:
    required, covered, review = Status.CERTIFICATE_REQUIRED, Status.COVERED, Status.NEEDS_REVIEW
    _seed(
        repo,
        ("trp_a", date(2027, 2, 1), "FR", required, "emp-1"),
        ("trp_b", date(2027, 2, 2), "AT", covered, "emp-1"),
        ("trp_c", date(2027, 2, 3), "FR", review, "emp-2"),
        ("trp_d", date(2027, 5, 4), "FR", required, "emp-2"),
    )
    assert _listed(api, "status=certificate_required") == ["trp_a", "trp_d"]
    assert _listed(api, "status=certificate_required,needs_review") == ["trp_a", "trp_c", "trp_d"]
    assert _listed(api, "status=covered&status=needs_review") == ["trp_b", "trp_c"]
    assert _listed(api, "country=fr") == ["trp_a", "trp_c", "trp_d"]
    assert _listed(api, "employee_id=emp-2") == ["trp_c", "trp_d"]
    assert _listed(api, "employee_id=emp-2&status=needs_review") == ["trp_c"]
    assert _listed(api, "from=2027-02-02&to=2027-02-28") == ["trp_b", "trp_c"]
    assert _listed(api, "from=2027-02-02&to=2027-02-28&country=FR&status=needs_review") == ["trp_c"]
    assert _listed(api, "employee_id=nobody") == []


def test_pages_follow_each_other_across_month_boundaries(api: KeyedClient, repo: Repository) -> None:
    starts = [date(2027, 1, 30), date(2027, 1, 31), date(2027, 2, 1), date(2027, 2, 28), date(2027, 3, 1)]
    starts += [date(2027, 3, 2), date(2027, 4, 10)]
    specs = [
        (f"trp_{n}", day, "FR", Status.CERTIFICATE_REQUIRED, f"emp-{n % 2}") for n, day in enumerate(starts)
    ]
    _seed(repo, *specs)
    expected = [f"trp_{n}" for n in range(len(starts))]

    ids, pages = _all_pages(api, "limit=2&from=2027-01-01&to=2027-04-30")
    assert ids == expected
    assert pages == 4

    ids, _ = _all_pages(api, "limit=3&from=2027-01-01&to=2027-04-30&status=certificate_required")
    assert ids == expected  # with a filter the page boundaries fall inside months too
    ids, _ = _all_pages(api, "limit=1&employee_id=emp-1")  # the employee's own partition, same order
    assert ids == [i for n, i in enumerate(expected) if n % 2 == 1]


def test_a_page_stops_at_its_read_budget_and_hands_on_a_cursor(
    api: KeyedClient, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(
        repo,
        ("trp_jan", date(2027, 1, 20), "FR", Status.CERTIFICATE_REQUIRED, "emp-1"),
        ("trp_aug", date(2027, 8, 20), "FR", Status.CERTIFICATE_REQUIRED, "emp-1"),
    )
    monkeypatch.setattr(store, "LIST_QUERY_BUDGET", 3)  # three month partitions per call
    _, body, _ = _get(api, "/v1/trips?from=2027-01-01&to=2027-12-31")
    assert [t["trip"]["id"] for t in body["trips"]] == ["trp_jan"]
    assert body["next_cursor"] is not None, "fewer trips than the limit, yet not the last page"
    ids, pages = _all_pages(api, "from=2027-01-01&to=2027-12-31")
    assert ids == ["trp_jan", "trp_aug"]
    assert pages == 4  # twelve months, three per call


def _forged(resume: dict[str, Any], digest: str = "0" * 16) -> str:
    raw = json.dumps({"q": digest, "r": resume}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_cursor_it_did_not_hand_out_is_refused(api: KeyedClient, repo: Repository) -> None:
    _seed(repo, *[(f"trp_{n}", date(2027, 2, n + 1), "FR", Status.COVERED, "emp-1") for n in range(3)])
    _, body, _ = _get(api, "/v1/trips?limit=1&country=FR")
    cursor = body["next_cursor"]
    assert cursor
    digest = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["q"]
    other_month = {"month": "1999-01", "key": None}
    bad_key = {"month": "2027-02", "key": {"PK": "EMP#x", "SK": "PROFILE", "GSI2PK": "x", "GSI2SK": "y"}}
    for query in (
        "cursor=not-a-cursor!!",
        f"cursor={cursor[:-4]}",
        f"cursor={cursor}",  # from a listing with other filters
        f"country=FR&cursor={_forged({'month': '2027-02', 'key': None})}",  # the wrong digest
        f"country=FR&cursor={_forged(other_month, digest)}",
        f"country=FR&cursor={_forged(bad_key, digest)}",
    ):
        status, problem, headers = _get(api, f"/v1/trips?{query}")
        assert status == 400, query
        assert headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in problem["errors"]] == ["cursor"], query
    assert _get(api, f"/v1/trips?limit=1&country=FR&cursor={cursor}")[0] == 200


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("colour=red", 400, "colour"),
        ("limit=0", 400, "limit"),
        ("limit=201", 400, "limit"),
        ("status=lost", 400, "status.0"),
        ("from=yesterday", 400, "from"),
        ("from=2027-03-01&to=2027-02-01", 422, "to"),
        ("from=2020-01-01&to=2031-01-01", 422, "to"),
        ("country=XX", 422, "country"),
    ],
)
def test_a_bad_query_names_its_parameter(api: KeyedClient, query: str, status: int, field: str) -> None:
    got, problem, _ = _get(api, f"/v1/trips?{query}")
    assert got == status
    assert problem["errors"][0]["field"] == field


def test_reading_trips_needs_the_read_scope(api: KeyedClient, mocked_aws: Settings) -> None:
    checker = issue_key(mocked_aws, Scope.CHECK)
    reader = issue_key(mocked_aws, Scope.READ)
    assert api.http.get("/v1/trips", headers={"Authorization": f"Bearer {checker}"}).status_code == 403
    assert api.http.get("/v1/trips", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert api.http.get("/v1/trips/trp_x", headers={"Authorization": f"Bearer {checker}"}).status_code == 403
    assert api.anonymous.get("/v1/trips").status_code == 401


# --- GET /v1/trips/{trip_id} -------------------------------------------------------------------------


def test_a_trip_shows_its_evidence_version_and_growing_history(api: KeyedClient, repo: Repository) -> None:
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    status, body, headers = _get(api, "/v1/trips/trp_1")
    assert status == 200
    TripDetail.model_validate(body)
    assert headers["ETag"] == '"1"'
    assert body["trip"]["evidence"][0]["summary"] == "Client meeting <Paris>"
    assert [(h["version"], h["start"], h["status"]) for h in body["history"]] == [
        (1, "2027-03-03", "certificate_required")
    ]
    assert body["override"] is None

    repo.save_trip(trip(date(2027, 3, 3)), assessment())  # a replay is no new version
    repo.save_trip(trip(date(2027, 3, 10), date(2027, 3, 12)), assessment())  # the trip moved
    repo.save_trip(trip(date(2027, 3, 10), date(2027, 3, 12)), assessment(Status.COVERED))
    _, body, headers = _get(api, "/v1/trips/trp_1")
    assert headers["ETag"] == '"3"'
    assert [(h["version"], h["start"], h["end"], h["status"]) for h in body["history"]] == [
        (1, "2027-03-03", "2027-03-03", "certificate_required"),
        (2, "2027-03-10", "2027-03-12", "certificate_required"),
        (3, "2027-03-10", "2027-03-12", "covered"),
    ]
    first = body["history"][0]
    assert (first["document"], first["instrument_id"], first["rule_ids"], first["purpose"]) == (
        "A1",
        "eu883",
        ["eu883.art12"],
        "work",
    )
    assert "summary" not in json.dumps(body["history"]), "the history keeps no calendar text"


@pytest.mark.parametrize("trip_id", ["trp_unknown", "x" * 200])
def test_an_unknown_trip_is_404(api: KeyedClient, repo: Repository, trip_id: str) -> None:
    status, problem, _ = _get(api, f"/v1/trips/{trip_id}")
    assert status == 404
    assert problem["errors"][0]["field"] == "trip_id"
    assert _patch(api, trip_id, {"purpose": "work"}, '"1"')[0] == 404


# --- PATCH /v1/trips/{trip_id} -----------------------------------------------------------------------


@pytest.fixture
def planned(api: KeyedClient, repo: Repository) -> str:
    """A stored work trip to Paris, decided by the rules: an A1 is needed (an open case)."""
    api.http.put(
        "/v1/employees/emp-1",
        headers=JSON,
        body=json.dumps(
            {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}
        ),
    )
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    return "trp_1"


def _open_cases(api: KeyedClient) -> list[str]:
    _, body, _ = _get(api, "/v1/open-cases?from=2027-01-01&to=2027-12-31")
    return [item["trip"]["id"] for item in body["trips"]]


def _etag(api: KeyedClient, trip_id: str) -> str:
    return _get(api, f"/v1/trips/{trip_id}")[2]["ETag"]


def test_hr_calls_a_trip_a_holiday_and_the_case_closes(api: KeyedClient, planned: str) -> None:
    assert _open_cases(api) == [planned]
    before = _etag(api, planned)
    status, body, headers = _patch(api, planned, {"purpose": "holiday", "note": "ski week"}, before)
    assert status == 200, body
    TripDetail.model_validate(body)
    assert body["trip"]["purpose"] == "holiday"
    assert body["assessment"]["status"] == "not_required"
    assert "override.purpose" in body["assessment"]["rule_ids"]
    assert headers["ETag"] == f'"{body["version"]}"' != before
    assert body["override"]["purpose"] == "holiday"
    assert body["override"]["note"] == "ski week"
    assert body["override"]["by"].startswith("key:")
    assert [h["status"] for h in body["history"]][-1] == "not_required"
    assert _open_cases(api) == []


def test_corrected_dates_replace_the_detected_ones_and_keep_the_id(api: KeyedClient, planned: str) -> None:
    status, body, _ = _patch(api, planned, {"start": "2027-03-02", "end": "2027-03-05"}, _etag(api, planned))
    assert status == 200, body
    assert (body["trip"]["id"], body["trip"]["start"], body["trip"]["end"]) == (
        planned,
        "2027-03-02",
        "2027-03-05",
    )
    assert (body["override"]["start"], body["override"]["end"]) == ("2027-03-02", "2027-03-05")
    status, body, _ = _patch(api, planned, {"end": "2027-03-04"}, _etag(api, planned))  # one side only
    assert (status, body["trip"]["start"], body["trip"]["end"]) == (200, "2027-03-02", "2027-03-04")


def test_a_dismissed_trip_needs_nothing_and_a_withdrawn_dismissal_brings_it_back(
    api: KeyedClient, planned: str
) -> None:
    reason = "not a trip: the meeting was virtual"
    status, body, _ = _patch(api, planned, {"dismissed": True, "reason": reason}, _etag(api, planned))
    assert status == 200, body
    assert (body["dismissed"], body["trip"]["cancelled"], body["assessment"]["status"]) == (
        True,
        True,
        "not_required",
    )
    assert body["assessment"]["rule_ids"] == ["override.dismissed"]
    assert reason in body["assessment"]["explanation"]
    assert _open_cases(api) == []
    listed = _get(api, "/v1/trips?status=not_required")[1]["trips"]
    assert [(t["trip"]["id"], t["dismissed"]) for t in listed] == [(planned, True)]

    status, body, _ = _patch(api, planned, {"dismissed": False}, _etag(api, planned))
    assert status == 200, body
    assert (body["dismissed"], body["trip"]["cancelled"], body["assessment"]["status"]) == (
        False,
        False,
        "certificate_required",
    )
    assert _open_cases(api) == [planned]
    assert [h["cancelled"] for h in body["history"]] == [False, True, False]


def test_hr_outranks_the_travelers_answer(api: KeyedClient, planned: str, repo: Repository) -> None:
    repo.put_trip_answer("emp-1", planned, Purpose.HOLIDAY, date(2027, 3, 3))
    status, body, _ = _patch(api, planned, {"purpose": "work"}, _etag(api, planned))
    assert status == 200
    assert (body["trip"]["purpose"], body["assessment"]["status"]) == ("work", "certificate_required")


def test_a_change_needs_the_current_version_in_if_match(api: KeyedClient, planned: str) -> None:
    status, problem, _ = _patch(api, planned, {"purpose": "holiday"})
    assert status == 428
    assert problem["errors"][0]["field"] == "If-Match"

    assert _patch(api, planned, {"purpose": "holiday"}, "1")[0] == 200  # quotes are optional
    status, problem, headers = _patch(api, planned, {"purpose": "transit"}, '"1"')
    assert status == 412
    assert problem["errors"][0]["field"] == "If-Match"
    assert problem["current_version"] == 2
    assert headers["ETag"] == '"2"'
    assert _get(api, f"/v1/trips/{planned}")[1]["trip"]["purpose"] == "holiday", (
        "the stale write changed nothing"
    )
    assert _patch(api, planned, {"purpose": "transit"}, 'W/"2"')[0] == 200

    status, problem, _ = _patch(api, planned, {"purpose": "work"}, "*")
    assert (status, problem["errors"][0]["field"]) == (400, "If-Match")


def test_two_editors_with_the_same_version_cannot_both_win(planned: str, repo: Repository) -> None:
    stored = repo.get_trip(planned)
    assert stored is not None
    mine = TripOverride(
        employee_id="emp-1",
        trip_id=planned,
        purpose=Purpose.HOLIDAY,
        by="key:a",
        at=datetime(2027, 1, 15, 10, tzinfo=UTC),
    )
    theirs = mine.model_copy(update={"purpose": Purpose.TRANSIT, "by": "key:b"})
    repo.put_trip_override(mine, trip_version=stored.version, trip_end=stored.trip.end)
    with pytest.raises(StaleTripError):  # read before mine was stored: the override's revision moved on
        repo.put_trip_override(theirs, trip_version=stored.version, trip_end=stored.trip.end)
    with pytest.raises(StaleTripError):  # the trip itself is at another version
        repo.put_trip_override(
            mine.model_copy(update={"revision": 1}), trip_version=7, trip_end=stored.trip.end
        )
    kept = repo.trip_override("emp-1", planned)
    assert kept is not None
    assert (kept.purpose, kept.revision) == (Purpose.HOLIDAY, 1)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"purpose": "work", "colour": "red"}, 400, "colour"),
        ({"purpose": "unknown"}, 400, "purpose"),
        ({"dismissed": "yes", "reason": "x"}, 400, "dismissed"),
        ({"start": "soon"}, 400, "start"),
        ({}, 422, "(body)"),
        ({"note": "just a note"}, 422, "(body)"),
        ({"dismissed": True}, 422, "reason"),
        ({"purpose": "work", "reason": "because"}, 422, "reason"),
        ({"start": "2027-03-05", "end": "2027-03-04"}, 422, "end"),
        ({"start": "2027-03-04"}, 422, "start"),  # after the stored end (2027-03-03)
    ],
)
def test_a_bad_change_names_its_field(
    api: KeyedClient, planned: str, body: dict[str, Any], status: int, field: str
) -> None:
    got, problem, _ = _patch(api, planned, body, '"1"')
    assert got == status, problem
    assert problem["errors"][0]["field"] == field
    assert _etag(api, planned) == '"1"', "nothing was changed"


def test_a_body_that_is_not_a_json_object_is_400(api: KeyedClient, planned: str) -> None:
    for raw in ("[1]", "{not json"):
        r = api.http.patch(f"/v1/trips/{planned}", headers={**JSON, "If-Match": '"1"'}, body=raw)
        assert r.status_code == 400
        assert json.loads(r.body)["errors"][0]["field"] == "(body)"


def test_a_trip_that_left_the_calendar_cannot_be_changed(api: KeyedClient, repo: Repository) -> None:
    repo.save_trip(trip(date(2027, 3, 3)).model_copy(update={"cancelled": True}), assessment())
    status, problem, _ = _patch(api, "trp_1", {"purpose": "holiday"}, '"1"')
    assert status == 409
    assert problem["errors"][0]["field"] == "trip_id"


def test_changing_a_trip_needs_the_write_scope(api: KeyedClient, mocked_aws: Settings, planned: str) -> None:
    reader = {"Authorization": f"Bearer {issue_key(mocked_aws, Scope.READ)}"}
    status, problem, _ = _patch(api, planned, {"purpose": "holiday"}, '"1"', **reader)
    assert status == 403
    assert "'write' scope" in problem["detail"]
    writer = {"Authorization": f"Bearer {issue_key(mocked_aws, Scope.WRITE)}"}
    assert _patch(api, planned, {"purpose": "holiday"}, '"1"', **writer)[0] == 200


# --- HR's override and the calendar ------------------------------------------------------------------


@pytest.fixture
def synced(
    api: KeyedClient, repo: Repository, mocked_aws: Settings, tmp_path: Path
) -> tuple[MemorySource, ScanDeps]:
    """Anna's Outlook calendar with a Paris workshop on 2027-03-03, synced once (HR was alerted)."""
    repo.put_connection(
        Connection(id="graph:anna", employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com")
    )
    deps = ScanDeps(
        repo=repo,
        notifier=OutboxNotifier(tmp_path / "out", mocked_aws.sender),
        hr_email="hr@example.com",
        decided_on=date(2027, 1, 15),
    )
    source = MemorySource()
    source.put(paris_meeting(date(2027, 3, 3), "evt-1", SourceKind.GRAPH))
    outcome = sync_connection(SyncJob(connection_id="graph:anna"), {SourceKind.GRAPH: source}, deps)
    assert outcome.report is not None
    assert outcome.report.alerts_sent == 1
    return source, deps


def _sync(source: MemorySource, deps: ScanDeps) -> None:
    sync_connection(SyncJob(connection_id="graph:anna"), {SourceKind.GRAPH: source}, deps)


def test_hr_dates_and_purpose_survive_a_later_calendar_sync(
    api: KeyedClient, synced: tuple[MemorySource, ScanDeps]
) -> None:
    source, deps = synced
    (trip_id,) = _listed(api, "employee_id=emp-1")
    status, body, _ = _patch(
        api, trip_id, {"start": "2027-03-02", "end": "2027-03-04", "purpose": "holiday"}, _etag(api, trip_id)
    )
    assert status == 200, body
    version = body["version"]

    source.put(paris_meeting(date(2027, 3, 10), "evt-1", SourceKind.GRAPH))  # the calendar entry moves
    _sync(source, deps)
    _, body, _ = _get(api, f"/v1/trips/{trip_id}")
    assert (body["trip"]["start"], body["trip"]["end"], body["trip"]["purpose"]) == (
        "2027-03-02",
        "2027-03-04",
        "holiday",
    )
    assert body["assessment"]["status"] == "not_required"
    assert body["version"] > version
    assert body["trip"]["evidence"][0]["day"] == "2027-03-10", "the calendar's news is kept as evidence"


def test_a_dismissal_survives_a_later_sync_and_hr_hears_the_all_clear(
    api: KeyedClient, synced: tuple[MemorySource, ScanDeps], repo: Repository, tmp_path: Path
) -> None:
    source, deps = synced
    (trip_id,) = _listed(api, "employee_id=emp-1")
    reason = "not a trip: the meeting was virtual"
    status, body, _ = _patch(api, trip_id, {"dismissed": True, "reason": reason}, _etag(api, trip_id))
    assert status == 200, body
    assert repo.alert_was_sent("emp-1", f"resolved:{trip_id}:"), "HR was alerted before, so hears it is over"

    source.put(paris_meeting(date(2027, 3, 3), "evt-2", SourceKind.GRAPH))  # another entry the same day
    _sync(source, deps)
    _, body, _ = _get(api, f"/v1/trips/{trip_id}")
    assert (body["dismissed"], body["assessment"]["status"]) == (True, "not_required")
    assert _open_cases(api) == []
    alerts = [p.read_text() for p in (tmp_path / "out").glob("*.eml")]
    assert len(alerts) == 1, "the calendar change raised no new alert for the dismissed trip"
