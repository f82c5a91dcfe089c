"""What a function's execution environment does about the garbage collector, once, as it starts.

The objects made while an environment starts (imported modules with their classes and
functions, pydantic schemas, AWS and carrier clients) live as long as the environment. Left to
the collector, its collections walk them again and again; a queue consumer making many small
short-lived dicts (a batch's DynamoDB writes) triggers collections often. In the dispatch
benchmark they took about a quarter of the time. Two settings fix that:

- ``gc.freeze`` at the end of the init moves the objects alive then into a permanent generation
  that collections skip. They are never freed, which they would not be anyway.
- The young generation's threshold goes from 700 (Python 3.11 and 3.12, the Lambda runtime) to
  2,000, Python 3.13's default: a batch's writes alive at once no longer trigger a collection
  every few recipients. Objects made later are still collected as usual.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 2_000  # Python 3.13's default for the young generation
_warm = False


def end_of_init() -> None:
    """Call at the end of a handler module's import (and see ``end_of_first_invocation``)."""
    gc.collect(1)  # the young generations' garbage first, cheaply, so that little of it is kept
    gc.freeze()
    young, *older = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, *older)


def end_of_first_invocation() -> None:
    """``end_of_init`` once more after an environment's first invocation, then never again:
    handlers import their heavy modules and make their clients on first use (to start quickly),
    so those long-lived objects only exist from then on."""
    global _warm
    if not _warm:
        _warm = True
        end_of_init()
