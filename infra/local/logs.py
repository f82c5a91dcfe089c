"""The local platform's own log, on standard output, in one of two forms:

- ``json``: one JSON object per line, for tools (tests/e2e read these): the default when the
  output is not a terminal, or chosen with ``--json`` / ``LOCAL_PLATFORM_LOG=json``;
- ``human``: a short summary once ready and one readable line per request or event
  (``console``): the default at a terminal, or ``LOCAL_PLATFORM_LOG=human``.

The functions log JSON lines of their own (powertools Logger): in ``json`` form they go to the
same stream as they are; in ``human`` form the platform reads them (``relay``) and shows each as
a line too. Every line passes through ``redact`` so a phone number, an ID number or the
carrier's callback token never reaches the terminal in clear.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from sms_platform.foundation.observability import redact

from infra.local import console

MODES = ("json", "human")
ENVIRONMENT_VARIABLE = "LOCAL_PLATFORM_LOG"

_lock = threading.Lock()
# A process the platform starts (moto's server) takes the form the platform chose (``configure``).
_mode = os.environ.get(ENVIRONMENT_VARIABLE, "json") if os.environ.get(ENVIRONMENT_VARIABLE) in MODES else "json"


def choose_mode(argv: list[str], env: dict[str, str], stream: TextIO) -> str:
    """``json`` or ``human``: ``--json`` first, then ``LOCAL_PLATFORM_LOG``, then whether the
    output is a terminal. A mistyped value stops the start with a message."""
    if "--json" in argv:
        return "json"
    chosen = env.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if chosen:
        if chosen not in MODES:
            raise SystemExit(f"{ENVIRONMENT_VARIABLE} must be one of {', '.join(MODES)}, not {chosen!r}")
        return chosen
    return "human" if stream.isatty() else "json"


def configure(mode: str) -> None:
    """Use ``mode`` here and in the processes started from now on."""
    global _mode
    if mode not in MODES:
        raise ValueError(mode)
    _mode = mode
    os.environ[ENVIRONMENT_VARIABLE] = mode


def human() -> bool:
    return _mode == "human"


def write(text: str) -> None:
    """Text for the terminal as it is (redacted), whatever the form: the human summary."""
    with _lock:
        sys.stdout.write(redact(text) + "\n")
        sys.stdout.flush()


def emit(event: str, level: str = "INFO", **fields: Any) -> None:
    record = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "service": "local-platform",
        "event": event,
        **fields,
    }
    if _mode == "human":
        shown = console.line(json.loads(json.dumps(record, default=str)))
        if shown is not None:
            write(shown)
        return
    write(json.dumps(record, ensure_ascii=False, default=str))


def relay(function: str, stream: Any) -> None:
    """Show each line a function's environment prints (its stdout, read until it closes)."""
    for raw in iter(stream.readline, b""):
        shown = console.function_line(function, raw.decode("utf-8", "replace"))
        if shown is not None:
            write(shown)
