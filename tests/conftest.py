"""Shared fixtures: fake AWS credentials always, in-process moto for store tests, a moto server for e2e."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
TODAY = date(2027, 1, 15)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach AWS: fake credentials, a fixed region, no profile, no inherited endpoint."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "COVERWATCH_OUTBOX", "COVERWATCH_TODAY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    bootstrap.default_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(region="eu-central-1", table_name="coverwatch-test", queue_name="coverwatch-test-scan",
                    sender="coverwatch@example.com", hr_email="hr@example.com",
                    outbox_dir=tmp_path / "outbox", today=TODAY)


@pytest.fixture
def mocked_aws(settings: Settings) -> Iterator[Settings]:
    """In-process moto with the table, queue and sender provisioned."""
    from moto import mock_aws

    from coverwatch.localaws import provision

    with mock_aws():
        provision(settings)
        yield settings


@pytest.fixture
def aws_server(settings: Settings) -> Iterator[Settings]:
    """A real moto server on 127.0.0.1 (free port), reached by boto3 over HTTP, provisioned."""
    from coverwatch.localaws import local_aws, provision

    with local_aws(settings) as served:
        os.environ["AWS_ENDPOINT_URL"] = served.endpoint_url or ""
        provision(served)
        yield replace(served)
