"""Urgent calls (marked by ``urgent_calls``) served ahead of the rest by moto's server.

In AWS each lane has capacity of its own; locally every call shares moto's one interpreter,
which hands its lock from thread to thread in turn: an urgent call running beside five others
gets a sixth of it. So while an urgent call is being served, no other call starts, and the
calls already running step aside at their next item until no urgent call is left. The places
to step aside are patched into moto's DynamoDB: before it looks a table up (once per item) and
before it reads an item (``DynamoDBBackend.get_table``, ``Table.get_item``; the transactions
patch reads through the latter too).

Measured (``python -m infra.patches.measure urgent_first``, two runs on a two-core machine): a
``GetItem`` marked urgent while three bulk-like processes keep moto's server busy takes a
median of 52-73 ms without it, 29-33 ms with it (90th percentile 186-202 ms, 49-131 ms).
"""

from __future__ import annotations

import threading
from typing import Any

from infra.patches.urgent_calls import HEADER, URGENT

WRITTEN_FOR = {"moto": "==5.2.5"}  # DynamoDBBackend.get_table, Table.get_item

_gate: UrgentFirst | None = None  # the server's, once ``serve`` made it


class UrgentFirst:
    """A WSGI application serving urgent calls to ``app`` ahead of the rest.

    A call that is not urgent waits while an urgent one is served: before it starts, and at
    each ``pause_point`` (each DynamoDB item). It waits at most ``MOST_WAIT`` seconds at each
    point, so a steady stream of urgent calls slows the rest down but never stops it, and a
    call that holds something an urgent one needs lets go of it soon. An SQS receive is left
    alone: a long poll spends its time waiting for messages, not working."""

    MOST_WAIT = 0.5

    def __init__(self, app: Any) -> None:
        self.app = app
        self.header = "HTTP_" + HEADER.upper().replace("-", "_")
        self.urgent_value = URGENT
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


def _pausing_first(method: Any) -> Any:
    def paused_if_urgent(*args: Any, **kwargs: Any) -> Any:
        if _gate is not None:
            _gate.pause_point()
        return method(*args, **kwargs)

    paused_if_urgent.pauses_for_urgent_calls = True  # type: ignore[attr-defined]
    return paused_if_urgent


def apply() -> None:
    """The pause points in moto's DynamoDB, once per process; they wait only once ``serve``
    has made the server's gate."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    for owner, name in ((DynamoDBBackend, "get_table"), (Table, "get_item")):
        method = getattr(owner, name)
        if not getattr(method, "pauses_for_urgent_calls", False):
            setattr(owner, name, _pausing_first(method))


def serve(app: Any) -> UrgentFirst:
    """``app`` behind the gate the pause points consult."""
    global _gate
    _gate = UrgentFirst(app)
    return _gate
