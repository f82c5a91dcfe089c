"""The garbage collector setting of the dispatch lanes' consumer (``functions/dispatch/sender.py``).

A dispatch makes many small objects that live only a moment (a batch's DynamoDB writes, alive
together until their transaction is sent). With the young generation's threshold at 700 (Python
3.11 and 3.12, the Lambda runtime) they start a collection every few recipients. At 2,000, Python
3.13's default, the dispatch benchmark's ratio (``python -m benchmarks dispatch``, target 2.0)
goes from about 2.3 to 1.9. Objects are still collected as usual, only less often.

Measured and left out, in the same benchmark (medians of six interleaved runs): ``gc.freeze`` at
the end of the init, which moves the objects alive then out of later collections, gives 2.0 on
its own and nothing more with the threshold raised (1.9 either way). The other functions make no
such bursts of objects and keep Python's defaults.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 2_000  # Python 3.13's default for the young generation


def raise_young_threshold() -> None:
    """Collect the young generation after 2,000 new objects instead of 700; a higher setting, or
    collection turned off (0), is left as it is. Called once, as the environment starts."""
    young, *older = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, *older)
