"""The number-health rules: which failures count towards a mark, when a number is marked, and
which holds keep a message from a number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.carrier.failure_reasons import is_permanent
from sms_platform.sending.number_health_rules import (
    Failure,
    Hold,
    check_reason,
    counted,
    failure_of_message,
    hold_of,
    needs_mark,
)

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def failure(message: str, *, days: int, code: str = "DB:0101", made_days: int | None = None) -> Failure:
    made = T0 + timedelta(days=days if made_days is None else made_days)
    return Failure(
        message_id=message, source_id=f"send:{message}", kind="targeted", template_id="t1", error_code=code,
        failed_at=T0 + timedelta(days=days, minutes=5), made_at=made,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "permanent"),
    [
        ("DB:0101", True),  # 空号
        ("MI:0073", True),  # 空号
        ("UNDELIV", True),  # 停机
        ("MI:0019", True),  # 停机 (arrears)
        ("MI:0024", False),  # 关机或不在服务区
        ("EXPIRED", False),
        ("MA:0001", False),  # 用户拒收/黑名单
        ("isv.BUSINESS_LIMIT_CONTROL", False),
        ("isv.MOBILE_NUMBER_ILLEGAL", False),  # the number's form, not its life
        ("", False),
        (None, False),
    ],
)
def test_only_a_number_that_is_gone_fails_permanently(code, permanent):
    assert is_permanent(code) is permanent


@pytest.mark.parametrize(
    ("failures", "cleared_days", "threshold", "marked"),
    [
        ([], None, 2, False),
        ([failure("a", days=0)], None, 2, False),  # one send is not enough
        ([failure("a", days=0), failure("b", days=3)], None, 2, True),  # two sends
        ([failure("a", days=0), failure("a", days=0)], None, 2, False),  # the same message reported twice
        ([failure("a", days=0), failure("b", days=3)], None, 3, False),  # the setting asks for three
        ([failure("a", days=0), failure("b", days=1), failure("c", days=2)], None, 3, True),
        ([failure("a", days=0)], None, 1, True),
        ([failure("a", days=0)], None, 0, True),  # a threshold below one still needs a failure
        ([failure("a", days=0), failure("b", days=3)], 1, 2, False),  # verified between the two
        ([failure("a", days=2), failure("b", days=3)], 1, 2, True),  # both after the verification
        # A message made before the verification but failing after it does not count.
        ([failure("a", days=2, made_days=0), failure("b", days=3)], 1, 2, False),
    ],
)
def test_a_number_is_marked_after_enough_permanent_failures_since_it_was_last_cleared(
    failures, cleared_days, threshold, marked
):
    cleared = None if cleared_days is None else T0 + timedelta(days=cleared_days)
    assert needs_mark(failures, cleared, threshold) is marked


def test_counted_failures_are_one_per_message_oldest_first():
    found = counted([failure("b", days=3), failure("a", days=0), failure("b", days=3)], None)
    assert [f.message_id for f in found] == ["a", "b"]


def test_a_failed_message_item_becomes_its_failure():
    item = {
        "message_id": "m1", "source_id": "send:r1", "kind": "publicity", "template_id": "t9",
        "error_code": "UNDELIV", "created_at": "2025-03-01T10:00:00+08:00", "phone_hash": "h",
    }  # fmt: skip
    found = failure_of_message(item, T0)
    assert (found.message_id, found.source_id, found.kind, found.error_code) == (
        "m1",
        "send:r1",
        "publicity",
        "UNDELIV",
    )
    assert found.made_at == datetime.fromisoformat("2025-03-01T10:00:00+08:00") and found.failed_at == T0
    assert Failure.of(found.to_item()) == found


@pytest.mark.parametrize(
    ("state", "kind", "hold"),
    [
        (None, "targeted", None),
        ({}, "publicity", None),
        ({"unverified": False, "blocked": False}, "targeted", None),
        ({"unverified": True}, "targeted", Hold.UNVERIFIED),
        ({"unverified": True}, "publicity", Hold.UNVERIFIED),
        ({"unverified": True}, "triggered", Hold.UNVERIFIED),
        ({"unverified": True}, "subscription", Hold.UNVERIFIED),
        ({"unverified": True}, "hangup", None),  # the caller has just called from it
        ({"unverified": True}, "system", None),  # verification codes prove a number again
        ({"blocked": True}, "hangup", Hold.BLOCKED),  # a block holds whatever sends
        ({"blocked": True}, "system", Hold.BLOCKED),
        ({"blocked": True, "unverified": True}, "targeted", Hold.BLOCKED),
    ],
)
def test_what_holds_a_message_back_from_a_number(state, kind, hold):
    assert hold_of(state, kind) is hold


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        ("本人投诉", "本人投诉"),
        ("  本人来电要求  ", "本人来电要求"),
        ("x", None),
        ("", None),
        (None, None),
        ("长" * 201, None),
    ],
)
def test_a_block_needs_a_reason(reason, kept):
    assert check_reason(reason) == kept
