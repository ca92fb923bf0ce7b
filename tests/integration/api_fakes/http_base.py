"""A JSON HTTP server on 127.0.0.1 in a thread of the test process, with planned faults.

Real HTTP (the reader's own client connects to it); each fake service routes requests to a
store it owns. Faults are planned by request number: the Nth request from now answers a given
status, headers and body instead (a 429 with Retry-After, a 500 mid-paging, a malformed page).
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Answer = tuple[int, dict[str, str], Any]  # status, headers, JSON body (a str body is sent as it is)
Route = Callable[[str, str, list[tuple[str, str]], dict[str, str], Any], Answer]


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class FakeApi:
    route: Route
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query) as received
    faults: dict[int, Fault] = field(default_factory=dict)  # request number -> fault
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, status: int, *, after: int = 0, headers: dict[str, str] | None = None, body: Any = None) -> None:
        """The request `after` requests from now (0: the next one) answers `status` instead."""
        with self.lock:
            self.faults[len(self.requests) + after] = Fault(status, headers or {}, body)

    def answer(self, method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        with self.lock:
            number = len(self.requests)
            self.requests.append((method, target))
            fault = self.faults.pop(number, None)
        if fault is not None:
            default = {"error": {"type": "api_error", "message": f"planned fault {fault.status}"}}
            return fault.status, fault.headers, default if fault.body is None else fault.body
        parts = urlsplit(target)
        return self.route(method, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers, body)

    def start(self, port: int = 0) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm holds the
                # body until the client's delayed ACK (~40 ms a request on keep-alive connections).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                self._serve(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    self._serve(json.loads(raw) if raw else None)
                except ValueError:
                    self._send(400, {}, {"message": "body is not JSON"})

            def _serve(self, body: Any) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._send(*api.answer(self.command, self.path, headers, body))

            def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
