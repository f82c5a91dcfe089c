"""moto's server in a process of its own, standing in for AWS.

It runs apart from the platform so that moto's work (DynamoDB expressions, SQS bookkeeping)
uses its own core instead of competing with the functions for one interpreter lock.

The process ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and the
platform must stop its pollers before moto goes away. The platform ends it with SIGTERM; if
the platform dies without doing so, the process notices its parent is gone and exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

from infra.local import logs


class MotoServer:
    """Starts and stops ``python -m infra.local.moto_process`` on 127.0.0.1:``port``."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "infra.local.moto_process", self.host, str(self.port)],
            env={**os.environ, "MOTO_PORT": str(self.port)},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto's server exited at start (code {self.process.returncode})")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):  # noqa: S310 - local URL
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto's server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main(argv: list[str]) -> None:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the platform logs requests itself
    server = make_server(
        host, port, DomainDispatcherApplication(create_backend_app), threaded=True, request_handler=MotoRequestHandler
    )

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    logs.emit("moto_started", url=f"http://{host}:{port}")
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
