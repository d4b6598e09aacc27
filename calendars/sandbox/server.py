"""The HTTP side: a threaded listener (plain or TLS), HTTP/1.1 keep-alive, always an answer."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.routes import dispatch

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # Booking asks every candidate's calendar at once; the default backlog of 5 resets the rest.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], app: App, tls: ssl.SSLContext | None = None
    ) -> None:
        self.app, self.tls = app, tls
        self.connections: set[socket.socket] = set()
        super().__init__(address, Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake in the connection's own thread, so a slow client never blocks accept()."""
        if self.tls is None:
            self._serve(request, client_address)
            return
        request.settimeout(10)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self._serve(connection, client_address)
        finally:
            with contextlib.suppress(OSError):
                connection.close()

    def _serve(self, connection: socket.socket, client_address: Any) -> None:
        self.connections.add(connection)
        try:
            Handler(connection, client_address, self)
        finally:
            self.connections.discard(connection)

    def close_connections(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Listener
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self.answer()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self.send(json_response({"error": "request too large"}, 413))
            return
        body = self.rfile.read(length) if length else b""
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = Request(
            self.command,
            url.path,
            query,
            {name.lower(): value for name, value in self.headers.items()},
            body,
        )
        try:
            response = dispatch(self.server.app, request)
        except Exception:  # never leave a client waiting for an answer
            log.exception("calendar sandbox: %s %s failed", self.command, url.path)
            response = json_response({"error": "internal", "message": "sandbox failure"}, 500)
        if response.hold:
            self.server.app.stopping.wait(self.server.app.config.timeout_hold_seconds)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send(response)

    def send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
