"""A local carrier: speaks the Alibaba Cloud SMS API (dysmsapi 2017-05-25) as CONTRACTS §1 describes.

Any Alibaba Cloud SMS client can talk to it, the official SDKs included: parameters may come in
the query string or a form body, by GET or POST, and the signature is checked over the method
actually used. It answers ``SendSms``, ``SendBatchSms``, ``AddSmsTemplate``,
``QuerySmsTemplate`` and ``QuerySendDetails`` with the carrier's own codes, pushes delivery
receipts (SmsReport) to ``receipt_url`` after ``receipt_delay`` seconds, and pushes replies
(SmsUp) to ``inbound_url`` on demand.

For fault tests it fails a share of requests with HTTP 500, throttles them (``Throttling.User``),
hangs after recording the send (the caller times out although the message went out), drops the
connection after recording, or reports a share of messages as undelivered. Its randomness is
seeded, so a fault test sees the same sequence every run.

This is a local test tool. The control endpoints under ``/_simulator/`` take no credentials and
``GET /_simulator/sent?full=1`` shows phone numbers in clear, so it listens on 127.0.0.1 only
by default and must never face a network.

    python -m infra.carrier_simulator --port 3900

Its parts: ``contract.py`` (the API: parameters, signature check, actions, answers),
``server.py`` (``CarrierSimulator``: the API's faults and answers over HTTP), ``receipts.py``
(the shapes of receipts and replies pushed back), ``__main__.py`` (the command line). The server,
its connections, control endpoints, fault injection, push scheduling and command line are shared
with the Tencent simulator (``infra.simulator_base``).
"""

from infra.carrier_simulator.contract import (
    APPROVED,
    DELIVERED,
    FAILED,
    REJECTED,
    UNDER_REVIEW,
    WAITING,
    CarrierError,
    FiledTemplate,
    SentMessage,
)
from infra.carrier_simulator.receipts import RECEIPT_ATTEMPTS, RECEIPT_RETRY_SECONDS
from infra.carrier_simulator.server import CarrierSimulator, Faults
from infra.simulator_base import mask

__all__ = [
    "APPROVED",
    "DELIVERED",
    "FAILED",
    "RECEIPT_ATTEMPTS",
    "RECEIPT_RETRY_SECONDS",
    "REJECTED",
    "UNDER_REVIEW",
    "WAITING",
    "CarrierError",
    "CarrierSimulator",
    "Faults",
    "FiledTemplate",
    "SentMessage",
    "mask",
]
