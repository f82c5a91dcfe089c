"""What the two carrier simulators share: ``infra.carrier_simulator`` (Alibaba Cloud SMS) and
``infra.tencent_simulator`` (Tencent Cloud SMS) speak different APIs over the same machinery.

- ``SimulatedCarrier`` (``carrier``): what a carrier knows (filed templates, accepted messages, recent sends
  per number for its frequency limits), its clock, lock and seeded generator.
- ``SimulatorServer`` (``server``): the HTTP server and its keep-alive connections, the control endpoints
  under ``/_simulator/`` (health, sent messages, faults, undelivered numbers, replies) and the
  faults drawn from the seeded generator (HTTP 500, throttling, a hang or a dropped connection
  after the send is recorded, messages reported undelivered); ``SimulatorHandler`` one
  connection, whose ``api`` each simulator answers in its carrier's shapes.
- ``Pushes`` (``pushes``): receipts pushed after ``receipt_delay`` seconds by a thread of their own, pushed
  again when the receiver refuses them, and replies on demand; each simulator gives their shapes.
- ``arguments`` and ``serve`` (``cli``): the command line both simulators share.

Local test tools: the control endpoints take no credentials and ``GET /_simulator/sent?full=1``
shows numbers in clear, so a simulator listens on 127.0.0.1 only by default.
"""

from infra.simulator_base.carrier import DAY_FORMAT, MOBILE, ApiError, Recorded, SimulatedCarrier, mask
from infra.simulator_base.cli import arguments, serve
from infra.simulator_base.pushes import RECEIPT_ATTEMPTS, RECEIPT_RETRY_SECONDS, Pushes
from infra.simulator_base.server import Faults, Reply, SimulatorHandler, SimulatorServer

__all__ = [
    "DAY_FORMAT",
    "MOBILE",
    "RECEIPT_ATTEMPTS",
    "RECEIPT_RETRY_SECONDS",
    "ApiError",
    "Faults",
    "Pushes",
    "Recorded",
    "Reply",
    "SimulatedCarrier",
    "SimulatorHandler",
    "SimulatorServer",
    "arguments",
    "mask",
    "serve",
]
