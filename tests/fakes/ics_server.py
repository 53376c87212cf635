"""A local ICS feed server on 127.0.0.1 speaking plain HTTP the way calendar feed hosts do.

It serves one mutable calendar body with a strong ETag (its SHA-256) and a Last-Modified date, answers
conditional GETs with 304, and can be told to answer the next requests with a scripted status (429 with
Retry-After, 500, 404, 410, a redirect, an HTML page) or to hold a response until the test releases it
(for timeouts). Every request is counted and its headers recorded, so a test can prove "one request".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    """One canned answer: status, headers and body, used once for the next request."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class FeedState:
    body: bytes = b""
    last_modified: datetime = field(default_factory=lambda: datetime(2027, 1, 1, tzinfo=UTC))
    content_type: str = "text/calendar; charset=utf-8"
    send_validators: bool = True
    """False imitates a host that ignores conditional requests (no ETag, no Last-Modified, always 200)."""
    path: str = "/feed/ical/private/token-123/tripit.ics"
    script: list[Scripted] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    hold: threading.Event | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


class IcsFeedServer:
    """Start with ``running()``; ``url`` is the feed address, ``state`` is what it serves."""

    def __init__(self) -> None:
        self.state = FeedState()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.base + self.state.path

    @property
    def request_count(self) -> int:
        return len(self.state.requests)

    def publish(self, body: bytes, when: datetime | None = None) -> None:
        """Replace the calendar; Last-Modified moves forward."""
        with self._lock:
            self.state.body = body
            self.state.last_modified = when or self.state.last_modified + timedelta(hours=1)

    def answer_next(self, *answers: Scripted) -> None:
        with self._lock:
            self.state.script.extend(answers)

    @contextmanager
    def running(self) -> Iterator[IcsFeedServer]:
        self._thread.start()
        try:
            yield self
        finally:
            if self.state.hold is not None:
                self.state.hold.set()
            self._server.shutdown()
            self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                state = server.state
                with server._lock:
                    state.requests.append({k.lower(): v for k, v in self.headers.items()})
                    state.paths.append(self.path)
                    scripted = state.script.pop(0) if state.script else None
                if state.hold is not None:
                    state.hold.wait(timeout=10)
                if scripted is not None:
                    self._send(scripted.status, scripted.headers, scripted.body)
                    return
                if self.path != state.path:
                    self._send(404, {"Content-Type": "text/plain"}, b"no such feed")
                    return
                validators = {}
                if state.send_validators:
                    validators = {
                        "ETag": state.etag,
                        "Last-Modified": format_datetime(state.last_modified, usegmt=True),
                    }
                    if self._not_modified(state):
                        self._send(304, validators, b"")
                        return
                self._send(200, {"Content-Type": state.content_type, **validators}, state.body)

            def _not_modified(self, state: FeedState) -> bool:
                if_none_match = self.headers.get("If-None-Match")
                if if_none_match is not None:
                    return state.etag in [tag.strip() for tag in if_none_match.split(",")]
                since = self.headers.get("If-Modified-Since")
                return since == format_datetime(state.last_modified, usegmt=True)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304 and body:
                    self.wfile.write(body)

        return Handler
