"""The dead-letter queues as IT operations see them through the staff API: each queue's depth,
a look at what lies in one (never a number), and the redrive back to its lane, which is audited
(``dead_letters.redrive``: the depth before, how many went back).

The queues themselves are ``sending.dlq``'s (also its command line, run by hand by operations);
the staff actions are here, above the audit trail and the staff context that ``sending`` cannot see.
"""

from __future__ import annotations

from datetime import datetime

from sms_platform.audit import trail
from sms_platform.reports.models import DeadLetter, DeadLetterDepths, DeadLetterPage, Redriven
from sms_platform.sending import dlq
from sms_platform.staff.context import StaffContext


def depths() -> DeadLetterDepths:
    """Each configured queue's dead-letter depth."""
    return DeadLetterDepths(depths=dlq.depths())


def page(lane: dlq.Lane, limit: int = 10) -> DeadLetterPage:
    """A lane's dead-letter depth and up to ``limit`` of its dead letters, left on the queue."""
    return DeadLetterPage(lane=lane, depth=dlq.depth(lane), messages=[DeadLetter(**m) for m in dlq.peek(lane, limit)])


def redrive(ctx: StaffContext, lane: dlq.Lane, max_messages: int, *, now: datetime) -> Redriven:
    """Send up to ``max_messages`` of a lane's dead letters back to it, once their cause is fixed."""
    before = dlq.depth(lane)
    moved = dlq.redrive(lane, max_messages)
    trail.record(ctx, "dead_letters.redrive", f"queue:{lane}", {"depth": before}, {"redriven": moved}, ctx.office,
                 at=now)  # fmt: skip
    return Redriven(lane=lane, redriven=moved)
