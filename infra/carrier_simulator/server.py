"""The simulator's HTTP side: the server and its keep-alive connections, the control endpoints
under ``/_simulator/``, and the faults it injects into the API's answers.

A request to ``/`` is an API call, answered by ``contract.Carrier``, unless a fault drawn for it
says otherwise: HTTP 500, throttling (``Throttling.User``), a hang after the send is recorded
(the caller times out although the message went out) or a dropped connection after recording.
A share of accepted messages can be reported undelivered, and so can every message to the
numbers set undelivered (``POST /_simulator/undelivered {"numbers": {phone: status}}``, with
the receipt status each one reports, such as ``DB:0101`` for an empty number). The faults are drawn from the
carrier's seeded generator, so a fault test sees the same sequence every run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import sys
import threading
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sms_platform.foundation.observability import redact

from infra.carrier_simulator.contract import Carrier, CarrierError, SentMessage, mask, parse_params
from infra.carrier_simulator.receipts import Pushes


@dataclass
class Faults:
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 15.0
    drop_rate: float = 0.0
    undelivered_rate: float = 0.0


@dataclass
class _Reply:
    status: int
    body: Any
    hang: float = 0.0
    drop: bool = False


_DRAWN_ERRORS = {
    "fail": ("InternalError", "The request processing has failed due to some unknown error.", 500),
    "throttle": ("Throttling.User", "Request was denied due to user flow control.", 400),
}


class CarrierSimulator(Pushes, Carrier):
    """The carrier on ``host``:``port`` (0: a free one), knowing ``access_keys`` (key id to
    secret), pushing receipts to ``receipt_url`` and replies to ``inbound_url``; see
    ``contract.Carrier`` for the keyword arguments that shape its answers."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        access_keys: dict[str, str] | None = None,
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
        Carrier.__init__(
            self,
            access_keys,
            clock,
            seed=seed,
            review_delay=review_delay,
            reject_words=reject_words,
            per_minute_limit=per_minute_limit,
            per_day_limit=per_day_limit,
            param_max_length=param_max_length,
            strict_templates=strict_templates,
        )
        Pushes.__init__(self, receipt_url, inbound_url, receipt_delay)
        self.host, self.port = host, port
        self.verbose = verbose
        self._faults = Faults()
        self._undelivered: dict[str, str] = {}
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._http: Any = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> CarrierSimulator:
        import requests

        self._http = requests.Session()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # a quick stop
        for target, name in ((serve, "carrier-http"), (self._deliver_loop, "carrier-receipts")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._wake.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> CarrierSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------

    def set_faults(
        self,
        fail_rate: float = 0.0,
        throttle_rate: float = 0.0,
        hang_rate: float = 0.0,
        hang_seconds: float = 15.0,
        undelivered_rate: float = 0.0,
        drop_rate: float = 0.0,
    ) -> Faults:
        faults = Faults(fail_rate, throttle_rate, hang_rate, hang_seconds, drop_rate, undelivered_rate)
        rates = [faults.fail_rate, faults.throttle_rate, faults.hang_rate, faults.drop_rate]
        if any(not 0 <= r <= 1 for r in [*rates, faults.undelivered_rate]) or sum(rates) > 1:
            raise ValueError("rates are between 0 and 1, and the request faults add up to 1 at most")
        if faults.hang_seconds < 0:
            raise ValueError("hang_seconds cannot be negative")
        with self._lock:
            self._faults = faults
        return faults

    @property
    def faults(self) -> Faults:
        return self._faults

    def _draw_fault(self) -> str | None:
        """One request's fault, if any: one roll of the seeded generator against the rates."""
        with self._lock:
            f, roll = self._faults, self._rng.random()
        for name, rate in (
            ("fail", f.fail_rate),
            ("throttle", f.throttle_rate),
            ("hang", f.hang_rate),
            ("drop", f.drop_rate),
        ):
            if roll < rate:
                return name
            roll -= rate
        return None

    def set_undelivered(self, numbers: dict[str, str]) -> dict[str, str]:
        """From now on, messages to these numbers are reported undelivered with the given
        receipt status (``{"13800138000": "DB:0101"}``: an empty number); ``{}`` clears them."""
        if not isinstance(numbers, dict) or not all(
            isinstance(n, str) and isinstance(c, str) and 0 < len(c) <= 20 for n, c in numbers.items()
        ):
            raise ValueError("undelivered numbers are a JSON object of phone number to receipt status")
        with self._lock:
            self._undelivered = dict(numbers)
        return {mask(n): c for n, c in numbers.items()}

    def _accepted(self, messages: list[SentMessage]) -> None:
        """Messages to numbers set undelivered, and a share of the others, will be reported
        undelivered; all get a receipt."""
        with self._lock:
            undelivered = self._undelivered
        for message in messages:
            if message.phone in undelivered:
                message.err_code = undelivered[message.phone]
            elif self._rng.random() < self._faults.undelivered_rate:
                message.err_code = "MK:0001"
        self._schedule_receipts(messages)

    # -- requests --------------------------------------------------------------------------

    def handle_api(self, method: str, query: str, body: bytes) -> _Reply:
        """An API call's answer, after its fault (drawn once it is authenticated)."""
        request_id = self._request_id()
        try:
            params = parse_params(query, body)
            self._authenticate(params, method)
            fault = self._draw_fault()
            if fault in _DRAWN_ERRORS:
                raise CarrierError(*_DRAWN_ERRORS[fault])
            answer = {"Code": "OK", "Message": "OK", "RequestId": request_id, **self._act(params)}
        except CarrierError as error:
            return _Reply(error.status, {"Code": error.code, "Message": error.message, "RequestId": request_id})
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

    def _control_health(self, query: str, body: bytes) -> Any:
        return {"status": "ok", "sent": len(self.sent)}

    def _control_sent(self, query: str, body: bytes) -> Any:
        full = dict(parse_qsl(query)).get("full") == "1"
        with self._lock:
            return [m.to_dict(full=full) for m in self.sent]

    def _control_faults(self, query: str, body: bytes) -> Any:
        wanted = json.loads(body or b"{}")
        known = {f.name for f in fields(Faults)}
        if not isinstance(wanted, dict) or set(wanted) - known:
            raise ValueError(f"faults are a JSON object with keys among {sorted(known)}")
        return asdict(self.set_faults(**wanted))

    def _control_undelivered(self, query: str, body: bytes) -> Any:
        wanted = json.loads(body or b"{}")
        if not isinstance(wanted, dict):
            raise ValueError('undelivered numbers are {"numbers": {phone: receipt status}}')
        return {"numbers": self.set_undelivered(wanted.get("numbers", {}))}

    def _control_replies(self, query: str, body: bytes) -> Any:
        wanted = json.loads(body or b"{}")
        if not isinstance(wanted, dict) or not {"phone", "content", "sign_name"} <= set(wanted):
            raise ValueError("a reply is a JSON object with phone, content and sign_name")
        pushed = self.push_reply(str(wanted["phone"]), str(wanted["content"]), str(wanted["sign_name"]))
        pushed["item"]["phone_number"] = mask(pushed["item"]["phone_number"])
        return pushed

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def log(self, message: str) -> None:
        if self.verbose:
            line = {"level": "INFO", "service": "carrier-simulator", "message": redact(message)}
            sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")


_CONTROL_ROUTES = {
    ("GET", "/_simulator/health"): CarrierSimulator._control_health,
    ("GET", "/_simulator/sent"): CarrierSimulator._control_sent,
    ("POST", "/_simulator/faults"): CarrierSimulator._control_faults,
    ("POST", "/_simulator/undelivered"): CarrierSimulator._control_undelivered,
    ("POST", "/_simulator/replies"): CarrierSimulator._control_replies,
}


class _Handler(BaseHTTPRequestHandler):
    """One connection to ``simulator`` (set on the subclass ``_handler_for`` makes)."""

    simulator: CarrierSimulator
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is exercised
    server_version = "CarrierSimulator/1.0"
    timeout = 120  # an idle keep-alive connection is closed after this long
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall

    def setup(self) -> None:
        super().setup()
        self.simulator._track(self.connection, True)

    def finish(self) -> None:
        self.simulator._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("POST")

    def _handle(self, method: str) -> None:
        simulator = self.simulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path.startswith("/_simulator/"):
            self._send(*simulator.handle_control(method, parts.path, parts.query, body))
            return
        if parts.path not in ("", "/"):
            self._send(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."})
            return
        reply = simulator.handle_api(method, parts.query, body)
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
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the caller gave up (a hang longer than its timeout)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
        self.simulator.log(format % args)


def _handler_for(simulator: CarrierSimulator) -> type[BaseHTTPRequestHandler]:
    """The handler class of ``simulator``'s server (http.server makes one handler per request)."""
    return type("Handler", (_Handler,), {"simulator": simulator})
