"""The app under test through Chalice's test client, with a fixed decision date."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib import bootstrap


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The real app (decisions as of 2027-01-15); AWS is whatever the test set up (mocked_aws or none)."""
    import app as app_module

    monkeypatch.setenv("COVERWATCH_TODAY", "2027-01-15")
    bootstrap.default_settings.cache_clear()
    app_module._repo.cache_clear()
    with Client(app_module.app, stage_name="dev") as c:
        yield c
    app_module._repo.cache_clear()
