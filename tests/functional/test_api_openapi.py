"""The OpenAPI document and the docs page describe exactly what the app serves, and answers match them."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from chalice.test import HTTPResponse
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from chalicelib.api.openapi import is_json
from chalicelib.api.operations import IAM_PREFIX, REGISTRY, Auth
from chalicelib.bootstrap import Settings
from tests.functional.conftest import KeyedClient

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
JSON = {"Content-Type": "application/json"}
ANNA = {"name": "Anna Schmidt", "home_country": "DE", "nationalities": ["DE"], "residence_country": "DE"}
HOTEL = {
    "@context": "https://schema.org",
    "@type": "LodgingReservation",
    "reservationNumber": "HX-1",
    "reservationFor": {
        "@type": "LodgingBusiness",
        "name": "Hotel du Louvre",
        "address": {"@type": "PostalAddress", "addressLocality": "Paris", "addressCountry": "FR"},
    },
    "checkinTime": "2027-03-01T15:00:00+01:00",
    "checkoutTime": "2027-03-05T11:00:00+01:00",
}
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:w1@example.com\r\n"
    "DTSTART;VALUE=DATE:20270510\r\nDTEND;VALUE=DATE:20270513\r\nSUMMARY:Workshop in Madrid\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _document(api: KeyedClient) -> dict[str, Any]:
    r = api.anonymous.get("/v1/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    document: dict[str, Any] = json.loads(r.body)
    return document


def _served_operations() -> set[tuple[str, str]]:
    import app as app_module

    return {
        (method, path)
        for path, methods in app_module.app.routes.items()
        for method in methods
        if not path.startswith(IAM_PREFIX + "/")
    }


def _listed(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def test_the_served_document_is_valid_openapi_3_1_and_public(api: KeyedClient) -> None:
    document = _document(api)
    validate(document)  # raises with the offending part when the document is not valid OpenAPI
    assert document["openapi"] == "3.1.0"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert document["info"]["version"] == pyproject["project"]["version"]
    assert document["servers"] == [{"url": "/", "description": "This deployment"}]


def test_the_committed_document_is_what_the_app_serves(api: KeyedClient) -> None:
    served = _document(api)
    committed = json.loads(COMMITTED.read_text(encoding="utf-8")) if COMMITTED.is_file() else {}
    if committed == served:
        return
    old, new = set(_listed(committed)) if committed else set(), set(_listed(served))
    hints = [f"new: {m} {p}" for m, p in sorted(new - old)] + [f"gone: {m} {p}" for m, p in sorted(old - new)]
    changed = sorted(
        f"changed: {m} {p}"
        for m, p in new & old
        if committed["paths"][p][m.lower()] != served["paths"][p][m.lower()]
    )
    pytest.fail(
        "docs/openapi.json is not what the app serves. Run `make openapi` and commit docs/openapi.json.\n"
        + "\n".join(hints + changed or ["(info, tags or components differ)"])
    )


def test_every_operation_is_listed_once_and_the_iam_twins_are_described(api: KeyedClient) -> None:
    document = _document(api)
    listed = _listed(document)
    assert len(listed) == len(set(listed))
    assert set(listed) == _served_operations()
    assert not any(path.startswith(IAM_PREFIX + "/") for _, path in listed)
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert f"POST {IAM_PREFIX}/v1/checks" in document["info"]["description"]
    assert "SigV4" in document["info"]["description"]


def test_each_operation_states_who_may_call_it(api: KeyedClient) -> None:
    document = _document(api)
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"] == {**schemes["apiKeyHeader"], "type": "apiKey", "name": "X-Api-Key"}
    for method, path in _served_operations():
        op = document["paths"][path][method.lower()]
        declared = REGISTRY[(method, path)]
        if declared.auth is Auth.KEY:
            assert declared.scope is not None
            assert op["security"] == [{"apiKey": []}, {"apiKeyHeader": []}]
            assert op["x-coverwatch-scope"] == declared.scope.value
            assert f"`{declared.scope.value}` scope" in op["description"]
            assert {"401", "403", "429"} <= set(op["responses"]), f"{method} {path}"
        else:
            assert op["security"] == [], f"{method} {path}"
            assert "x-coverwatch-scope" not in op
    assert document["paths"]["/v1/webhooks/graph"]["post"]["description"].count("clientState") >= 1


def test_query_parameters_carry_the_names_callers_send(api: KeyedClient) -> None:
    document = _document(api)
    params = {p["name"]: p for p in document["paths"]["/v1/open-cases"]["get"]["parameters"]}
    assert set(params) == {"from", "to"}  # `from_` in Python; `from` on the wire
    assert params["from"] == {**params["from"], "in": "query", "required": True}
    assert params["from"]["schema"] == {"type": "string", "format": "date"}
    graph = {p["name"]: p for p in document["paths"]["/v1/webhooks/graph"]["post"]["parameters"]}
    assert graph["validationToken"]["required"] is False
    assert "null" not in json.dumps(graph["validationToken"]["schema"])  # a query value is never null
    upload = document["paths"]["/v1/connections/{connection_id}/ics"]["post"]
    assert upload["parameters"][0] == {**upload["parameters"][0], "in": "path", "required": True}


def test_errors_are_documented_as_problems_where_they_can_happen(api: KeyedClient) -> None:
    document = _document(api)
    assert "$defs" not in json.dumps(document)  # every definition is hoisted into components
    checks = document["paths"]["/v1/checks"]["post"]["responses"]
    assert {"200", "400", "401", "403", "413", "415", "422", "429"} <= set(checks)
    assert checks["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "404" in document["paths"]["/v1/employees/{employee_id}"]["put"]["responses"]
    assert set(document["paths"]["/v1/health"]["get"]["responses"]) == {"200"}
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                for media, entry in answer.get("content", {}).items():
                    if media == "application/problem+json":
                        assert entry["schema"]["$ref"].endswith("/Problem"), f"{method} {path} {status}"


def test_non_json_bodies_are_documented_with_their_media_types(api: KeyedClient) -> None:
    document = _document(api)
    upload = document["paths"]["/v1/connections/{connection_id}/ics"]["post"]["requestBody"]["content"]
    assert upload["text/calendar"]["schema"] == {"type": "string"}
    assert upload["text/calendar"]["example"].startswith("BEGIN:VCALENDAR")
    bookings = document["paths"]["/v1/bookings"]["post"]["requestBody"]["content"]
    assert set(bookings) == {"application/ld+json", "application/json", "message/rfc822"}
    assert bookings["message/rfc822"]["schema"] == {"type": "string", "format": "binary"}
    assert bookings["application/ld+json"]["schema"] == {"$ref": "#/components/schemas/JsonLdDocument"}
    answer_page = document["paths"]["/v1/answers/{token}"]["get"]["responses"]
    assert set(answer_page["410"]["content"]) == {"text/html"}
    assert set(answer_page["503"]["content"]) == {"text/plain"}
    check = document["paths"]["/v1/checks"]["post"]["requestBody"]["content"]["application/json"]
    assert check["example"]["host_country"] == "FR"


def _conforms(document: dict[str, Any], method: str, template: str, r: HTTPResponse) -> Any:
    """The answer's body, after checking its status, media type and shape against the document."""
    answers = document["paths"][template][method.lower()]["responses"]
    documented = answers.get(str(r.status_code))
    assert documented is not None, f"{method} {template}: {r.status_code} is not documented: {r.body!r}"
    content = documented.get("content")
    if not content:
        assert not r.body, f"{method} {template}: {r.status_code} should have no body"
        return None
    # without a Content-Type API Gateway (and chalice local) send application/json
    media = r.headers.get("Content-Type", "application/json").split(";")[0].strip()
    assert media in content, f"{method} {template}: {media} is not documented for {r.status_code}"
    if not is_json(media):
        return r.body.decode()
    body = json.loads(r.body)
    root = {**content[media]["schema"], "components": document["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(body), key=str)
    assert not errors, f"{method} {template} {r.status_code}: " + "; ".join(
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )
    return body


def test_the_routes_answers_match_the_document_exactly(api: KeyedClient) -> None:
    doc = _document(api)
    h = api.http
    assert _conforms(doc, "GET", "/v1/health", api.anonymous.get("/v1/health")) == {"status": "ok"}
    check = {"home_country": "DE", "host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"}
    answer = _conforms(doc, "POST", "/v1/checks", h.post("/v1/checks", headers=JSON, body=json.dumps(check)))
    assert answer["status"] == "certificate_required"
    journey = {
        "home_country": "DE",
        "legs": [
            {"host_country": "FR", "start": "2027-03-01", "end": "2027-03-03"},
            {"host_country": "AT", "start": "2027-03-08", "end": "2027-03-09"},
        ],
    }
    r = h.post("/v1/journeys", headers=JSON, body=json.dumps(journey))
    assert [leg["host_country"] for leg in _conforms(doc, "POST", "/v1/journeys", r)["legs"]] == ["FR", "AT"]

    r = h.put("/v1/employees/emp-1", headers=JSON, body=json.dumps({**ANNA, "email": "anna@example.com"}))
    assert _conforms(doc, "PUT", "/v1/employees/{employee_id}", r)["employee"]["id"] == "emp-1"
    r = h.post(
        "/v1/bookings?employee_id=emp-1",
        headers={"Content-Type": "application/ld+json"},
        body=json.dumps(HOTEL),
    )
    assert _conforms(doc, "POST", "/v1/bookings", r)["segments"][0]["title"]
    trips = _conforms(doc, "GET", "/v1/employees/{employee_id}/trips", h.get("/v1/employees/emp-1/trips"))
    assert [t["trip"]["country"] for t in trips["trips"]] == ["FR"]
    r = h.get("/v1/open-cases?from=2027-01-01&to=2027-12-31")
    assert len(_conforms(doc, "GET", "/v1/open-cases", r)["trips"]) == 1

    certificate = {
        "employee_id": "emp-1",
        "document": "A1",
        "issuing_country": "DE",
        "host_countries": ["FR"],
        "valid_from": "2027-02-01",
        "valid_to": "2027-04-30",
    }
    r = h.put("/v1/certificates/cert-1", headers=JSON, body=json.dumps(certificate))
    assert _conforms(doc, "PUT", "/v1/certificates/{certificate_id}", r)["trips"][0]["status"] == "covered"
    r = h.put("/v1/certificates/cert-2", headers=JSON, body=json.dumps({**certificate, "employee_id": "x"}))
    assert _conforms(doc, "PUT", "/v1/certificates/{certificate_id}", r)["status"] == 404

    r = h.post("/v1/employees/emp-1/connections", headers=JSON, body='{"source": "ics", "account": "upload"}')
    connection = _conforms(doc, "POST", "/v1/employees/{employee_id}/connections", r)["connection"]
    upload = f"/v1/connections/{connection['id']}/ics"
    r = h.post(upload, headers={"Content-Type": "text/calendar"}, body=ICS)
    assert _conforms(doc, "POST", "/v1/connections/{connection_id}/ics", r)["events"] == 1
    r = h.post(upload, headers={"Content-Type": "text/calendar"}, body="not a calendar")
    assert _conforms(doc, "POST", "/v1/connections/{connection_id}/ics", r)["status"] == 400


def test_error_and_webhook_answers_match_the_document(api: KeyedClient) -> None:
    doc = _document(api)
    r = api.anonymous.post("/v1/checks", headers=JSON, body="{}")
    assert _conforms(doc, "POST", "/v1/checks", r)["status"] == 401
    r = api.http.post("/v1/checks", headers=JSON, body='{"home_country": "DE"}')
    assert _conforms(doc, "POST", "/v1/checks", r)["errors"]
    r = api.http.post("/v1/checks", headers={"Content-Type": "text/csv"}, body="a,b")
    assert _conforms(doc, "POST", "/v1/checks", r)["status"] == 415
    r = api.http.get("/v1/open-cases?from=2027-12-31&to=2027-01-01")
    assert _conforms(doc, "GET", "/v1/open-cases", r)["status"] == 422
    r = api.http.post("/v1/bookings?employee_id=nobody", headers=JSON, body=json.dumps(HOTEL))
    assert _conforms(doc, "POST", "/v1/bookings", r)["status"] == 404

    graph = "/v1/webhooks/graph"
    r = api.anonymous.post(f"{graph}?validationToken=abc", headers={"Content-Type": "text/plain"})
    assert _conforms(doc, "POST", graph, r) == "abc"
    unknown = {"value": [{"subscriptionId": "sub-x", "clientState": "s", "changeType": "updated"}]}
    r = api.anonymous.post(graph, headers=JSON, body=json.dumps(unknown))
    assert (r.status_code, _conforms(doc, "POST", graph, r)) == (202, None)
    r = api.anonymous.post(graph, headers=JSON, body="[]")
    assert _conforms(doc, "POST", graph, r)["status"] == 400
    google = {"X-Goog-Channel-Id": "c-1", "X-Goog-Resource-State": "sync"}
    r = api.anonymous.post("/v1/webhooks/google", headers=google)
    assert (r.status_code, _conforms(doc, "POST", "/v1/webhooks/google", r)) == (200, None)
    r = api.anonymous.post("/v1/webhooks/google")
    assert _conforms(doc, "POST", "/v1/webhooks/google", r)["errors"]
    r = api.anonymous.get("/v1/answers/not-a-token")
    assert "not enabled" in _conforms(doc, "GET", "/v1/answers/{token}", r)


def test_a_broken_traveler_link_gets_the_documented_page(
    api: KeyedClient, monkeypatch: pytest.MonkeyPatch, mocked_aws: Settings
) -> None:
    from chalicelib import bootstrap

    monkeypatch.setenv("COVERWATCH_LINK_SECRET", "s3cret")
    bootstrap.default_settings.cache_clear()
    doc = _document(api)
    r = api.anonymous.get("/v1/answers/not-a-token")
    assert "<h1>This link cannot be used</h1>" in _conforms(doc, "GET", "/v1/answers/{token}", r)
    assert r.status_code == 400


def test_the_docs_page_is_readable_and_self_contained(api: KeyedClient) -> None:
    document = _document(api)
    r = api.anonymous.get("/v1/docs")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    page = r.body.decode()
    assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in page
    assert not re.search(r"<script|<link|<iframe|<img|\ssrc=|@import", page, re.IGNORECASE)
    for path, ops in document["paths"].items():
        for op in ops.values():
            assert f"id='op-{op['operationId']}'" in page
            assert f"<code>{path}</code>" in page
            assert op["summary"].replace("'", "&#x27;") in page
    check = page[page.index("id='op-create_check'") :]
    check = check[: check.index("</article>")]
    assert "<code>check</code>" in check  # the scope it needs
    assert "<code>host_country</code>" in check  # a request field
    assert "&quot;home_country&quot;: &quot;DE&quot;" in check  # the example
    assert "Problem</a>" in check  # the error answers


def test_the_page_and_the_document_are_built_once_per_process(api: KeyedClient) -> None:
    from chalicelib.api.openapi import document_json
    from chalicelib.routes import meta

    first = api.anonymous.get("/v1/docs").body
    assert api.anonymous.get("/v1/docs").body == first
    assert document_json.cache_info().currsize == 1
    assert meta._docs_html.cache_info().hits >= 1
