"""Which local work goes first when the machine is busy.

In AWS every lane has capacity of its own: a hang-up answer on the ``high`` lane runs in its
own Lambda environments and DynamoDB and SQS serve it no slower for a publicity send draining
on the ``bulk`` lane. Locally everything shares a few cores and one moto server, so a large
publicity send would slow the hang-up answers that the lanes exist to protect. The local
platform restores the separation the lanes have in AWS in two ways:

- environments doing work that may wait (``BACKGROUND``: the bulk lane, fan-out, imports, the
  carrier's receipts) run at a lower OS priority, so they take the cores the rest leaves idle;
- environments on the urgent path (``URGENT``: the high lane and the functions that queue on
  it) mark their AWS calls with a header, and moto's server (``moto_process.UrgentFirst``)
  starts no other call while an urgent one is being served.

Everything else (the normal lane, the staff API, schedules) runs as usual.
"""

from __future__ import annotations

import os
from typing import Any

URGENT = "urgent"
BACKGROUND = "background"

HEADER = "X-Local-Priority"  # on an urgent environment's AWS calls
ENVIRONMENT_VARIABLE = "LOCAL_PRIORITY"  # an environment's class, read by ``worker.py``
BACKGROUND_NICENESS = 19  # the lowest: what normal work leaves of a core, and little more

# Event source mappings (by their queue) and API functions, by class.
URGENT_QUEUES = frozenset({"HighQueue"})
BACKGROUND_QUEUES = frozenset({"BulkQueue", "FanoutQueue", "WorkQueue", "PushQueue"})
URGENT_FUNCTIONS = frozenset({"HotlineFunction", "TriggerEventsFunction", "SubscribeFunction"})
BACKGROUND_FUNCTIONS: frozenset[str] = frozenset()  # the carrier's pushes are queued, their recording waits


def of_queue(queue: str) -> str | None:
    """The class of the environments an event source mapping on ``queue`` invokes."""
    if queue in URGENT_QUEUES:
        return URGENT
    return BACKGROUND if queue in BACKGROUND_QUEUES else None


def of_function(logical_id: str) -> str | None:
    """The class of the environments serving ``logical_id``'s API routes and schedules."""
    if logical_id in URGENT_FUNCTIONS:
        return URGENT
    return BACKGROUND if logical_id in BACKGROUND_FUNCTIONS else None


def _mark(request: Any, **_: Any) -> None:
    request.headers[HEADER] = URGENT


def mark_urgent_calls() -> None:
    """Mark every AWS call this process makes from now on as urgent.

    botocore gives each new session its built-in handlers; adding one there reaches the
    sessions and clients a function creates, whichever way it creates them. Call it before
    the first client is made."""
    from botocore import handlers

    entry = ("before-send", _mark)
    if entry not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(entry)


def lower_this_process() -> None:
    os.nice(BACKGROUND_NICENESS)


def apply(priority: str | None) -> None:
    """Put this process (an environment, or a stand-in for one) in its class."""
    if priority == URGENT:
        mark_urgent_calls()
    elif priority == BACKGROUND:
        lower_this_process()
