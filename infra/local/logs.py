"""The local platform's own log: one JSON object per line on standard output.

The functions log JSON lines of their own (powertools Logger) to the same stream. Every line
passes through ``redact`` so a phone number, an ID number or the carrier's callback token
never reaches the terminal in clear.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from sms_platform.foundation.observability import redact

_lock = threading.Lock()


def emit(event: str, level: str = "INFO", **fields: Any) -> None:
    record = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "service": "local-platform",
        "event": event,
        **fields,
    }
    line = redact(json.dumps(record, ensure_ascii=False, default=str))
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
