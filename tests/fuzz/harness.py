"""The real app on a loopback port, backed by in-process moto, for schemathesis to fuzz.

Why a real HTTP server and not chalice's test client: schemathesis talks HTTP, and going through
chalice's local gateway exercises what API Gateway would: routing, content types, headers. The store,
queue and mail are in-process moto, so nothing leaves the machine; Graph and Google are not configured
(no secrets, no push-channel managers), and ``loopback_only`` refuses any other connection outright.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import socket
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalice.local import ChaliceRequestHandler

from chalicelib import bootstrap
from chalicelib.api.keys import new_key
from chalicelib.api.records import Scope

TODAY = "2027-01-15"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "fuzz",
    "AWS_SECRET_ACCESS_KEY": "fuzz",
    "AWS_SESSION_TOKEN": "fuzz",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "COVERWATCH_TODAY": TODAY,
    "COVERWATCH_LINK_SECRET": "fuzz-link-secret",
}
"""Everything else COVERWATCH_* / AWS_* is removed for the run: no Graph or Google secrets (so no
provider is ever called), no chat webhook, no outbox folder, no endpoint but in-process moto."""

EMPLOYEE = {
    "name": "Fuzz Traveler",
    "home_country": "DE",
    "nationalities": ["DE"],
    "residence_country": "DE",
}
CONNECTION_ID = "ics-0123456789abcdef0123"
"""The example ``connection_id`` of the OpenAPI document, so generated uploads can reach a real one."""


class RequestLog(logging.Handler):
    """Counts the guard's one log line per request: operation and status."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.seen: Counter[tuple[str, int]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        operation = str(record.__dict__.get("operation"))
        status = int(record.__dict__.get("status", 0))
        self.seen[(operation, status)] += 1  # emit runs under the handler's own lock

    @property
    def total(self) -> int:
        return sum(self.seen.values())


@dataclass(frozen=True)
class Target:
    base_url: str
    key: str
    requests: RequestLog
    refused: list[str]
    """Hosts something tried to reach beyond loopback (refused); must stay empty."""

    @property
    def schema_url(self) -> str:
        return f"{self.base_url}/v1/openapi.json"


@contextmanager
def fuzz_target() -> Iterator[Target]:
    """Serve the app on 127.0.0.1 (free port) with an admin key and a little data; yield where."""
    from moto import mock_aws

    import app as app_module
    from coverwatch.localaws import provision

    with _environment(ENVIRONMENT), loopback_only() as refused, _app_intake(app_module), mock_aws():
        _reset(app_module)
        settings = bootstrap.default_settings()
        provision(settings)
        plaintext, record = new_key("fuzz admin", frozenset({Scope.ADMIN}), rate_per_minute=100_000)
        bootstrap.repository(settings).put_api_key(record)
        requests = RequestLog()
        api_log = logging.getLogger("coverwatch.api")
        previous = api_log.level, api_log.propagate
        api_log.setLevel(logging.INFO)
        api_log.propagate = False  # counted here, not printed once per request
        try:
            with _served(app_module.app) as base_url:
                _seed(base_url, plaintext)
                api_log.addHandler(requests)
                try:
                    yield Target(base_url, plaintext, requests, refused)
                finally:
                    api_log.removeHandler(requests)
        finally:
            api_log.setLevel(previous[0])
            api_log.propagate = previous[1]
            _reset(app_module)


@contextmanager
def _app_intake(app_module: Any) -> Iterator[None]:
    """Wire bookings and uploads to the app's hand-offs, as app.py does at import.

    Route tests configure these modules with their own recorders (and reset them to None), so the
    wiring app.py did may be gone by the time this runs in the same pytest process.
    """
    from chalicelib.routes import bookings, calendar_upload

    before = bookings._deps, calendar_upload._deps
    bookings.configure(bookings.BookingsDeps(on_bookings=app_module._on_bookings))
    calendar_upload.configure(calendar_upload.UploadDeps(on_upload=app_module._on_upload))
    try:
        yield
    finally:
        bookings.configure(before[0])
        calendar_upload.configure(before[1])


def _reset(app_module: Any) -> None:
    """Forget clients and settings cached per process, so nothing outlives this run's moto."""
    from chalicelib.routes import google_webhook, graph_webhook

    bootstrap.default_settings.cache_clear()
    bootstrap.queue_url.cache_clear()
    bootstrap.sources.cache_clear()
    app_module._repo.cache_clear()
    app_module.guard.forget()
    graph_webhook.configure(None)
    google_webhook.configure(None)


@contextmanager
def _served(app_obj: Any) -> Iterator[str]:
    from chalice.config import Config
    from chalice.local import create_local_server

    original_class = app_obj.__class__
    config = Config.create(chalice_stage="dev", app_name="coverwatch", lambda_timeout=60)
    server = create_local_server(app_obj, config, "127.0.0.1", 0)
    server.server.RequestHandlerClass = functools.partial(_QuietHandler, app_object=app_obj, config=config)
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host, port = server.server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)
        app_obj.__class__ = original_class  # create_local_server swaps it for thread-local requests


class _QuietHandler(ChaliceRequestHandler):
    """Chalice's request handler without http.server's access log line per request, and without
    Nagle's delay (headers and body go out as separate writes: ~40 ms per keep-alive request)."""

    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return


def _seed(base_url: str, key: str) -> None:
    """An employee with a booked trip and an upload connection, so reads and uploads find data."""
    from chalicelib.models import Connection, SourceKind

    _call(base_url, key, "PUT", "/v1/employees/emp-1", EMPLOYEE)
    booking = {
        "@context": "https://schema.org",
        "@type": "LodgingReservation",
        "reservationNumber": "FUZZ-1",
        "reservationFor": {
            "@type": "LodgingBusiness",
            "name": "Hotel du Louvre",
            "address": {"@type": "PostalAddress", "addressLocality": "Paris", "addressCountry": "FR"},
        },
        "checkinTime": "2027-03-01T15:00:00+01:00",
        "checkoutTime": "2027-03-05T11:00:00+01:00",
    }
    _call(base_url, key, "POST", "/v1/bookings?employee_id=emp-1", booking)
    bootstrap.repository(bootstrap.default_settings()).put_connection(
        Connection(id=CONNECTION_ID, employee_id="emp-1", source=SourceKind.ICS, account="upload")
    )


def _call(base_url: str, key: str, method: str, path: str, body: object) -> None:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # loopback only
        if answer.status >= 300:
            raise RuntimeError(f"seeding {method} {path} answered {answer.status}")


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("COVERWATCH_", "AWS_")):
            del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # a Unix socket path or similar: not the network
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse (and record) every connection or name lookup beyond 127.0.0.1 / ::1 during the block."""
    refused: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            refused.append(str(host))
            raise ConnectionRefusedError(f"the fuzz run stays on loopback; refused {host}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check((host.decode() if isinstance(host, bytes) else host, 0))
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    try:
        yield refused
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
