"""``python -m infra.tencent_simulator``: a Tencent Cloud SMS simulator serving until SIGTERM or Ctrl-C.

Reads ``TENCENT_SECRET_ID`` / ``TENCENT_SECRET_KEY`` and ``TENCENT_SMS_SDK_APP_ID`` (and
optionally ``TENCENT_RECEIPT_URL`` / ``TENCENT_INBOUND_URL``) from the environment, and logs one
JSON line per request to standard error, the first naming the URL it listens on.
"""

from __future__ import annotations

import sys

from infra.simulator_base import arguments, serve
from infra.tencent_simulator.server import TencentSimulator


def main(argv: list[str] | None = None) -> int:
    args, env = arguments(
        "Local Tencent Cloud SMS simulator (API 2021-01-11). A test tool.", 3901, "TENCENT",
        ("TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID"), argv,
    )  # fmt: skip
    simulator = TencentSimulator(
        args.host,
        args.port,
        {env["TENCENT_SECRET_ID"]: env["TENCENT_SECRET_KEY"]},
        env["TENCENT_SMS_SDK_APP_ID"],
        receipt_url=args.receipt_url,
        inbound_url=args.inbound_url,
        receipt_delay=args.receipt_delay,
        seed=args.seed,
        verbose=True,
    ).start()
    return serve(simulator, "tencent simulator")


if __name__ == "__main__":
    sys.exit(main())
