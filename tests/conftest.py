"""Shared fixtures: fake AWS credentials always, in-process moto for store tests, a moto server for e2e."""

from __future__ import annotations

import os
import urllib.request
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
def _route_wiring_restored(_no_real_aws: None) -> Iterator[None]:
    """Route modules keep their hand-offs per process; a test that rewires one must not leave the real
    app unwired for the tests after it."""
    import app  # noqa: F401 - the real app wires its routes on import; that wiring is what we keep
    from chalicelib.routes import bookings, calendar_upload, google_webhook, graph_webhook

    modules = (bookings, calendar_upload, google_webhook, graph_webhook)
    saved = [m._deps for m in modules]
    yield
    for module, deps in zip(modules, saved, strict=True):
        module._deps = deps  # type: ignore[attr-defined]


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
    # Table and queue keep their default names: chalice's test client applies .chalice/config.json.
    return Settings(region="eu-central-1", outbox_dir=tmp_path / "outbox", today=TODAY)


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
        # moto keeps its state in process-wide backends: start every test from an empty AWS
        reset = urllib.request.Request(f"{served.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        os.environ["AWS_ENDPOINT_URL"] = served.endpoint_url or ""
        provision(served)
        yield replace(served)
