"""moto's server in a process of its own, standing in for AWS.

It runs apart from the platform so that moto's work (DynamoDB expressions, SQS bookkeeping)
uses its own core instead of competing with the functions for one interpreter lock.

The process ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and the
platform must stop its pollers before moto goes away. The platform ends it with SIGTERM; if
the platform dies without doing so, the process notices its parent is gone and exits.

What it changes in moto, werkzeug's serving and its own interpreter to go faster (urgent calls
first among them) is in ``infra/patches/``; ``PLATFORM_MOTO_PATCHES=off`` serves moto as it is.
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

# Cognito checks every TOTP code (enrolment and sign-in); moto accepts any unless told to check
# them, so the local sign-in would not be the one staff get in AWS.
COGNITO_AS_IN_AWS = {"MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true"}


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
        """Start the server and wait until it has bound its port and answers.

        The server reports over a pipe that it holds the port, so a moto left running by
        something else on the same port is never mistaken for ours."""
        import select

        bound_read, bound_write = os.pipe()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "infra.local.moto_process", self.host, str(self.port), str(bound_write)],
                env={**os.environ, "MOTO_PORT": str(self.port), **COGNITO_AS_IN_AWS},
                pass_fds=(bound_write,),
            )
        finally:
            os.close(bound_write)
        try:
            ready, _, _ = select.select([bound_read], [], [], timeout)
            bound = os.read(bound_read, 16) if ready else b""
        finally:
            os.close(bound_read)
        if not bound.startswith(b"bound"):
            self.stop()
            raise RuntimeError(f"moto's server could not listen on {self.url} (is the port in use? set MOTO_PORT)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
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


def preflight_without_query(app: Any) -> Any:
    """A browser's CORS preflight (OPTIONS) for a presigned upload carries the URL's signature
    but not the headers it signs, and S3 answers it from the bucket's CORS rules without
    checking any signature; moto checks it and refuses. Dropping the query string from
    preflights lets moto answer them from the CORS rules, as S3 does."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            environ = {**environ, "QUERY_STRING": ""}
        return app(environ, start_response)

    return wrapped


def main(argv: list[str]) -> None:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from infra import patches

    host, port, bound = argv[0], int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the platform logs requests itself
    # Speed-ups only (infra/patches/): without them moto answers the same, slower.
    app, installed = patches.install_in_moto_server(
        preflight_without_query(DomainDispatcherApplication(create_backend_app))
    )
    server = make_server(
        host,
        port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    os.write(bound, b"bound\n")  # the port is ours: tell the platform
    os.close(bound)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    logs.emit("moto_started", url=f"http://{host}:{port}", patches=installed)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
