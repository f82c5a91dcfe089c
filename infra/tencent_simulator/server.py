"""The Tencent simulator's HTTP side in Tencent's shapes: the server, the control endpoints under
``/_simulator/`` and the faults it injects are the ones both simulators share
(``infra.simulator_base``).

A ``POST /`` is an API call, answered by ``contract.TencentCarrier``, unless a fault drawn for
it says otherwise: HTTP 500 (``InternalError``), throttling (``RequestLimitExceeded``), a hang
after the send is recorded (the caller times out although the message went out) or a dropped
connection after recording. API errors are answered as Tencent does, HTTP 200 with
``Response.Error``, and every answer is ``Content-Type: application/json``, which the official
SDK needs to read an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult

from infra.simulator_base import Reply, SimulatorHandler, SimulatorServer
from infra.tencent_simulator.contract import Request, SentMessage, TencentCarrier, TencentError
from infra.tencent_simulator.receipts import TencentPushes

_DRAWN_ERRORS = {
    "fail": ("InternalError", "An internal error occurred.", 500),
    "throttle": ("RequestLimitExceeded", "The number of requests exceeds the frequency limit.", 200),
}


class _TencentHandler(SimulatorHandler):
    """One connection to the Tencent simulator: the API is ``POST /`` with its headers."""

    server_version = "TencentSimulator/1.0"
    content_type = "application/json"

    def api(self, method: str, parts: SplitResult, body: bytes) -> Reply:
        simulator = self.simulator
        if method != "POST" or parts.path not in ("", "/"):
            refusal = TencentError("UnsupportedProtocol", "Only POST / with a JSON body is served.")
            return Reply(200, _error(refusal, simulator.request_id()))
        return simulator.handle_api({k.lower(): v for k, v in self.headers.items()}, body)


class TencentSimulator(SimulatorServer, TencentPushes, TencentCarrier):
    """Tencent Cloud SMS on ``host``:``port`` (0: a free one), knowing ``secret_keys`` (SecretId
    to SecretKey) and the application ``sdk_app_id``, pushing receipts to ``receipt_url`` and
    replies to ``inbound_url``; see ``contract.TencentCarrier`` for what shapes its answers."""

    service = "tencent-simulator"
    handler = _TencentHandler
    REPLY_PHONE = "mobile"

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
        self._init_server(host, port, verbose)

    @property
    def endpoint(self) -> str:
        """The endpoint the official SDK takes (``HttpProfile.endpoint``: host and port, no scheme)."""
        return f"{self.host}:{self.port}"

    def handle_api(self, headers: dict[str, str], body: bytes) -> Reply:
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
            return Reply(error.status, _error(error, request_id))
        return self._faulted(answer, fault)

    def sent_with(self, session_context: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.session_context == session_context]


def _error(error: TencentError, request_id: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": error.code, "Message": error.message}, "RequestId": request_id}}
