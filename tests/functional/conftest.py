"""The app under test through Chalice's test client, with a fixed decision date and an admin API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client, HTTPResponse

from chalicelib import bootstrap
from chalicelib.api.keys import new_key
from chalicelib.api.records import Scope
from chalicelib.bootstrap import Settings


class KeyedHTTP:
    """Chalice's test HTTP client that sends ``key`` unless the test passes its own credentials."""

    def __init__(self, http: Any, key: str) -> None:
        self._http, self.key = http, key

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> HTTPResponse:
        given = {k.lower() for k in (headers or {})}
        sent = dict(headers or {})
        if "authorization" not in given and "x-api-key" not in given:
            sent["Authorization"] = f"Bearer {self.key}"
        response: HTTPResponse = self._http.request(method, path, headers=sent, **kw)
        return response

    def get(self, path: str, **kw: Any) -> HTTPResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> HTTPResponse:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> HTTPResponse:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> HTTPResponse:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> HTTPResponse:
        return self.request("DELETE", path, **kw)


class KeyedClient:
    """What route tests use: ``.http`` carries an admin key; ``.anonymous`` sends no credentials."""

    def __init__(self, client: Client, key: str) -> None:
        self.raw = client
        self.http = KeyedHTTP(client.http, key)
        self.anonymous = client.http

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def issue_key(settings: Settings, *scopes: Scope, name: str = "test") -> str:
    plaintext, record = new_key(name, frozenset(scopes))
    bootstrap.repository(settings).put_api_key(record)
    return plaintext


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, mocked_aws: Settings) -> Iterator[KeyedClient]:
    """The real app (decisions as of 2027-01-15) on in-process moto, called with an admin key."""
    import app as app_module

    monkeypatch.setenv("COVERWATCH_TODAY", "2027-01-15")
    bootstrap.default_settings.cache_clear()
    app_module._repo.cache_clear()
    app_module.guard.forget()
    key = issue_key(mocked_aws, Scope.ADMIN, name="test admin")
    with Client(app_module.app, stage_name="dev") as c:
        yield KeyedClient(c, key)
    app_module._repo.cache_clear()
    app_module.guard.forget()
