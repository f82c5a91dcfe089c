"""``python -m infra.carrier_simulator``: a carrier simulator serving until SIGTERM or Ctrl-C.

Reads ``CARRIER_ACCESS_KEY_ID`` / ``CARRIER_ACCESS_KEY_SECRET`` (and optionally
``CARRIER_RECEIPT_URL`` / ``CARRIER_INBOUND_URL``) from the environment, and logs one JSON
line per request to standard error, the first naming the URL it listens on.
"""

from __future__ import annotations

import sys

from infra.carrier_simulator.server import CarrierSimulator
from infra.simulator_base import arguments, serve


def main(argv: list[str] | None = None) -> int:
    args, env = arguments(
        "Local carrier simulator (Alibaba Cloud SMS API). A test tool.", 3900, "CARRIER",
        ("CARRIER_ACCESS_KEY_ID", "CARRIER_ACCESS_KEY_SECRET"), argv,
    )  # fmt: skip
    simulator = CarrierSimulator(
        args.host,
        args.port,
        {env["CARRIER_ACCESS_KEY_ID"]: env["CARRIER_ACCESS_KEY_SECRET"]},
        receipt_url=args.receipt_url,
        inbound_url=args.inbound_url,
        receipt_delay=args.receipt_delay,
        seed=args.seed,
        verbose=True,
    ).start()
    return serve(simulator, "carrier simulator")


if __name__ == "__main__":
    sys.exit(main())
