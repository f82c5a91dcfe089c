"""Verification codes on moto, as both flows keep them (a citizen's number, a staff author's
test phone): five a Beijing day per key, valid five minutes, five wrong tries, bound to their key."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from sms_platform import aws as platform_aws
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import RateLimited, ValidationFailed
from sms_platform.sources import verification_codes

AT = datetime(2025, 3, 3, 23, 50, tzinfo=BEIJING)
FLOWS = [("SUBSCRIPTIONS_TABLE", "otp#hash-1", "hash-1"), ("CONTROL_TABLE", "testphone#acct-1", "acct-1")]


def keep_code(table, pk: str, bound_to: str, at: datetime = AT) -> str:
    code = verification_codes.new_code()
    table.put_item(Item=verification_codes.code_item({"pk": pk, "sk": "code"}, bound_to, code, at, kept="yes"))
    return code


@pytest.mark.parametrize(("table_env", "pk", "bound_to"), FLOWS)
def test_five_codes_a_beijing_day_then_429_until_the_next_day(aws, table_env, pk, bound_to):
    table = platform_aws.table(os.environ[table_env])
    day = {"pk": pk, "sk": "day#2025-03-03"}
    assert [verification_codes.count_today(table, day, AT) for _ in range(5)] == [1, 2, 3, 4, 5]
    with pytest.raises(RateLimited, match="每天最多获取 5 次验证码"):
        verification_codes.count_today(table, day, AT)
    assert int(table.get_item(Key=day)["Item"]["sent"]) == 5  # the refused request counted nothing
    assert verification_codes.count_today(table, {"pk": pk, "sk": "day#2025-03-04"}, AT + timedelta(minutes=15)) == 1


@pytest.mark.parametrize(("table_env", "pk", "bound_to"), FLOWS)
def test_the_right_code_within_five_minutes_is_accepted_with_what_its_flow_kept(aws, table_env, pk, bound_to):
    table = platform_aws.table(os.environ[table_env])
    code = keep_code(table, pk, bound_to)
    item = verification_codes.check(
        table, {"pk": pk, "sk": "code"}, bound_to, code, AT + timedelta(minutes=5), field="code"
    )
    assert item["kept"] == "yes" and code not in str(item)


@pytest.mark.parametrize(("table_env", "pk", "bound_to"), FLOWS)
def test_an_expired_a_wrong_or_a_foreign_code_is_refused_and_five_wrong_tries_void_it(aws, table_env, pk, bound_to):
    table = platform_aws.table(os.environ[table_env])
    key = {"pk": pk, "sk": "code"}
    code = keep_code(table, pk, bound_to)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(ValidationFailed, match="已过期") as expired:
        verification_codes.check(table, key, bound_to, code, AT + timedelta(minutes=5, seconds=1), field="otp")
    with pytest.raises(ValidationFailed, match="^验证码不正确$"):
        verification_codes.check(table, key, "someone-else", code, AT, field="otp")  # bound to its own key
    for _ in range(4):
        with pytest.raises(ValidationFailed, match="^验证码不正确$"):
            verification_codes.check(table, key, bound_to, wrong, AT, field="otp")
    with pytest.raises(ValidationFailed, match="重新获取"):
        verification_codes.check(table, key, bound_to, code, AT, field="otp")  # five wrong tries: void
    assert expired.value.to_body()["error"] == {
        "code": "validation_failed",
        "message": "验证码已过期，请重新获取",
        "field": "otp",
    }
