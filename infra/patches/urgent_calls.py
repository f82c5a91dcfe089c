"""Every AWS call of an environment on the urgent path marked with a header, for moto's server
to serve it first (``urgent_first``).

botocore gives each new session its built-in handlers (``botocore.handlers.BUILTIN_HANDLERS``);
adding one there reaches the sessions and clients a function creates, whichever way it creates
them, which no handler registered on one session would. It must run before the first client is
made.

Measured: alone it buys nothing; ``urgent_first``'s figure (``python -m infra.patches.measure
urgent_first``) is that of calls carrying this header.
"""

from __future__ import annotations

from typing import Any

# botocore.handlers.BUILTIN_HANDLERS; botocore as boto3==1.44.8 (pyproject.toml) requires it.
WRITTEN_FOR = {"botocore": ">=1.44.8,<1.45.0"}

HEADER = "X-Local-Priority"
URGENT = "urgent"


def _mark(request: Any, **_: Any) -> None:
    request.headers[HEADER] = URGENT


def apply() -> None:
    """Once per process; later calls do nothing."""
    from botocore import handlers

    entry = ("before-send", _mark)
    if entry not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(entry)
