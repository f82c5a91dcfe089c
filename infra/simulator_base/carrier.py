"""What a simulated carrier knows, whichever API it speaks: filed templates, accepted messages
and recent sends per number (its frequency limits), its clock, lock and seeded generator; and
what both carriers' records of a message and refusals have in common."""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sms_platform.foundation.clock import BEIJING, get_clock

MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
DAY_FORMAT = "%Y-%m-%d %H:%M:%S"
RECEIPT_ATTEMPTS = 3
RECEIPT_RETRY_SECONDS = 1.0
UNDELIVERED_CODE = "MK:0001"  # the receipt status of a message drawn undelivered


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


class Recorded:
    """A message a carrier accepted (a dataclass with ``phone``, ``sent_at`` and ``reported_at``),
    as the control endpoint ``GET /_simulator/sent`` lists it: the number masked unless ``full``."""

    phone: str
    sent_at: datetime
    reported_at: datetime | None

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        data["phone"] = self.phone if full else mask(self.phone)
        data["sent_at"] = self.sent_at.isoformat()
        data["reported_at"] = self.reported_at.isoformat() if self.reported_at else None
        return data


class ApiError(Exception):
    """An answer other than OK, as the carrier gives it (its code, message and HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


# ---------------------------------------------------------------------------- the carrier's state


class SimulatedCarrier:
    """What a carrier knows, shared by both APIs. ``review_delay`` (seconds on ``clock``) is how
    long a filed template stays under review; one holding a word of ``reject_words`` is then
    rejected. A template never filed here is taken unless ``strict_templates``.
    ``per_minute_limit`` is how often one number may get one template in a minute,
    ``per_day_limit`` how many messages one number may get in a (China) day. Its randomness
    comes from one generator seeded with ``seed``."""

    def __init__(
        self, clock: Any, *, seed: int, review_delay: float, reject_words: tuple[str, ...], per_minute_limit: int,
        per_day_limit: int, param_max_length: int, strict_templates: bool,
    ) -> None:  # fmt: skip
        self.review_delay = review_delay
        self.reject_words = tuple(reject_words)
        self.per_minute_limit = per_minute_limit
        self.per_day_limit = per_day_limit
        self.param_max_length = param_max_length
        self.strict_templates = strict_templates
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self.sent: list[Any] = []
        self.templates: dict[str, Any] = {}
        self._by_phone: dict[str, list[Any]] = {}
        self._recent: dict[tuple[str, str], list[datetime]] = {}

    # -- what tests ask of the carrier -------------------------------------------------------

    def duplicates(self) -> list[tuple[str, str]]:
        """(masked phone, text) of every message one number received more than once."""
        seen: dict[tuple[str, str], int] = {}
        with self._lock:
            for m in self.sent:
                text = m.content or f"{m.sign_name}|{m.template_ref}|{json.dumps(m.params, sort_keys=True)}"
                seen[(m.phone, text)] = seen.get((m.phone, text), 0) + 1
        return [(mask(phone), text) for (phone, text), count in seen.items() if count > 1]

    def sent_to(self, phone: str) -> list[Any]:
        with self._lock:
            return list(self._by_phone.get(phone, []))

    # -- for the API -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return (self._clock or get_clock()).now()

    def _random_uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _remember(self, message: Any, template: str, now: datetime) -> None:
        """Keep an accepted message, and count it against its number's limits (lock held)."""
        self.sent.append(message)
        self._by_phone.setdefault(message.phone, []).append(message)
        self._recent.setdefault((message.phone, template), []).append(now)
        self._recent.setdefault((message.phone, ""), []).append(now)

    def _recent_sends(self, phone: str, template: str, now: datetime) -> tuple[int, int]:
        """How many messages of ``template`` ``phone`` got in the last minute, and how many in all
        on the (China) day of ``now``; older ones are forgotten (lock held)."""
        minute_ago, today = now - timedelta(minutes=1), now.astimezone(BEIJING).date()
        recent = [t for t in self._recent.get((phone, template), []) if t > minute_ago]
        self._recent[(phone, template)] = recent
        day = [t for t in self._recent.get((phone, ""), []) if t.astimezone(BEIJING).date() == today]
        self._recent[(phone, "")] = day
        return len(recent), len(day)

    def _accepted(self, messages: list[Any]) -> None:
        """What follows the acceptance of ``messages`` (the lock is held): nothing here; the
        simulator decides their outcome and schedules their receipts."""
