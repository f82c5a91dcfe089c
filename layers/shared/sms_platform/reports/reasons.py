"""Why a message did not arrive, in the words staff read everywhere a failure shows: the
recipients of a send and their exports, the per-send report, the 12333 desk's lookup and the
daily reports (pure: no AWS here).

A failure the carrier reported is read through ``carrier.failure_reasons`` (空号, 停机 ...), its
raw code kept beside as the evidence. A message the platform itself did not send carries the
platform's own reason (``suppress_reason`` of a suppressed message, ``reason`` of an
undeliverable one), named here in Chinese; a reason this table does not know yet is shown as
it is rather than hidden.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sms_platform.carrier import failure_reasons

# Why a queued message was not handed to the carrier (``sending.messages.SuppressReason``).
SUPPRESS_LABELS: dict[str, str] = {
    "opt_out": "本人已退订",
    "frequency_limit": "超过发送频率限制",
    "stopped_send": "发送已被停止",
    "suspended_office": "发送单位已被暂停",
    "blocked": "号码已列入黑名单",
}

# Why no message could be made for a recipient (the ``reason`` of an undeliverable message;
# none at all for a number that is not a mobile number).
UNDELIVERABLE_LABELS: dict[str, str] = {
    "": "号码不是有效的手机号码",
    "no_usable_number": "无可用号码",
    "number_unverified": "号码待核实",
}
EXPIRED_LABEL = "超过有效期未发送"


def failure_label(code: str | None) -> str:
    """The Chinese category of a carrier's failure code (其他 when unknown or missing)."""
    return failure_reasons.label(code)


def reason_of(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A message's reason in Chinese and the raw code or value it comes from (both None for a
    message that was delivered or is still on its way)."""
    state = str(item.get("state") or "")
    if state == "failed":
        code = str(item.get("error_code") or "") or None
        return failure_label(code), code
    if state == "suppressed":
        value = str(item.get("suppress_reason") or "")
        return SUPPRESS_LABELS.get(value, value or "未发送"), value or None
    if state == "undeliverable":
        value = str(item.get("reason") or "")
        return UNDELIVERABLE_LABELS.get(value, value), value or None
    if state == "expired":
        return EXPIRED_LABEL, None
    return None, None


def categories(failures: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, int]:
    """Failure counts by raw code added up by category label, most first (ties by label)."""
    pairs = failures.items() if isinstance(failures, Mapping) else failures
    found: Counter[str] = Counter()
    for code, count in pairs:
        if count:
            found[failure_label(code)] += int(count)
    return dict(sorted(found.items(), key=lambda pair: (-pair[1], pair[0])))
