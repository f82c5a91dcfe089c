"""The command line both simulators share: their options, the environment they need, serving
until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import Any


def arguments(
    description: str, port: int, env_prefix: str, required: tuple[str, ...], argv: list[str] | None
) -> tuple[argparse.Namespace, dict[str, str]]:
    """The options both simulators take (the push URLs default to ``<env_prefix>_RECEIPT_URL``
    and ``<env_prefix>_INBOUND_URL``) and the ``required`` environment variables' values; a
    missing one ends the program with a usage error naming them all."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--receipt-url", default=os.environ.get(f"{env_prefix}_RECEIPT_URL"))
    parser.add_argument("--inbound-url", default=os.environ.get(f"{env_prefix}_INBOUND_URL"))
    parser.add_argument("--receipt-delay", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    values = {name: os.environ.get(name, "") for name in required}
    if not all(values.values()):
        names = ", ".join(required[:-1]) + " and " + required[-1] if len(required) > 1 else required[0]
        parser.error(f"set {names} in the environment")
    return args, values


def serve(simulator: Any, name: str) -> int:
    """Serve a started ``simulator`` until SIGTERM or Ctrl-C, its first log line naming its URL."""
    stop = threading.Event()
    # Ctrl-C and SIGTERM stop it alike, set here rather than left to Python's default, which a
    # parent that ignores SIGINT (a script's background job, a test runner) passes on as ignored.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    simulator.log(f"{name} listening on {simulator.url}")
    try:
        stop.wait()
    finally:
        simulator.stop()
    return 0
