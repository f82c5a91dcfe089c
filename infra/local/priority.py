"""Which local work goes first when the machine is busy.

In AWS every lane has capacity of its own: a hang-up answer on the ``high`` lane runs in its
own Lambda environments and DynamoDB and SQS serve it no slower for a publicity send draining
on the ``bulk`` lane. Locally everything shares a few cores and one moto server, so a large
publicity send would slow the hang-up answers that the lanes exist to protect. The local
platform restores the separation the lanes have in AWS in two ways:

- environments doing work that may wait (``BACKGROUND``: the bulk lane, fan-out, imports, exports, the
  carrier's receipts) run at a lower OS priority, so they take the cores the rest leaves idle;
- environments on the urgent path (``URGENT``: the high lane and the functions that queue on
  it) mark their AWS calls with a header, and moto's server starts no other call while an
  urgent one is being served (``infra/patches/urgent_calls.py`` and ``urgent_first.py``:
  patches of botocore and moto, off with the other patches).

Everything else (the normal lane, the staff API, schedules) runs as usual.
"""

from __future__ import annotations

import os

URGENT = "urgent"
BACKGROUND = "background"

ENVIRONMENT_VARIABLE = "LOCAL_PRIORITY"  # an environment's class, read by ``worker.py``
BACKGROUND_NICENESS = 19  # the lowest: what normal work leaves of a core, and little more

# Event source mappings (by their queue) and API functions, by class.
URGENT_QUEUES = frozenset({"HighQueue"})
BACKGROUND_QUEUES = frozenset({"BulkQueue", "FanoutQueue", "WorkQueue", "PushQueue", "ExportQueue"})
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


def mark_urgent_calls() -> list[str]:
    """Mark every AWS call this process makes from now on as urgent, for moto's server to serve
    it first, unless the patches are switched off; the patches installed. Call it before the
    first client is made."""
    from infra import patches

    return patches.install_in_urgent_process()


def lower_this_process() -> None:
    os.nice(BACKGROUND_NICENESS)


def apply(priority: str | None) -> None:
    """Put this process (an environment, or a stand-in for one) in its class."""
    if priority == URGENT:
        mark_urgent_calls()
    elif priority == BACKGROUND:
        lower_this_process()
