"""Nobody gets in without credentials that allow the operation; bad requests get one error format."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.api.keys import new_key
from chalicelib.api.operations import IAM_PREFIX, REGISTRY, Auth
from chalicelib.api.records import Scope
from chalicelib.bootstrap import Settings
from coverwatch.cli import main
from tests.functional.conftest import KeyedClient, issue_key

CHECK = {"home_country": "DE", "host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"}
JSON = {"Content-Type": "application/json"}


def _check(api: KeyedClient, headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
    r = api.anonymous.post("/v1/checks", headers={**JSON, **headers}, body=json.dumps(CHECK))
    return r.status_code, json.loads(r.body), dict(r.headers)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_without_a_key_only_health_answers(api: KeyedClient) -> None:
    status, problem, headers = _check(api, {})
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["WWW-Authenticate"] == 'Bearer realm="coverwatch"'
    assert problem["errors"][0]["field"] == "Authorization"
    assert "Bearer cw_" in problem["detail"]
    assert api.anonymous.get("/v1/health").status_code == 200
    assert api.anonymous.get("/v1/open-cases?from=2027-01-01&to=2027-12-31").status_code == 401


@pytest.mark.parametrize(
    "presented",
    ["not-a-key", "cw_short_x", "cw_0123456789ab_wrong-secret", "Basic dXNlcjpwdw=="],
)
def test_a_malformed_unknown_or_wrong_key_is_refused(api: KeyedClient, presented: str) -> None:
    header = presented if presented.startswith("Basic") else f"Bearer {presented}"
    status, problem, _ = _check(api, {"Authorization": header})
    assert status == 401
    assert problem["type"] == "urn:coverwatch:problem:unauthorized"


def test_the_right_id_with_the_wrong_secret_is_refused(api: KeyedClient, mocked_aws: Settings) -> None:
    key = issue_key(mocked_aws, Scope.CHECK)
    forged = key[: key.rindex("_") + 1] + "x" * 43
    assert _check(api, _bearer(forged))[0] == 401
    assert _check(api, _bearer(key))[0] == 200
    assert _check(api, {"X-Api-Key": key})[0] == 200


def test_scopes_decide_what_a_key_may_do(api: KeyedClient, mocked_aws: Settings) -> None:
    booking_tool = _bearer(issue_key(mocked_aws, Scope.CHECK))
    assert _check(api, booking_tool)[0] == 200
    r = api.anonymous.get("/v1/open-cases?from=2027-01-01&to=2027-12-31", headers=booking_tool)
    assert r.status_code == 403
    assert "'read' scope" in json.loads(r.body)["detail"]
    reader = _bearer(issue_key(mocked_aws, Scope.READ))
    assert (
        api.anonymous.get("/v1/open-cases?from=2027-01-01&to=2027-12-31", headers=reader).status_code == 200
    )
    assert _check(api, reader)[0] == 403


def test_an_expired_or_revoked_key_stops_working(api: KeyedClient, mocked_aws: Settings) -> None:
    import app as app_module

    repo = bootstrap.repository(mocked_aws)
    old, record = new_key("old", frozenset({Scope.CHECK}), expires_at=datetime.now(UTC) - timedelta(days=1))
    repo.put_api_key(record)
    status, problem, _ = _check(api, _bearer(old))
    assert status == 401
    assert "expired or was revoked" in problem["detail"]

    key, record = new_key("soon revoked", frozenset({Scope.CHECK}))
    repo.put_api_key(record)
    assert _check(api, _bearer(key))[0] == 200
    out, err = io.StringIO(), io.StringIO()
    assert main(["keys", "revoke", record.id], out=out, err=err) == 0
    app_module.guard.forget()  # what the 60-second cache expiry does in a running API
    assert _check(api, _bearer(key))[0] == 401


def test_admins_create_keys_that_are_shown_once_and_stored_only_as_digests(
    api: KeyedClient, mocked_aws: Settings
) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["keys", "create", "--name", "booking tool", "--scopes", "check,read"], out=out, err=err) == 0
    key = out.getvalue().strip()
    assert key.startswith("cw_")
    assert "only time the key is shown" in err.getvalue()
    assert _check(api, _bearer(key))[0] == 200
    table = bootstrap.aws_client("dynamodb", mocked_aws).scan(TableName=mocked_aws.table_name)["Items"]
    assert key.split("_", 2)[2] not in json.dumps(table)  # the secret itself is nowhere in the store

    listing = io.StringIO()
    assert main(["keys", "list"], out=listing) == 0
    assert "booking tool" in listing.getvalue()
    assert "check,read" in listing.getvalue()
    assert main(["keys", "create", "--name", "x", "--scopes", "superuser"], out=out, err=err) == 2


def test_a_key_over_its_rate_gets_429_with_retry_after(api: KeyedClient, mocked_aws: Settings) -> None:
    key, record = new_key("tight", frozenset({Scope.CHECK}), rate_per_minute=2)
    bootstrap.repository(mocked_aws).put_api_key(record)
    assert [_check(api, _bearer(key))[0] for _ in range(2)] == [200, 200]
    status, problem, headers = _check(api, _bearer(key))
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert problem["type"] == "urn:coverwatch:problem:rate-limited"


def test_a_body_over_the_limit_is_413_and_a_wrong_media_type_415(api: KeyedClient) -> None:
    big = json.dumps({**CHECK, "padding": "x" * 300_000})
    r = api.http.post("/v1/checks", headers=JSON, body=big)
    assert r.status_code == 413
    assert json.loads(r.body)["errors"][0]["field"] == "(body)"
    r = api.http.post("/v1/checks", headers={"Content-Type": "text/csv"}, body="a,b")
    assert r.status_code == 415
    assert r.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(r.body)
    assert problem["errors"][0]["field"] == "Content-Type"
    assert "application/json" in problem["detail"]


def test_webhooks_and_traveler_links_use_their_own_validation(api: KeyedClient) -> None:
    r = api.anonymous.post("/v1/webhooks/graph?validationToken=hello", headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.body) == (200, b"hello")
    r = api.anonymous.get("/v1/answers/not-a-token")
    assert r.status_code in (400, 503)  # refused by the link check (or links disabled), never 401


def test_every_route_is_declared_with_its_authentication() -> None:
    import app as app_module

    for path, methods in app_module.app.routes.items():
        for method in methods:
            op = REGISTRY.get((method, path.removeprefix(IAM_PREFIX)))
            assert op is not None, f"{method} {path} bypasses the registry"
            assert (op.auth is Auth.KEY) == (op.scope is not None)
            if path.startswith(IAM_PREFIX):
                assert op.auth is Auth.KEY


def _iam_event(path: str, arn: str | None) -> dict[str, Any]:
    identity: dict[str, Any] = {"sourceIp": "10.0.0.1"}
    if arn:
        identity["userArn"] = arn
    return {
        "resource": IAM_PREFIX + path,
        "path": IAM_PREFIX + path,
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": IAM_PREFIX + path,
            "httpMethod": "POST",
            "requestId": "req-iam-1",
            "identity": identity,
        },
        "body": json.dumps(CHECK),
        "isBase64Encoded": False,
    }


@pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported")
def test_aws_internal_callers_use_iam_on_the_iam_routes(
    api: KeyedClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app as app_module

    monkeypatch.setenv(
        "COVERWATCH_IAM_PRINCIPALS", json.dumps({"arn:aws:iam::123456789012:role/booking": ["check"]})
    )
    bootstrap.default_settings.cache_clear()
    session = "arn:aws:sts::123456789012:assumed-role/booking/lambda-session"
    ok = app_module.app(_iam_event("/v1/checks", session), None)
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["status"] == "certificate_required"
    stranger = app_module.app(_iam_event("/v1/checks", "arn:aws:sts::999999999999:assumed-role/x/y"), None)
    assert stranger["statusCode"] == 403
    unsigned = app_module.app(_iam_event("/v1/checks", None), None)
    assert unsigned["statusCode"] == 401
    # through the local gateway nothing signs requests: the /iam routes stay shut
    assert api.http.post(IAM_PREFIX + "/v1/checks", headers=JSON, body=json.dumps(CHECK)).status_code == 401


def test_request_logs_carry_ids_not_keys_or_names(api: KeyedClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="coverwatch.api")
    employee = {
        "name": "Anna Schmidt",
        "email": "anna@example.com",
        "home_country": "DE",
        "nationalities": ["DE"],
        "residence_country": "DE",
    }
    r = api.http.put("/v1/employees/emp-1", headers=JSON, body=json.dumps(employee))
    assert r.status_code == 200
    records = [r for r in caplog.records if r.name == "coverwatch.api"]
    assert records
    assert records[-1].__dict__["operation"] == "put_employee"
    assert "put_employee 200 caller=key:" in records[-1].getMessage()  # what a plain CloudWatch line shows
    assert records[-1].__dict__["caller"].startswith("key:")
    logged = " ".join(json.dumps(r.__dict__, default=str) for r in records)
    assert "Anna" not in logged
    assert "anna@example.com" not in logged
    assert api.http.key.split("_", 2)[2] not in logged


def test_chalice_s_own_errors_come_as_problems_too(api: KeyedClient) -> None:
    r = api.http.request("DELETE", "/v1/health")
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/problem+json"
    assert json.loads(r.body)["type"] == "urn:coverwatch:problem:method-not-allowed"
    # a GET has no body, so whatever Content-Type a client sends with it is no reason to refuse it
    assert api.http.get("/v1/health", headers={"Content-Type": "text/plain"}).status_code == 200
