"""``python -m infra.carrier_simulator``: a carrier simulator serving until SIGTERM or Ctrl-C.

Reads ``CARRIER_ACCESS_KEY_ID`` / ``CARRIER_ACCESS_KEY_SECRET`` (and optionally
``CARRIER_RECEIPT_URL`` / ``CARRIER_INBOUND_URL``) from the environment, and logs one JSON
line per request to standard error, the first naming the URL it listens on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from infra.carrier_simulator.server import CarrierSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local carrier simulator (Alibaba Cloud SMS API). A test tool.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3900)
    parser.add_argument("--receipt-url", default=os.environ.get("CARRIER_RECEIPT_URL"))
    parser.add_argument("--inbound-url", default=os.environ.get("CARRIER_INBOUND_URL"))
    parser.add_argument("--receipt-delay", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    key_id, secret = os.environ.get("CARRIER_ACCESS_KEY_ID"), os.environ.get("CARRIER_ACCESS_KEY_SECRET")
    if not key_id or not secret:
        parser.error("set CARRIER_ACCESS_KEY_ID and CARRIER_ACCESS_KEY_SECRET in the environment")
    simulator = CarrierSimulator(
        args.host,
        args.port,
        {key_id: secret},
        receipt_url=args.receipt_url,
        inbound_url=args.inbound_url,
        receipt_delay=args.receipt_delay,
        seed=args.seed,
        verbose=True,
    ).start()
    stop = threading.Event()
    # Ctrl-C and SIGTERM stop it alike, set here rather than left to Python's default, which a
    # parent that ignores SIGINT (a script's background job, a test runner) passes on as ignored.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    simulator.log(f"carrier simulator listening on {simulator.url}")
    try:
        stop.wait()
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
