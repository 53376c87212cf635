"""The layout's promises: pure parts stay pure, and infra is generated from the one table definition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.store.schema import table_definition
from infra.build import TEMPLATE_PATH, build_template, render

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_WORLD = ("boto3", "botocore", "chalice", "moto", "urllib.request", "http.client", "requests")


@pytest.mark.parametrize(
    "module", ["chalicelib.rules", "chalicelib.detection.trips", "chalicelib.connectors.ics"]
)
def test_pure_modules_load_nothing_that_talks_to_the_outside(module: str) -> None:
    code = f"import sys, {module}; print([m for m in {OUTSIDE_WORLD!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_committed_template_is_what_the_table_definition_generates() -> None:
    assert TEMPLATE_PATH.read_text(encoding="utf-8") == render(), "run `make infra` and commit the result"


def test_infra_table_has_the_same_keys_and_index_as_the_code() -> None:
    table = build_template()["Resources"]["Table"]["Properties"]
    code = table_definition("x")
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[key] == code[key]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert json.loads(render())["Resources"]["ScanQueue"]["Properties"]["RedrivePolicy"]
