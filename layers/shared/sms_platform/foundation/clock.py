"""The platform's clock: time is an input.

Rules about the hour (the publicity window) and about expiry read a ``Clock`` rather than the
system time, so tests pass at any hour and the local platform can be started at a chosen
moment with ``PLATFORM_CLOCK``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sms_platform.foundation.settings import settings

BEIJING = ZoneInfo("Asia/Shanghai")


class Clock:
    """Wall-clock time, optionally started at a given moment and running on from there.

    ``start`` holds from this clock's creation on, or, given ``set_at`` (Unix seconds), from
    that wall-clock moment: processes started at different times from one ``start`` and
    ``set_at`` read the same time, however long each took to create its clock."""

    def __init__(self, start: datetime | None = None, *, set_at: float | None = None) -> None:
        self._start = start.astimezone(UTC) if start else None
        self._set_at = set_at
        self._started_at = time.monotonic()

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        if self._start is None:
            return datetime.now(UTC)
        if self._set_at is not None:
            return self._start + timedelta(seconds=time.time() - self._set_at)
        return self._start + timedelta(seconds=time.monotonic() - self._started_at)

    def beijing(self) -> datetime:
        """The current time in the platform's zone for rules about the time of day."""
        return self.now().astimezone(BEIJING)

    def timestamp(self) -> float:
        return self.now().timestamp()


class FixedClock(Clock):
    """A clock that stands still until moved: for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 time; a time without a zone is read as Beijing time."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


def clock_from_environment() -> Clock:
    values = settings()
    start = values.platform_clock
    return Clock(parse_instant(start) if start else None, set_at=values.platform_clock_at)


_clock: Clock | None = None


def get_clock() -> Clock:
    """The process-wide clock (``PLATFORM_CLOCK`` honoured); tests replace it with ``set_clock``."""
    global _clock
    if _clock is None:
        _clock = clock_from_environment()
    return _clock


def set_clock(clock: Clock | None) -> None:
    global _clock
    _clock = clock
