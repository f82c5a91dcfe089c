"""How healthy a carrier is, judged from its recent outcomes (pure: no storage, no clock).

The dispatcher counts each carrier's outcomes per Beijing minute (sent, refused, limited,
retry, unknown, latency) and the receipt path counts its receipts. From those minutes:

- error rate: outcomes the carrier failed to give (``retry``: no connection, 5xx; ``unknown``:
  a timeout after sending) among all outcomes of the last ``WINDOW_MINUTES``. A refusal
  (``refused``: the caller's fault, such as a wrong number) is not the carrier's ill health;
- throttle rate: ``limited`` among the same outcomes;
- latency: the mean time of a request to the carrier;
- receipts missing: among the messages sent in the ``WINDOW_MINUTES`` that ended
  ``receipt_wait`` minutes ago, the share with no receipt yet.

A rate is judged only over at least ``min_outcomes`` outcomes (or messages sent, for receipts):
a handful of faults at night is not a carrier down. A carrier whose figures break a threshold
is taken out of the rotation for a probation; when the probation ends it comes back if its
figures are within the thresholds then (an out carrier gets no traffic, so its window empties
and it is tried again), or stays out for another probation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from sms_platform.foundation.settings import settings

WINDOW_MINUTES = 15
OUTCOMES = ("sent", "refused", "limited", "retry", "unknown")
COUNTERS = (*OUTCOMES, "latency_ms_sum", "latency_n", "receipt_delivered", "receipt_failed")


@dataclass(frozen=True)
class Thresholds:
    max_error_rate: float = 0.2
    max_throttle_rate: float = 0.3
    max_latency_ms: int = 3000
    max_receipts_missing: float = 0.5
    min_outcomes: int = 20
    receipt_wait_minutes: int = 10
    probation_minutes: int = 15

    @classmethod
    def from_settings(cls) -> Thresholds:
        current = settings()
        return cls(
            max_error_rate=current.carrier_max_error_rate,
            max_throttle_rate=current.carrier_max_throttle_rate,
            max_latency_ms=current.carrier_max_latency_ms,
            max_receipts_missing=current.carrier_max_receipts_missing,
            min_outcomes=current.carrier_min_outcomes,
            receipt_wait_minutes=current.carrier_receipt_wait_minutes,
            probation_minutes=current.carrier_probation_minutes,
        )


class CarrierHealth(BaseModel):
    carrier: str
    outcomes: int = Field(description=f"近 {WINDOW_MINUTES} 分钟的发送结果数")
    error_rate: float | None = Field(description="错误率（连接失败、5xx、结果未知）；结果数不足时为空")
    throttle_rate: float | None = Field(description="限流率；结果数不足时为空")
    latency_ms: int | None = Field(description="平均请求耗时（毫秒）")
    receipts_sent: int = Field(description="参与回执统计的已发送条数")
    receipts_missing: float | None = Field(description="发送若干分钟后仍无回执的比例；条数不足时为空")
    healthy: bool
    problems: list[str] = Field(description="超出阈值的指标（中文）")


def minute_keys(now: datetime, minutes: int) -> list[datetime]:
    """The starts of the ``minutes`` whole minutes up to and including ``now``'s, oldest first."""
    last = now.replace(second=0, microsecond=0)
    return [last - timedelta(minutes=n) for n in range(minutes - 1, -1, -1)]


def _total(minutes: Iterable[Mapping[str, Any]], names: Iterable[str]) -> int:
    names = tuple(names)
    return sum(int(minute.get(name) or 0) for minute in minutes for name in names)


def _rate(part: int, whole: int, least: int) -> float | None:
    return round(part / whole, 4) if whole >= least and whole else None


def health(
    carrier: str, by_minute: Mapping[datetime, Mapping[str, Any]], now: datetime, limits: Thresholds
) -> CarrierHealth:
    """The carrier's figures from its counters by minute start (``by_minute``), as at ``now``."""
    recent = [by_minute.get(start, {}) for start in minute_keys(now, WINDOW_MINUTES)]
    waited_until = now - timedelta(minutes=limits.receipt_wait_minutes)
    waited = [by_minute.get(start, {}) for start in minute_keys(waited_until, WINDOW_MINUTES)]
    outcomes = _total(recent, OUTCOMES)
    latency_n = _total(recent, ("latency_n",))
    receipts_sent = _total(waited, ("sent",))
    receipts = _total(waited, ("receipt_delivered", "receipt_failed"))
    figures = {
        "error_rate": _rate(_total(recent, ("retry", "unknown")), outcomes, limits.min_outcomes),
        "throttle_rate": _rate(_total(recent, ("limited",)), outcomes, limits.min_outcomes),
        "latency_ms": round(_total(recent, ("latency_ms_sum",)) / latency_n) if latency_n else None,
        "receipts_missing": _rate(max(receipts_sent - receipts, 0), receipts_sent, limits.min_outcomes),
    }
    found = problems(figures, limits, outcomes)
    return CarrierHealth(
        carrier=carrier, outcomes=outcomes, receipts_sent=receipts_sent, healthy=not found, problems=found, **figures
    )


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def problems(figures: Mapping[str, Any], limits: Thresholds, outcomes: int) -> list[str]:
    """The thresholds ``figures`` break, in Chinese, for staff and the audit trail."""
    found = []
    error, throttle = figures.get("error_rate"), figures.get("throttle_rate")
    latency, missing = figures.get("latency_ms"), figures.get("receipts_missing")
    if error is not None and error > limits.max_error_rate:
        found.append(f"错误率 {_percent(error)}，超过上限 {_percent(limits.max_error_rate)}")
    if throttle is not None and throttle > limits.max_throttle_rate:
        found.append(f"限流率 {_percent(throttle)}，超过上限 {_percent(limits.max_throttle_rate)}")
    if latency is not None and outcomes >= limits.min_outcomes and latency > limits.max_latency_ms:
        found.append(f"平均耗时 {latency} 毫秒，超过上限 {limits.max_latency_ms} 毫秒")
    if missing is not None and missing > limits.max_receipts_missing:
        found.append(
            f"发送 {limits.receipt_wait_minutes} 分钟后仍无回执 {_percent(missing)}，"
            f"超过上限 {_percent(limits.max_receipts_missing)}"
        )
    return found


@dataclass(frozen=True)
class Move:
    """A change of a carrier's state the health watch decided."""

    state: str  # "out" or "active"
    until: datetime | None
    reason: str


def decide(
    state: str, until: datetime | None, health: CarrierHealth, now: datetime, limits: Thresholds, *, others_active: bool
) -> Move | None:
    """What the watch does with a carrier in ``state`` (probation ending ``until``) given its
    ``health`` at ``now``: take it out, bring it back, keep it out longer, or nothing (None).

    A drained carrier is the operators' to return. The last active carrier is never taken out:
    with none left every message would wait, so it stays in and the alarm tells operations.
    """
    probation_end = now + timedelta(minutes=limits.probation_minutes)
    reason = "；".join(health.problems)
    if state == "active":
        if health.healthy or not others_active:
            return None
        return Move("out", probation_end, reason)
    if state != "out" or (until is not None and now < until):
        return None
    if health.healthy:
        return Move("active", None, "观察期结束，健康检查正常，恢复轮换")
    return Move("out", probation_end, "观察期结束仍不健康：" + reason)
