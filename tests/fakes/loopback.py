"""A threaded HTTP server on 127.0.0.1 (free port) that hands every request to a fake's ``handle``.

The fakes (Graph, Google) only decide answers; this module does the HTTP plumbing once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

Reply = tuple[int, dict[str, str], bytes]


class Handles(Protocol):
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply: ...


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, out = self.server.fake.handle(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        return


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: Handles) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@contextmanager
def serving(fake: Handles) -> Iterator[LoopbackServer]:
    """Serve ``fake`` on a free 127.0.0.1 port for the duration of the block."""
    server = LoopbackServer(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
