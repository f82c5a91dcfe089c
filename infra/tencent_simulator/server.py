"""The Tencent simulator's HTTP side: the server, the control endpoints under ``/_simulator/`` and
the faults it injects, the same as the Alibaba simulator's (``infra.carrier_simulator.server``),
whose fault settings, undelivered numbers and life cycle it shares.

A ``POST /`` is an API call, answered by ``contract.TencentCarrier``, unless a fault drawn for
it says otherwise: HTTP 500 (``InternalError``), throttling (``RequestLimitExceeded``), a hang
after the send is recorded (the caller times out although the message went out) or a dropped
connection after recording. API errors are answered as Tencent does, HTTP 200 with
``Response.Error``, and every answer is ``Content-Type: application/json``, which the official
SDK needs to read an error.
"""

from __future__ import annotations

import functools
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sms_platform.foundation.observability import redact

from infra.carrier_simulator.server import CarrierSimulator, Faults, _Handler, _Reply
from infra.tencent_simulator.contract import Request, SentMessage, TencentCarrier, TencentError, mask
from infra.tencent_simulator.receipts import TencentPushes

_DRAWN_ERRORS = {
    "fail": ("InternalError", "An internal error occurred.", 500),
    "throttle": ("RequestLimitExceeded", "The number of requests exceeds the frequency limit.", 200),
}


class TencentSimulator(TencentPushes, TencentCarrier):
    """Tencent Cloud SMS on ``host``:``port`` (0: a free one), knowing ``secret_keys`` (SecretId
    to SecretKey) and the application ``sdk_app_id``, pushing receipts to ``receipt_url`` and
    replies to ``inbound_url``; see ``contract.TencentCarrier`` for what shapes its answers."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_keys: dict[str, str] | None = None,
        sdk_app_id: str = "1400000001",
        receipt_url: str | None = None,
        inbound_url: str | None = None,
        receipt_delay: float = 0.5,
        clock: Any = None,
        *,
        seed: int = 0,
        review_delay: float = 2.0,
        reject_words: tuple[str, ...] = ("违规", "赌博"),
        per_minute_limit: int = 5,
        per_day_limit: int = 40,
        param_max_length: int = 35,
        strict_templates: bool = False,
        verbose: bool = False,
    ) -> None:
        TencentCarrier.__init__(
            self, secret_keys, sdk_app_id, clock, seed=seed, review_delay=review_delay, reject_words=reject_words,
            per_minute_limit=per_minute_limit, per_day_limit=per_day_limit, param_max_length=param_max_length,
            strict_templates=strict_templates,
        )  # fmt: skip
        TencentPushes.__init__(self, receipt_url, inbound_url, receipt_delay)
        self.host, self.port = host, port
        self.verbose = verbose
        self._faults = Faults()
        self._undelivered: dict[str, str] = {}
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._http: Any = None

    # -- life cycle, faults and undelivered numbers: as the Alibaba simulator's ---------------

    url = CarrierSimulator.url
    stop = CarrierSimulator.stop
    set_faults = CarrierSimulator.set_faults
    faults = CarrierSimulator.faults
    _draw_fault = CarrierSimulator._draw_fault
    set_undelivered = CarrierSimulator.set_undelivered
    _accepted = CarrierSimulator._accepted
    _track = CarrierSimulator._track
    _control_health = CarrierSimulator._control_health
    _control_sent = CarrierSimulator._control_sent
    _control_faults = CarrierSimulator._control_faults
    _control_undelivered = CarrierSimulator._control_undelivered

    def start(self) -> TencentSimulator:
        import requests

        self._http = requests.Session()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # a quick stop
        for target, name in ((serve, "tencent-http"), (self._deliver_loop, "tencent-receipts")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __enter__(self) -> TencentSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """The endpoint the official SDK takes (``HttpProfile.endpoint``: host and port, no scheme)."""
        return f"{self.host}:{self.port}"

    # -- requests --------------------------------------------------------------------------

    def handle_api(self, headers: dict[str, str], body: bytes) -> _Reply:
        """An API call's answer, after its fault (drawn once it is authenticated)."""
        request_id = self.request_id()
        fault = None
        try:
            action, params = self.authenticate(Request(headers, body))
            fault = self._draw_fault()
            if fault in _DRAWN_ERRORS:
                raise TencentError(*_DRAWN_ERRORS[fault])
            answer = {"Response": {**self.act(action, params), "RequestId": request_id}}
        except TencentError as error:
            return _Reply(error.status, _error(error, request_id))
        if fault == "hang":
            return _Reply(200, answer, hang=self._faults.hang_seconds)
        return _Reply(200, answer, drop=fault == "drop")

    def handle_control(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        route = _CONTROL_ROUTES.get((method, path.rstrip("/")))
        if route is None:
            return 404, {"error": {"code": "not_found", "message": "no such simulator endpoint"}}
        try:
            return 200, route(self, query, body)
        except (ValueError, TypeError) as error:
            return 400, {"error": {"code": "bad_request", "message": str(error)}}
        except RuntimeError as error:
            return 409, {"error": {"code": "conflict", "message": str(error)}}

    def _control_replies(self, query: str, body: bytes) -> Any:
        wanted = json.loads(body or b"{}")
        if not isinstance(wanted, dict) or not {"phone", "content", "sign_name"} <= set(wanted):
            raise ValueError("a reply is a JSON object with phone, content and sign_name")
        pushed = self.push_reply(str(wanted["phone"]), str(wanted["content"]), str(wanted["sign_name"]))
        pushed["item"]["mobile"] = mask(pushed["item"]["mobile"])
        return pushed

    def log(self, message: str) -> None:
        if self.verbose:
            line = {"level": "INFO", "service": "tencent-simulator", "message": redact(message)}
            sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")

    def sent_with(self, session_context: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.session_context == session_context]


def _error(error: TencentError, request_id: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": error.code, "Message": error.message}, "RequestId": request_id}}


_CONTROL_ROUTES = {
    ("GET", "/_simulator/health"): TencentSimulator._control_health,
    ("GET", "/_simulator/sent"): TencentSimulator._control_sent,
    ("POST", "/_simulator/faults"): TencentSimulator._control_faults,
    ("POST", "/_simulator/undelivered"): TencentSimulator._control_undelivered,
    ("POST", "/_simulator/replies"): TencentSimulator._control_replies,
}


class _TencentHandler(_Handler):
    """One connection to the Tencent simulator: the API is ``POST /`` with its headers."""

    simulator: TencentSimulator  # type: ignore[assignment]
    server_version = "TencentSimulator/1.0"

    def _handle(self, method: str) -> None:
        simulator = self.simulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path.startswith("/_simulator/"):
            self._send(*simulator.handle_control(method, parts.path, parts.query, body))
            return
        if method != "POST" or parts.path not in ("", "/"):
            refusal = TencentError("UnsupportedProtocol", "Only POST / with a JSON body is served.")
            self._send(200, _error(refusal, simulator.request_id()))
            return
        reply = simulator.handle_api({k.lower(): v for k, v in self.headers.items()}, body)
        if reply.drop:  # the send is recorded but the caller never hears back
            self.close_connection = True
            return
        if reply.hang and simulator._stopping.wait(reply.hang):
            self.close_connection = True
            return
        self._send(reply.status, reply.body)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the caller gave up (a hang longer than its timeout)
            self.close_connection = True


def _handler_for(simulator: TencentSimulator) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_TencentHandler,), {"simulator": simulator})
