"""Recipient messages: what a queued batch carries, and the pure rules of their life.

A queued batch is one SQS message with up to 100 recipients of one template version (the
carrier's ``SendBatchSms`` size). Each recipient message has a deterministic id built from its
source (a send request, a hang-up call, a business event, ...) and the keyed hash of the number,
so one source reaches a number once however many records share it.

States move only along ``TRANSITIONS`` (the store enforces each move with a conditional write):
``queued → sending → sent → delivered | failed``, or an early end: ``suppressed`` (with a
reason), ``undeliverable`` (no usable number) or ``expired``. A receipt may overtake the
``sent`` write, so ``delivered``/``failed`` are reachable from ``sending`` too.

Everything here is pure: no AWS, no clock of its own (times are passed in).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.settings import settings
from sms_platform.sending.lanes import SmsKind

if TYPE_CHECKING:  # the model is built (pydantic-settings imported) on first use: not at import
    from sms_platform.foundation.settings import Settings

BATCH_SIZE = 100  # recipients per queued batch: the carrier's SendBatchSms limit
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds ceiling; longer waits chain delayed messages
SOURCE_ID_PATTERN = r"^[A-Za-z0-9_.:#-]{1,128}$"
ASCII_BODY_LIMIT = 200_000  # characters of a queued batch's escaped body (``QueuedBatch.body``)


class MessageState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"


FINAL_STATES = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.FAILED,
        MessageState.SUPPRESSED,
        MessageState.UNDELIVERABLE,
        MessageState.EXPIRED,
    }
)

# target state -> the states it may be reached from
TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    MessageState.SENDING: frozenset({MessageState.QUEUED}),
    # Back to the queue only when the carrier certainly did not take the request.
    MessageState.QUEUED: frozenset({MessageState.SENDING}),
    MessageState.SENT: frozenset({MessageState.SENDING}),
    MessageState.DELIVERED: frozenset({MessageState.SENDING, MessageState.SENT}),
    MessageState.FAILED: frozenset({MessageState.SENDING, MessageState.SENT}),
    MessageState.SUPPRESSED: frozenset({MessageState.QUEUED}),
    # A number found held for verification after its message was queued (number_health).
    MessageState.UNDELIVERABLE: frozenset({MessageState.QUEUED}),
    MessageState.EXPIRED: frozenset({MessageState.QUEUED}),
}


def can_move(current: MessageState | str, target: MessageState | str) -> bool:
    return MessageState(current) in TRANSITIONS.get(MessageState(target), frozenset())


class SuppressReason(StrEnum):
    OPT_OUT = "opt_out"
    FREQUENCY_LIMIT = "frequency_limit"
    STOPPED_SEND = "stopped_send"
    SUSPENDED_OFFICE = "suspended_office"
    BLOCKED = "blocked"  # a number staff put on the block list (黑名单)


# Why a message is ``undeliverable`` (its ``reason``): the platform's own words, not a carrier's.
NUMBER_UNVERIFIED = "number_unverified"  # failed permanently too often: 号码待核实


# Error codes the platform itself gives a failed message (carrier codes are kept as they come).
UNSETTLED_CODE = "platform.OUTCOME_UNKNOWN"
LIMITED_EXHAUSTED_NOTE = "运营商频率限制，多次重试仍未发送"


def message_id(source_id: str, phone_hash: str) -> str:
    """The deterministic id of the message one source sends to one number."""
    return hashlib.sha256(f"{source_id}\n{phone_hash}".encode()).hexdigest()[:32]


class BatchAction(StrEnum):
    SEND = "send"
    SETTLE = "settle"  # ask the carrier what became of recipients left in ``sending``


class QueuedBatch(BaseModel):
    """One SQS message: up to 100 recipients of one template version.

    Its recipients are parallel lists: the i-th message id, keyed hash, number and values belong
    to one recipient. A batch is parsed at every delivery, and a hundred small objects would cost
    more to parse than most of the checks of its dispatch.
    """

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    action: BatchAction = BatchAction.SEND
    kind: SmsKind
    source_id: str = Field(pattern=SOURCE_ID_PATTERN)
    office: str
    sign_name: str
    template_code: str
    template_id: str
    template_version: int
    parts: int = Field(ge=1)
    shared_params: dict[str, str] | None = None
    message_ids: list[str] = Field(min_length=1, max_length=BATCH_SIZE)
    phone_hashes: list[str]
    # Each recipient's own values over ``shared_params`` (None for a recipient without any).
    params: list[dict[str, str] | None] | None = None
    # The numbers sealed together, in recipient order (``crypto.seal_many``): one decryption per
    # batch. The queue never holds a number in clear.
    phones: str
    not_before: datetime | None = None
    attempt: int = 0  # LIMITED re-sends for ``send``; settle rounds for ``settle``
    test: bool = False  # a test key's messages: settled by the platform, never sent (CONTRACTS §7)
    notify: bool = False  # its messages' caller hears of each state change (status_notices)
    # The carrier its latest hand-over went to: a ``settle`` batch asks it about messages that do
    # not name theirs (each message names its own carrier, which comes first).
    carrier: str | None = None

    @model_validator(mode="after")
    def _lists_align(self) -> QueuedBatch:
        size = len(self.message_ids)
        for name in ("phone_hashes", "params"):
            values = getattr(self, name)
            if values is not None and len(values) != size:
                raise ValueError(f"{name} must have one entry per message id")
        return self

    @property
    def out_id(self) -> str:
        return out_id_for(self.source_id)

    def body(self) -> str:
        """The batch as an SQS message body: JSON with every character outside ASCII escaped
        (``\\uXXXX``). A body that is all ASCII is read (``from_body``) without first being
        copied to UTF-8 whole: about 15 us a batch of 100 where the same batch in UTF-8 takes 23.
        An escape takes six bytes where UTF-8 takes three, so a batch heavy with personal values
        in Chinese, escaped past ``ASCII_BODY_LIMIT``, is kept in UTF-8 instead, within SQS's
        256 KiB."""
        escaped = self.model_dump_json(exclude_defaults=True, ensure_ascii=True)
        if len(escaped) <= ASCII_BODY_LIMIT:
            return escaped
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_body(cls, body: str | bytes) -> QueuedBatch:
        """The batch an SQS message body holds (``body``). orjson reads the JSON and pydantic
        validates what it read: about 14 us a batch of 100, where pydantic reading the JSON
        itself takes 19. Malformed JSON raises ``ValueError``, a body that is not a batch
        ``ValidationError``."""
        # deferred: the handlers that import this module for its kinds and rules never read a
        # batch, and orjson costs them about 1 ms of their cold start
        import orjson

        return cls.model_validate(orjson.loads(body))

    def params_for(self, index: int) -> dict[str, str] | None:
        """The template values of the recipient at ``index``: its own over the shared ones."""
        own = self.params[index] if self.params is not None else None
        if own is None:
            return self.shared_params
        return {**(self.shared_params or {}), **own}

    def one_text(self, indexes: list[int]) -> bool:
        """Whether the recipients at ``indexes`` all get the same text (one ``SendSms``)."""
        return self.params is None or carrier_call_for([self.params_for(i) for i in indexes]) == "send_sms"

    def part(self, indexes: list[int], phones: str | None, **changes: Any) -> QueuedBatch:
        """A copy for the recipients at ``indexes`` only, with ``phones`` their numbers sealed
        anew (sealed numbers cannot be cut without opening them)."""
        if phones is None:
            raise ValueError("a part of a batch needs its numbers sealed again")

        def pick(values: list[Any] | None) -> list[Any] | None:
            return None if values is None else [values[i] for i in indexes]

        kept = {"message_ids": pick(self.message_ids), "phone_hashes": pick(self.phone_hashes)}
        kept["params"] = pick(self.params)
        kept["phones"] = phones
        return self.model_copy(update={**kept, **changes})


def out_id_for(source_id: str) -> str:
    """The carrier OutId of every message of a source.

    OutId is the source id itself: with the number the carrier reports back, it names the
    message (``message_id(out_id, keyed_hash(number))``) without any lookup item, and
    ``QuerySendDetails`` for a number on a day finds at most one record with it, because a
    source sends a number one message.
    """
    return source_id


def source_of_out_id(out_id: str) -> str | None:
    return out_id if out_id and re.match(SOURCE_ID_PATTERN, out_id) else None


def chunk(items: list[Any], size: int = BATCH_SIZE) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


CarrierCall = Literal["send_sms", "send_batch_sms"]


def carrier_call_for(params: list[dict[str, str] | None]) -> CarrierCall:
    """Identical texts go as one ``SendSms``; different parameters need ``SendBatchSms``."""
    return "send_sms" if len({_params_key(p) for p in params}) <= 1 else "send_batch_sms"


def _params_key(params: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((params or {}).items()))


# ------------------------------------------------------------------ time rules
PUBLICITY_OPENS = time(8, 0)
PUBLICITY_CLOSES = time(21, 0)


def in_publicity_window(at: datetime) -> bool:
    """Publicity goes out only from 08:00 to 21:00 Beijing time."""
    local = at.astimezone(BEIJING).time()
    return PUBLICITY_OPENS <= local < PUBLICITY_CLOSES


def next_publicity_opening(at: datetime) -> datetime:
    """The next 08:00 Beijing time at or after ``at`` (``at`` itself inside the window)."""
    local = at.astimezone(BEIJING)
    if in_publicity_window(local):
        return at
    day = local.date() if local.time() < PUBLICITY_OPENS else local.date() + timedelta(days=1)
    return datetime.combine(day, PUBLICITY_OPENS, tzinfo=BEIJING)


def delay_seconds(now: datetime, not_before: datetime | None) -> int:
    """SQS DelaySeconds for a message due at ``not_before`` (at most 900; chains cover the rest)."""
    if not_before is None:
        return 0
    remaining = (not_before - now).total_seconds()
    if remaining <= 0:
        return 0
    return min(MAX_DELAY_SECONDS, int(-(-remaining // 1)))


def is_due(now: datetime, not_before: datetime | None) -> bool:
    return not_before is None or now >= not_before


def retry_visibility_seconds(receive_count: int, *, base: int = 30, cap: int = 900) -> int:
    """Exponential backoff for transient carrier faults: 30 s, 60 s, 120 s, ... up to 15 min."""
    return min(cap, base * 2 ** max(0, receive_count - 1))


LIMITED_DELAY_SECONDS = 900  # the carrier's frequency control: try again after a long pause
MAX_LIMITED_ATTEMPTS = 3
SETTLE_DELAYS_SECONDS = (60, 300, 900, 900)  # later looks when the carrier has no record yet


def settle_delay(attempt: int) -> int | None:
    """Delay before settle round ``attempt`` (1-based); ``None`` when rounds are used up."""
    return SETTLE_DELAYS_SECONDS[attempt - 1] if 1 <= attempt <= len(SETTLE_DELAYS_SECONDS) else None


@dataclass(frozen=True)
class Settlement:
    state: MessageState  # sent, delivered or failed
    error_code: str | None = None
    biz_id: str | None = None


def settlement_from_details(details: list[dict[str, Any]], out_id: str) -> Settlement | None:
    """What ``QuerySendDetails`` records say about the message with ``out_id``; ``None`` if absent.

    SendStatus: 1 waiting for the handset's receipt, 2 failed, 3 delivered.
    """
    for record in details:
        if str(record.get("OutId", "")) != out_id:
            continue
        status = int(record.get("SendStatus", 1))
        biz_id = record.get("BizId") or None
        if status == 3:
            return Settlement(MessageState.DELIVERED, None, biz_id)
        if status == 2:
            return Settlement(MessageState.FAILED, str(record.get("ErrCode") or "UNKNOWN"), biz_id)
        return Settlement(MessageState.SENT, None, biz_id)
    return None


def send_details_of(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The records list out of a ``QuerySendDetails`` answer, whichever nesting it uses."""
    container = (data or {}).get("SmsSendDetailDTOs") or {}
    records = container.get("SmsSendDetailDTO", []) if isinstance(container, dict) else container
    return [r for r in records if isinstance(r, dict)]


def beijing_date(at: datetime) -> date:
    return at.astimezone(BEIJING).date()


# ------------------------------------------------------------------ frequency limits
@dataclass(frozen=True)
class LimitRules:
    """Per-number limits (defaults as the carrier advises; each configurable by environment)."""

    same_template_per_minute: int = 1
    same_template_per_hour: int = 5
    publicity_per_day: int = 3

    @classmethod
    def from_settings(cls, current: Settings | None = None) -> LimitRules:
        """The limits ``LIMIT_*`` set (the process's settings unless ``current`` is given)."""
        current = current or settings()
        return cls(
            same_template_per_minute=current.limit_same_template_per_minute,
            same_template_per_hour=current.limit_same_template_per_hour,
            publicity_per_day=current.limit_publicity_per_day,
        )


@dataclass(frozen=True)
class LimitSpec:
    """One window as every number of a batch meets it: at most ``limit`` messages before
    ``ends_at``, counted in the number attribute ``field`` of the counter item keyed
    ``prefix + phone hash + suffix`` (the key differs only by the number).

    The minute and the hour of a template share one item (keyed by the hour; the minute's
    attribute is named by the minute), so a message is counted in both with one write.
    """

    prefix: str
    suffix: str
    field: str
    limit: int
    ends_at: datetime
    over_limit: Literal["delay", "suppress"]

    def key_for(self, phone_hash: str) -> str:
        return f"{self.prefix}{phone_hash}{self.suffix}"


def limit_specs(rules: LimitRules, kind: SmsKind, template_code: str, at: datetime) -> list[LimitSpec]:
    """The windows a message of this kind and template sent at ``at`` must fit in, for any number.

    Fixed windows (the minute, the hour, the Beijing day) keep each check to one conditional
    write per counter item; the price is that two messages may straddle a window's edge.
    """
    return list(_limit_specs(rules, kind, template_code, at.astimezone(BEIJING).replace(second=0, microsecond=0)))


@lru_cache(maxsize=64)
def _limit_specs(rules: LimitRules, kind: SmsKind, template_code: str, minute: datetime) -> tuple[LimitSpec, ...]:
    # ``minute`` is Beijing's. Every batch of a template within a minute meets the same windows:
    # built once.
    hour = minute.replace(minute=0)
    same_template = f"#{template_code}#{hour:%Y%m%d%H}"
    specs = []
    if rules.same_template_per_minute > 0:
        specs.append(
            LimitSpec(
                "tpl#",
                same_template,
                f"min{minute:%M}",
                rules.same_template_per_minute,
                minute + timedelta(minutes=1),
                "delay",
            )
        )
    if rules.same_template_per_hour > 0:
        specs.append(
            LimitSpec("tpl#", same_template, "hour", rules.same_template_per_hour, hour + timedelta(hours=1), "delay")
        )
    if kind is SmsKind.PUBLICITY and rules.publicity_per_day > 0:
        day = datetime.combine(minute.date(), time(0), tzinfo=BEIJING)
        specs.append(
            LimitSpec("pub#", f"#{minute:%Y%m%d}", "day", rules.publicity_per_day, day + timedelta(days=1), "suppress")
        )
    return tuple(specs)


def counter_items(specs: list[LimitSpec]) -> list[tuple[LimitSpec, ...]]:
    """``specs`` grouped by the counter item that holds them, in order: one write per group."""
    groups: dict[tuple[str, str], list[LimitSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.prefix, spec.suffix), []).append(spec)
    return [tuple(group) for group in groups.values()]


def refused_window(windows: tuple[LimitSpec, ...], item: dict[str, Any] | None) -> LimitSpec:
    """Which of one counter item's ``windows`` refused a message, from the item as it was.

    Of the windows already full, the one that ends last: waiting only for an earlier end would
    be refused again. With no item to tell, the one that ends last, so the wait is never too
    short.
    """
    full = [spec for spec in windows if item is not None and int(item.get(spec.field) or 0) >= spec.limit]
    return max(full or windows, key=lambda spec: spec.ends_at)


# ------------------------------------------------------------------ carrier pushes
class CarrierReceipt(BaseModel):
    """One SmsReport the carrier pushes (CONTRACTS §1)."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(max_length=32)
    send_time: str | None = Field(default=None, max_length=32)
    report_time: str | None = Field(default=None, max_length=32)
    success: bool
    err_code: str | None = Field(default=None, max_length=64)
    err_msg: str | None = Field(default=None, max_length=256)
    sms_size: Annotated[str, Field(max_length=8)] | Annotated[int, Field(ge=0, le=100)] | None = None
    biz_id: str | None = Field(default=None, max_length=128)
    out_id: str | None = Field(default=None, max_length=256)


class CarrierReply(BaseModel):
    """One SmsUp (a citizen's reply) the carrier pushes (CONTRACTS §1)."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(max_length=32)
    send_time: str | None = Field(default=None, max_length=32)
    content: str = Field(default="", max_length=1000)
    sign_name: str | None = Field(default=None, max_length=64)
    dest_code: str | None = Field(default=None, max_length=32)
    sequence_id: Annotated[str, Field(max_length=64)] | Annotated[int, Field(ge=0, le=2**63)] | None = None


OPT_OUT_WORDS = frozenset({"R", "T", "TD", "退订"})


def is_opt_out_reply(content: str) -> bool:
    """``R``, ``T``, ``TD`` or ``退订``, in any case, surrounding space ignored."""
    return (content or "").strip().upper() in OPT_OUT_WORDS
