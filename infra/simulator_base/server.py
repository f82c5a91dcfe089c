"""A simulator's HTTP side: the server and its keep-alive connections, the control endpoints
under ``/_simulator/`` (health, sent messages, faults, undelivered numbers, replies) and the
faults drawn from the carrier's seeded generator; ``SimulatorHandler`` is one connection, whose
``api`` each simulator answers in its carrier's shapes."""

from __future__ import annotations

import contextlib
import functools
import json
import random
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from sms_platform.foundation.observability import redact

from infra.simulator_base.carrier import mask

UNDELIVERED_CODE = "MK:0001"  # the receipt status of a message drawn undelivered


@dataclass
class Faults:
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 15.0
    drop_rate: float = 0.0
    undelivered_rate: float = 0.0


@dataclass
class Reply:
    status: int
    body: Any
    hang: float = 0.0
    drop: bool = False


_CONTROL_ROUTES = {
    ("GET", "/_simulator/health"): "_control_health",
    ("GET", "/_simulator/sent"): "_control_sent",
    ("POST", "/_simulator/faults"): "_control_faults",
    ("POST", "/_simulator/undelivered"): "_control_undelivered",
    ("POST", "/_simulator/replies"): "_control_replies",
}


class SimulatorServer:
    """A simulator's server, control endpoints and faults. Mixed in first, beside ``Pushes``
    and the carrier's contract; a simulator names its ``service`` (in its log lines and thread
    names), its connection ``handler`` class and ``REPLY_PHONE`` (a reply's number field)."""

    service: str
    handler: type[SimulatorHandler]
    REPLY_PHONE: str
    _lock: threading.RLock
    _rng: random.Random
    sent: list[Any]
    _deliver_loop: Callable[[], None]
    _schedule_receipts: Callable[[list[Any]], None]
    push_reply: Callable[[str, str, str], dict[str, Any]]

    def _init_server(self, host: str, port: int, verbose: bool) -> None:
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

    def start(self) -> Any:
        import requests

        self._http = requests.Session()
        handler = type("Handler", (self.handler,), {"simulator": self})  # one per request, knowing us
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # a quick stop
        prefix = self.service.removesuffix("-simulator")
        for target, name in ((serve, f"{prefix}-http"), (self._deliver_loop, f"{prefix}-receipts")):
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

    def __enter__(self) -> Any:
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

    def _faulted(self, answer: Any, fault: str | None) -> Reply:
        """A taken request's answer as its fault delivers it: late, never, or at once."""
        if fault == "hang":
            return Reply(200, answer, hang=self._faults.hang_seconds)
        return Reply(200, answer, drop=fault == "drop")

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

    def _accepted(self, messages: list[Any]) -> None:
        """Messages to numbers set undelivered, and a share of the others, will be reported
        undelivered; all get a receipt."""
        with self._lock:
            undelivered = self._undelivered
        for message in messages:
            if message.phone in undelivered:
                message.err_code = undelivered[message.phone]
            elif self._rng.random() < self._faults.undelivered_rate:
                message.err_code = UNDELIVERED_CODE
        self._schedule_receipts(messages)

    # -- control endpoints -----------------------------------------------------------------

    def handle_control(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        route = _CONTROL_ROUTES.get((method, path.rstrip("/")))
        if route is None:
            return 404, {"error": {"code": "not_found", "message": "no such simulator endpoint"}}
        try:
            return 200, getattr(self, route)(query, body)
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
        pushed["item"][self.REPLY_PHONE] = mask(pushed["item"][self.REPLY_PHONE])
        return pushed

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def log(self, message: str) -> None:
        if self.verbose:
            line = {"level": "INFO", "service": self.service, "message": redact(message)}
            sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")


class SimulatorHandler(BaseHTTPRequestHandler):
    """One connection to ``simulator`` (set on the subclass ``SimulatorServer.start`` makes).
    A request under ``/_simulator/`` is a control call; any other is the simulator's ``api``."""

    simulator: Any
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is exercised
    timeout = 120  # an idle keep-alive connection is closed after this long
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall
    content_type = "application/json;charset=utf-8"

    def api(self, method: str, parts: SplitResult, body: bytes) -> Reply:
        raise NotImplementedError

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
        reply = self.api(method, parts, body)
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
            self.send_header("Content-Type", self.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the caller gave up (a hang longer than its timeout)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
        self.simulator.log(format % args)
