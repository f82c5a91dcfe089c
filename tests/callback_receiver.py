"""A small HTTP receiver of the platform's status callbacks (CONTRACTS §7), for tests: it keeps
each POST (headers and raw body), answers with the status it is told to, and checks signatures
the way a business system would."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)

    def signed_with(self, secret: str) -> bool:
        timestamp = self.headers.get("X-Platform-Timestamp", "")
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + self.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Platform-Signature", ""))


@dataclass
class CallbackReceiver:
    status: int = 200
    delay: float = 0.0  # seconds before answering (a receiver too slow to count as answering)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), raw))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/sms/status?token=receiver-token"

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
