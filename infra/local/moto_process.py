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
        """Start the server and wait until it has bound its port and answers.

        The server reports over a pipe that it holds the port, so a moto left running by
        something else on the same port is never mistaken for ours."""
        import select

        bound_read, bound_write = os.pipe()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "infra.local.moto_process", self.host, str(self.port), str(bound_write)],
                env={**os.environ, "MOTO_PORT": str(self.port)},
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


class UrgentFirst:
    """Serve urgent calls (marked by ``priority.mark_urgent_calls``) ahead of the rest.

    Every call shares this one interpreter, which hands its lock from thread to thread in
    turn: an urgent call running beside five others gets a sixth of it. So while an urgent call
    is being served, no other call starts, and the calls already running step aside at their
    next item (``pause_point``, placed where moto's DynamoDB reads or writes one item) until no
    urgent call is left. A call waits at most ``MOST_WAIT`` seconds at each point, so a steady
    stream of urgent calls slows the rest down but never stops it, and a call that holds
    something an urgent one needs lets go of it soon. An SQS receive is left alone: a long
    poll spends its time waiting for messages, not working."""

    MOST_WAIT = 0.5

    def __init__(self, app: Any) -> None:
        from infra.local import priority

        self.app = app
        self.header = "HTTP_" + priority.HEADER.upper().replace("-", "_")
        self.urgent_value = priority.URGENT
        self._urgent = 0
        self._quiet = threading.Condition()
        self._call = threading.local()
        # The interpreter runs one thread at a time anyway: one call that is not urgent at a
        # time leaves an urgent call one other thread to share it with, not a dozen.
        self._one_at_a_time = threading.Lock()

    def pause_point(self) -> None:
        """Where a call that is not urgent waits while an urgent one is served."""
        if self._urgent and getattr(self._call, "steps_aside", False):
            with self._quiet:
                self._quiet.wait_for(lambda: not self._urgent, timeout=self.MOST_WAIT)

    def install_pause_points(self) -> None:
        """Before each item a DynamoDB call reads or writes: moto looks its table up for each,
        and reads each item through ``Table.get_item`` (so do the transaction speed-ups)."""
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table

        for owner, name in ((DynamoDBBackend, "get_table"), (Table, "get_item")):
            setattr(owner, name, self._pausing_first(getattr(owner, name)))

    def _pausing_first(self, method: Any) -> Any:
        def paused_if_urgent(*args: Any, **kwargs: Any) -> Any:
            self.pause_point()
            return method(*args, **kwargs)

        return paused_if_urgent

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".ReceiveMessage"):
            return self.app(environ, start_response)
        if environ.get(self.header) != self.urgent_value:
            with self._one_at_a_time:
                self._call.steps_aside = True
                self.pause_point()
                try:
                    return self.app(environ, start_response)
                finally:
                    self._call.steps_aside = False
        with self._quiet:
            self._urgent += 1
        try:
            # moto builds the whole answer here, so the call is served once this returns.
            return self.app(environ, start_response)
        finally:
            with self._quiet:
                self._urgent -= 1
                if not self._urgent:
                    self._quiet.notify_all()


def keep_full_collections_short() -> None:
    """moto keeps every table, queue and message as Python objects in this process, and the
    interpreter's full garbage collection walks them all while every call waits: with a few
    thousand messages sent, a pause of a third of a second every few seconds, growing with
    the data. Objects that survive a full collection are moto's state, reachable until moto
    drops them; freezing them right after (``gc.freeze``) leaves them out of later collections,
    which then walk only what is new. Reference counting still frees what moto drops; only a
    cycle among frozen objects would stay, a small price for a local server."""
    import gc

    survived = threading.Event()

    def after_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            survived.set()  # not frozen here: the collector is still finishing

    def freeze_survivors() -> None:
        while True:
            survived.wait()
            survived.clear()
            gc.freeze()

    gc.callbacks.append(after_collection)
    threading.Thread(target=freeze_survivors, name="freeze-survivors", daemon=True).start()


def main(argv: list[str]) -> None:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from infra import moto_speedups

    host, port, bound = argv[0], int(argv[1]), int(argv[2])
    # moto copies whole tables for each transaction, and the sending path writes in
    # transactions: without this a few thousand messages slow every batch past its timeout.
    moto_speedups.install()
    # Every request shares this one interpreter. While a bulk send keeps it busy, a request
    # waits for the lock at each socket read and write, up to the switch interval each time
    # (5 ms by default): a shorter one keeps a hang-up SMS's few calls quick (measured under a
    # publicity drain: a GetItem's median 108 ms at 5 ms, 24 ms at 0.5 ms).
    sys.setswitchinterval(0.0005)
    keep_full_collections_short()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the platform logs requests itself
    urgent_first = UrgentFirst(preflight_without_query(DomainDispatcherApplication(create_backend_app)))
    urgent_first.install_pause_points()
    server = make_server(
        host,
        port,
        urgent_first,
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    os.write(bound, b"bound\n")  # the port is ours: tell the platform
    os.close(bound)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    logs.emit("moto_started", url=f"http://{host}:{port}")
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
