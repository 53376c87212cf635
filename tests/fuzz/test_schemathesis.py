"""A bounded schemathesis run inside `make test`: no 5xx, every answer as the OpenAPI document says.

`make fuzz` runs the thorough version (200 examples per operation and the boundary-value phase).
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from chalicelib.api import openapi
from tests.fuzz.harness import Target, fuzz_target, loopback_only
from tests.fuzz.runner import run

EXAMPLES = 20
SEED = 2027


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with fuzz_target() as served:
        yield served


def test_every_operation_answers_as_documented(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    report = run(target, max_examples=EXAMPLES, seed=SEED)
    with capsys.disabled():
        print(f"\n{report.describe().splitlines()[0]}")
    assert report.clean, report.describe()
    assert not target.refused, f"something tried to leave the machine: {target.refused}"
    with urllib.request.urlopen(target.schema_url, timeout=30) as answer:
        operations = {op["operationId"] for ops in json.load(answer)["paths"].values() for op in ops.values()}
    answered = {operation for operation, _ in target.requests.seen}
    assert operations <= answered, f"never called: {sorted(operations - answered)}"


def test_a_run_catches_an_answer_the_document_does_not_describe(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.loads(openapi.document_json())
    document["components"]["schemas"]["Health"]["properties"]["status"] = {"type": "integer"}
    del document["paths"]["/v1/openapi.json"]["get"]["responses"]["200"]
    monkeypatch.setattr(openapi, "document_json", lambda: json.dumps(document))
    report = run(
        target, max_examples=2, seed=SEED, coverage=False, operation_ids=["health", "openapi_document"]
    )
    assert {(operation, check) for operation, check, _ in report.failures} == {
        ("GET /v1/health", "response_schema_conformance"),
        ("GET /v1/openapi.json", "status_code_conformance"),
    }


def test_nothing_but_loopback_is_reachable_during_a_run() -> None:
    with loopback_only() as refused, pytest.raises(ConnectionRefusedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed
    assert refused == ["192.0.2.1"]
