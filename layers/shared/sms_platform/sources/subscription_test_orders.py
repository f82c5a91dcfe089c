"""A service channel's test key on the subscription routes (CONTRACTS §7): checked as its live
twin would be, answered in the same shapes (the routes add ``"test": true``), and nothing kept
that a live call would change: no subscription, no order, no payment.

- Verification codes: a test key's code never reaches the carrier (the dispatcher settles it) and
  is always ``TEST_CODE``, so the channel can go on to order with it. It is kept beside the
  number's live code and counted apart from the number's live codes of the day
  (``subscription_store``): testing never uses up a citizen's five codes nor replaces the code
  they are waiting for.
- Orders: a test order is never stored. Its id carries its amount and payment deadline with a
  keyed signature (``t<amount>-<deadline, Unix s>-<subscription part>-<signature>``), so the
  payment notification of a test order is refused as a live one would be (unknown order, lapsed,
  wrong amount) and otherwise answered paid, without any record to read or write.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from typing import Any

from sms_platform.foundation import crypto
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.sources.subscription_models import PAY_WINDOW, Item

TEST_CODE = "123456"
_ORDER_ID = re.compile(r"t(\d{1,12})-(\d{1,12})-([0-9a-f]{8})-([0-9a-f]{16})")


def _signature(amount_fen: int, deadline: int, part: str) -> str:
    return crypto.keyed_hash(f"{amount_fen}|{deadline}|{part}", purpose="test-order")[:16]


def order(subscription_id: str, item: Item, now: datetime) -> dict[str, Any]:
    """A test order's answer ``{"order_id", "amount_fen", "pay_before"}`` for one period of
    ``item``, as a live order's would be (payable for ``PAY_WINDOW``)."""
    deadline = int((now + PAY_WINDOW).timestamp())
    part = crypto.keyed_hash(subscription_id, purpose="test-order")[:8]
    order_id = f"t{item.price_fen}-{deadline}-{part}-{_signature(item.price_fen, deadline, part)}"
    pay_before = datetime.fromtimestamp(deadline, UTC).astimezone(now.tzinfo)
    return {"order_id": order_id, "amount_fen": item.price_fen, "pay_before": pay_before.isoformat()}


def is_test_order(order_id: str) -> bool:
    """Live order ids start with ``o``: anything starting with ``t`` is answered here."""
    return order_id.startswith("t")


def payment(order_id: str, amount_fen: int, now: datetime) -> dict[str, Any]:
    """The payment notification of a test order, refused as a live order's would be; nothing is
    activated or written."""
    found = _ORDER_ID.fullmatch(order_id)
    if found is None:
        raise NotFound("没有这个订单")
    amount, deadline, part, signature = int(found[1]), int(found[2]), found[3], found[4]
    if not hmac.compare_digest(signature, _signature(amount, deadline, part)):
        raise NotFound("没有这个订单")
    if now.timestamp() > deadline:
        raise Conflict("订单已超过 30 分钟未支付，已失效")
    if amount_fen != amount:
        raise Conflict("支付金额与订单金额不符")
    return {"order_id": order_id, "status": "paid", "test": True}
