"""A local Tencent Cloud SMS: speaks API 3.0 (version 2021-01-11) as CONTRACTS §8 describes.

The official SDK (``tencentcloud-sdk-python-sms``) talks to it as to Tencent: a JSON ``POST /``
signed with TC3-HMAC-SHA256 (checked with the 300 s rule; a wrong or stale signature is refused
with ``AuthFailure.*``). It answers ``SendSms`` (per number: ``Code``, ``SerialNo``, ``Fee``),
``AddSmsTemplate``, ``DescribeSmsTemplateList`` and ``PullSmsSendStatusByPhoneNumber``, pushes
status receipts to ``receipt_url`` after ``receipt_delay`` seconds (answered
``{"result": 0, "errmsg": "OK"}``) and replies to ``inbound_url`` on demand.

It injects the same faults as the Alibaba simulator (``infra.carrier_simulator``), from the same
control endpoints under ``/_simulator/`` and a seeded generator: HTTP 500, throttling
(``RequestLimitExceeded``), a hang after recording, a dropped connection after recording, and
numbers reported undelivered with a chosen status. Like it, it is a local test tool that shows
numbers in clear on ``GET /_simulator/sent?full=1``: it listens on 127.0.0.1 only by default.

    python -m infra.tencent_simulator --port 3901

Its parts: ``contract.py`` (the API), ``server.py`` (its faults and answers over HTTP),
``receipts.py`` (the shapes of receipts and replies pushed back), ``__main__.py`` (the command
line); what it shares with the Alibaba simulator is ``infra.simulator_base``.
"""

from infra.simulator_base import mask
from infra.tencent_simulator.contract import (
    APPROVED,
    DELIVERED,
    FAILED,
    REJECTED,
    UNDER_REVIEW,
    WAITING,
    FiledTemplate,
    SentMessage,
    TencentError,
)
from infra.tencent_simulator.server import TencentSimulator

__all__ = [
    "APPROVED",
    "DELIVERED",
    "FAILED",
    "REJECTED",
    "UNDER_REVIEW",
    "WAITING",
    "FiledTemplate",
    "SentMessage",
    "TencentError",
    "TencentSimulator",
    "mask",
]
