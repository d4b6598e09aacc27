"""The HTTP side: one thread per connection, HTTP/1.1 keep-alive, Marketo's envelope and errors.

Request order: size limits (414/413), control and identity calls (never counted), then a number
for every API request, scripted faults, the access token (601/602), the route (610/605), the
limits (615/606/607), and the handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sync.sandbox import control, routes
from sync.sandbox.call import App, Call, Envelope, FileBody, Reply, Text
from sync.sandbox.config import MESSAGES, Fault
from sync.sandbox.errors import ApiError, HttpError

log = logging.getLogger(__name__)
MAX_URI = 8 * 1024
MAX_BODY = 1024 * 1024
TIMEOUT_FAULT_SECONDS = 5.0
_RANGE = re.compile(r"bytes[= ](\d*)-(\d*)")
REASONS = {
    400: "Bad Request",
    404: "Not Found",
    413: "Payload Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App, stopping: threading.Event) -> None:
        self.app, self.stopping = app, stopping
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer
    timeout = 600
    disable_nagle_algorithm = True
    in_flight = False  # whether this request still counts as in flight

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # Plumbing

    def handle_request(self) -> None:
        app = self.server.app
        url = urlsplit(self.path)
        if len(self.path) > MAX_URI:
            app.gate.error("HTTP 414")
            self.send_text(414, "URI Too Long")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            app.gate.error("HTTP 413")
            self.close_connection = True
            self.send_text(413, "Request Entity Too Large")
            return
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/_sandbox/"):
            status, payload = control.handle(app, self.command, url.path, body)
            self.send_json(payload, status)
        elif url.path == "/identity/oauth/token":
            self.identity(url.query, body)
        else:
            number = app.gate.begin()
            self.in_flight = True
            try:
                self.api(number, url.path, url.query, body)
            finally:
                self.leave()

    def leave(self) -> None:
        """The request stops counting as in flight (just before its last bytes are sent, so a
        client that waits for one answer before its next call is never seen overlapping)."""
        if self.in_flight:
            self.in_flight = False
            self.server.app.gate.end()

    def identity(self, query: str, body: bytes) -> None:
        params = parse_qs(query)
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(parse_qs(body.decode("utf-8", "replace")))
        grant = (params.get("grant_type") or [""])[0]
        if grant != "client_credentials":
            self.server.app.gate.error("HTTP 400")
            self.send_json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {grant}",
                },
                400,
            )
            return
        issued = self.server.app.gate.issue_token(
            (params.get("client_id") or [""])[0], (params.get("client_secret") or [""])[0]
        )
        if issued is None:
            self.send_json(
                {"error": "invalid_client", "error_description": "Bad client credentials"}, 401
            )
        else:
            self.send_json(issued)

    def api(self, number: int, path: str, query: str, body: bytes) -> None:
        app = self.server.app
        params = parse_qs(query, keep_blank_values=True)
        method = self.command
        content_type = (self.headers.get("Content-Type") or "").lower()
        if method == "POST" and params.get("_method") == ["GET"]:
            if "x-www-form-urlencoded" in content_type:
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
            method, body = "GET", b""
        fault = app.gate.take_fault("request", number, path)
        if fault is not None:
            self.answer_fault(fault, path)
            return
        try:
            client_id = app.gate.client_for(self.access_token(params))
            route, groups = routes.resolve(method, path)
        except ApiError as error:
            if error.code == "610":
                app.gate.admit(path)
            self.send_error_envelope(error)
            return
        refusal = app.gate.admit(route.name)
        if refusal is not None:
            self.send_error_envelope(refusal)
            return
        call = Call(
            app,
            method,
            path,
            params,
            body,
            content_type,
            client_id,
            groups,
            number,
            dict(self.headers.items()),
        )
        try:
            reply = route.handler(call)
        except ApiError as error:
            self.send_error_envelope(error)
            return
        except HttpError as error:
            app.gate.error(f"HTTP {error.status}")
            self.send_text(error.status, error.text)
            return
        except Exception:
            log.exception("sandbox handler for %s failed", path)
            self.send_error_envelope(ApiError("611"))
            return
        self.send_reply(reply, number, path)

    def access_token(self, params: dict[str, list[str]]) -> str | None:
        header = self.headers.get("Authorization") or ""
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        tokens = params.get("access_token")
        return tokens[0] if tokens else None

    def answer_fault(self, fault: Fault, path: str) -> None:
        app = self.server.app
        code = fault.code
        if isinstance(code, int):
            app.gate.admit(routes.pattern_of(path), fault_code=str(code))
            app.gate.error(f"HTTP {code}")
            self.send_text(code, fault.message or f"{code} {REASONS.get(code, 'Error')}")
        elif code == "timeout":
            app.gate.admit(routes.pattern_of(path), fault_code="timeout")
            app.gate.error("timeout")
            self.server.stopping.wait(TIMEOUT_FAULT_SECONDS)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            app.gate.admit(routes.pattern_of(path), fault_code=code)
            message = fault.message
            if message is None and code == "606":
                limits = app.gate.limits
                message = MESSAGES["606"].format(
                    limit=limits.calls_per_window or 100, window=f"{limits.window_seconds:g}"
                )
            self.send_error_envelope(ApiError(code, message))

    # Answers

    def send_reply(self, reply: Reply, number: int, path: str) -> None:
        if isinstance(reply, Envelope):
            payload: dict[str, Any] = {"requestId": request_id(), "success": True}
            if reply.result is not None:
                payload["result"] = reply.result
            if reply.warnings is not None:
                payload["warnings"] = reply.warnings
            if reply.more_result is not None:
                payload["moreResult"] = reply.more_result
            if reply.next_page_token is not None:
                payload["nextPageToken"] = reply.next_page_token
            self.send_json(payload)
        elif isinstance(reply, Text):
            self.send_text(reply.status, reply.text)
        else:
            self.send_file(reply, number, path)

    def send_error_envelope(self, error: ApiError) -> None:
        self.server.app.gate.error(error.code)
        self.send_json(
            {
                "requestId": request_id(),
                "success": False,
                "errors": [{"code": error.code, "message": error.message}],
            }
        )

    def send_json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_bytes(status, data, "application/json;charset=UTF-8")

    def send_text(self, status: int, text: str) -> None:
        self.send_bytes(status, text.encode(), "text/plain;charset=UTF-8")

    def send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.leave()
        self.end_headers()
        self.wfile.write(data)

    def send_file(self, body: FileBody, number: int, path: str) -> None:
        app = self.server.app
        start, end, status = 0, body.size - 1, 200
        requested = self.headers.get("Range")
        if requested:
            match = _RANGE.fullmatch(requested.strip())
            first, last = (match.group(1), match.group(2)) if match else ("", "")
            if first:
                start, end = int(first), min(int(last), body.size - 1) if last else body.size - 1
            elif last:
                start = max(0, body.size - int(last))
            if not match or start > end or start >= body.size:
                app.gate.error("HTTP 416")
                self.send_response(416, REASONS[416])
                self.send_header("Content-Range", f"bytes */{body.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        fault = app.gate.take_fault("download", number, path)
        length = end - start + 1
        self.send_response(status, "Partial Content" if status == 206 else None)
        self.send_header("Content-Type", "text/csv;charset=UTF-8")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{body.size}")
        self.end_headers()
        corrupt = fault is not None and fault.message == "corrupt"
        limit = length if fault is None or corrupt else length // 2
        sent = 0
        app.gate.note("downloads")
        with body.path.open("rb") as file:
            file.seek(start)
            while sent < limit:
                chunk = file.read(min(1 << 20, limit - sent))
                if not chunk:
                    break
                if corrupt and sent <= length // 2 < sent + len(chunk):
                    middle = length // 2 - sent
                    chunk = chunk[:middle] + bytes([chunk[middle] ^ 0x20]) + chunk[middle + 1 :]
                app.gate.note("bytes_downloaded", len(chunk))
                if sent + len(chunk) >= limit:
                    self.leave()
                self.wfile.write(chunk)
                sent += len(chunk)
        if sent < length:
            app.gate.error("truncated-download")
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif corrupt:
            app.gate.error("truncated-download")


def request_id() -> str:
    return f"{secrets.randbelow(0xFFFFF):x}#{secrets.randbelow(1 << 44):x}"
