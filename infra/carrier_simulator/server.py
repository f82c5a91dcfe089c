"""The simulator's HTTP side in Alibaba's shapes: the server, its control endpoints under
``/_simulator/`` and the faults it injects are the ones both simulators share
(``infra.simulator_base``).

A request to ``/`` is an API call, answered by ``contract.Carrier``, unless a fault drawn for it
says otherwise: HTTP 500, throttling (``Throttling.User``), a hang after the send is recorded
(the caller times out although the message went out) or a dropped connection after recording.
A share of accepted messages can be reported undelivered, and so can every message to the
numbers set undelivered (``POST /_simulator/undelivered {"numbers": {phone: status}}``, with
the receipt status each one reports, such as ``DB:0101`` for an empty number). The faults are drawn from the
carrier's seeded generator, so a fault test sees the same sequence every run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult

from infra.carrier_simulator.contract import Carrier, CarrierError, parse_params
from infra.carrier_simulator.receipts import AlibabaPushes
from infra.simulator_base import Faults, Reply, SimulatorHandler, SimulatorServer

__all__ = ["CarrierSimulator", "Faults"]

_DRAWN_ERRORS = {
    "fail": ("InternalError", "The request processing has failed due to some unknown error.", 500),
    "throttle": ("Throttling.User", "Request was denied due to user flow control.", 400),
}


class _Handler(SimulatorHandler):
    """One connection: the API is any method on ``/`` with the parameters in the query or body."""

    server_version = "CarrierSimulator/1.0"

    def api(self, method: str, parts: SplitResult, body: bytes) -> Reply:
        if parts.path not in ("", "/"):
            return Reply(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."})
        return self.simulator.handle_api(method, parts.query, body)


class CarrierSimulator(SimulatorServer, AlibabaPushes, Carrier):
    """The carrier on ``host``:``port`` (0: a free one), knowing ``access_keys`` (key id to
    secret), pushing receipts to ``receipt_url`` and replies to ``inbound_url``; see
    ``contract.Carrier`` for the keyword arguments that shape its answers."""

    service = "carrier-simulator"
    handler = _Handler
    REPLY_PHONE = "phone_number"

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
        AlibabaPushes.__init__(self, receipt_url, inbound_url, receipt_delay)
        self._init_server(host, port, verbose)

    def handle_api(self, method: str, query: str, body: bytes) -> Reply:
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
            return Reply(error.status, {"Code": error.code, "Message": error.message, "RequestId": request_id})
        return self._faulted(answer, fault)
