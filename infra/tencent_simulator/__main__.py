"""``python -m infra.tencent_simulator``: a Tencent Cloud SMS simulator serving until SIGTERM or Ctrl-C.

Reads ``TENCENT_SECRET_ID`` / ``TENCENT_SECRET_KEY`` and ``TENCENT_SMS_SDK_APP_ID`` (and
optionally ``TENCENT_RECEIPT_URL`` / ``TENCENT_INBOUND_URL``) from the environment, and logs one
JSON line per request to standard error, the first naming the URL it listens on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from infra.tencent_simulator.server import TencentSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local Tencent Cloud SMS simulator (API 2021-01-11). A test tool.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3901)
    parser.add_argument("--receipt-url", default=os.environ.get("TENCENT_RECEIPT_URL"))
    parser.add_argument("--inbound-url", default=os.environ.get("TENCENT_INBOUND_URL"))
    parser.add_argument("--receipt-delay", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    secret_id, secret_key = os.environ.get("TENCENT_SECRET_ID"), os.environ.get("TENCENT_SECRET_KEY")
    app_id = os.environ.get("TENCENT_SMS_SDK_APP_ID")
    if not secret_id or not secret_key or not app_id:
        parser.error("set TENCENT_SECRET_ID, TENCENT_SECRET_KEY and TENCENT_SMS_SDK_APP_ID in the environment")
    simulator = TencentSimulator(
        args.host,
        args.port,
        {secret_id: secret_key},
        app_id,
        receipt_url=args.receipt_url,
        inbound_url=args.inbound_url,
        receipt_delay=args.receipt_delay,
        seed=args.seed,
        verbose=True,
    ).start()
    stop = threading.Event()
    # Ctrl-C and SIGTERM stop it alike (a parent that ignores SIGINT passes it on as ignored).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    simulator.log(f"tencent simulator listening on {simulator.url}")
    try:
        stop.wait()
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
