"""Per-number frequency counters on the limits table (moto), written as the dispatcher writes
them: with each message's ``queued → sending`` move, in one transaction. A message counts once
however often its batch comes back, a full window refuses without counting anything and names
the window to wait for (or, for publicity over its day, to suppress), and a message put back
because the carrier did not take it gives its counts back, once."""

from __future__ import annotations

from datetime import datetime

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import frequency_limits, message_store
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.message_items import NewMessage, keys_of
from sms_platform.sending.messages import LimitRules, MessageState, limit_specs

PHONE = "phone-hash-1"
NOT_QUEUED = "refused by its own move"


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


def counters_at(at: datetime, kind: str, template: str) -> frequency_limits.BatchCounters:
    return frequency_limits.BatchCounters(limit_specs(LimitRules(), SmsKind(kind), template, at))


def take(at: datetime, mid: str, *, kind: str = "targeted", template: str = "SMS_1", phone: str = PHONE):
    """Take message ``mid`` for sending as the dispatcher does (queued first if it is new): None
    when it fits, else what refused it (the full window's attribute, its end and what happens
    to the message; or its own move, when it is no longer queued)."""
    new = NewMessage(
        message_id=mid, kind=kind, source_id="src", office="city", batch_id="b", sign_name="威海社保",
        template_code=template, template_id="t", template_version=1, parts=1, phone_hash=phone, phone_masked="m",
    )  # fmt: skip
    message_store.record(new, MessageState.QUEUED, at)
    counters = counters_at(at, kind, template)
    outcome = message_store.mark_sending_many(
        keys_of([mid]), f"attempt-{mid}", "src", at, counters=counters, phone_hashes=[phone]
    )
    assert outcome.unwritten == []
    refusal = outcome.refused.get(0)
    if refusal is None:
        return None
    if len(counters) in refusal.failed:
        return NOT_QUEUED
    window = counters.refused(refusal.action, refusal.item)
    return window.field, window.ends_at, window.over_limit


def put_back(taken_at: datetime, mid: str, at: datetime, *, phone: str = PHONE) -> bool:
    """The carrier did not take ``mid``'s request: back to queued, its counts given back."""
    counters = counters_at(taken_at, "targeted", "SMS_1")
    moved = message_store.requeue_many(keys_of([mid]), f"attempt-{mid}", at, releases=[counters.releases(phone)])
    return moved == [0]


def usage(at: datetime, field: str, *, kind: str = "targeted", template: str = "SMS_1", phone: str = PHONE) -> int:
    spec = next(s for s in limit_specs(LimitRules(), SmsKind(kind), template, at) if s.field == field)
    return frequency_limits.usage(spec, phone)


def test_a_message_counts_once_however_often_its_batch_comes_back(aws):
    assert take(bj(2024, 5, 6, 10, 15), "m1") is None
    for at in (bj(2024, 5, 6, 10, 15, 40), bj(2024, 5, 6, 10, 40)):  # a redelivered batch, a retried invocation
        assert take(at, "m1") == NOT_QUEUED
    assert usage(bj(2024, 5, 6, 10, 15), "hour") == 1
    assert usage(bj(2024, 5, 6, 10, 15), "min15") == 1


def test_a_message_put_back_gives_its_counts_back_once(aws):
    taken_at = bj(2024, 5, 6, 10, 15)
    assert take(taken_at, "m1") is None
    assert put_back(taken_at, "m1", bj(2024, 5, 6, 10, 15, 2))
    assert not put_back(taken_at, "m1", bj(2024, 5, 6, 10, 15, 3))  # no longer this attempt's: nothing given back
    assert (usage(taken_at, "hour"), usage(taken_at, "min15")) == (0, 0)
    assert take(bj(2024, 5, 6, 10, 15, 30), "m2") is None  # the minute has room again
    assert take(bj(2024, 5, 6, 10, 16), "m1") is None  # and the message is taken once more, counted once
    assert usage(taken_at, "hour") == 2


def test_the_same_template_to_a_number_once_a_minute(aws):
    assert take(bj(2024, 5, 6, 10, 15, 5), "m1") is None
    assert take(bj(2024, 5, 6, 10, 15, 40), "m2") == ("min15", bj(2024, 5, 6, 10, 16), "delay")
    assert usage(bj(2024, 5, 6, 10, 15), "hour") == 1  # refused: counted in no window
    assert take(bj(2024, 5, 6, 10, 16), "m2") is None
    assert usage(bj(2024, 5, 6, 10, 16), "hour") == 2


def test_the_same_template_to_a_number_five_times_an_hour(aws):
    for minute in range(5):
        assert take(bj(2024, 5, 6, 10, minute), f"m{minute}") is None
    assert take(bj(2024, 5, 6, 10, 5), "m5") == ("hour", bj(2024, 5, 6, 11, 0), "delay")
    # the minute and the hour both full: wait for the hour, the later end
    assert take(bj(2024, 5, 6, 10, 4, 30), "m6") == ("hour", bj(2024, 5, 6, 11, 0), "delay")
    assert usage(bj(2024, 5, 6, 10, 5), "min05") == 0
    assert take(bj(2024, 5, 6, 11, 0), "m5") is None  # a new hour, a new item


def test_other_templates_and_other_numbers_have_their_own_counters(aws):
    at = bj(2024, 5, 6, 10, 15)
    assert take(at, "m1") is None
    assert take(at, "m2", template="SMS_2") is None
    assert take(at, "m3", phone="phone-hash-2") is None
    assert take(at, "m4") == ("min15", bj(2024, 5, 6, 10, 16), "delay")


def test_a_fourth_publicity_message_in_a_beijing_day_is_suppressed(aws):
    for n in range(3):
        assert take(bj(2024, 5, 6, 9 + n, 0), f"p{n}", kind="publicity", template=f"SMS_{n}") is None
    refused = take(bj(2024, 5, 6, 20, 59), "p3", kind="publicity", template="SMS_3")
    assert refused == ("day", bj(2024, 5, 7, 0, 0), "suppress")
    assert usage(bj(2024, 5, 6, 20, 59), "hour", kind="publicity", template="SMS_3") == 0  # nothing counted
    assert take(bj(2024, 5, 7, 8, 0), "p3", kind="publicity", template="SMS_3") is None


@pytest.mark.parametrize("kind", ["targeted", "hangup"])
def test_transactional_messages_have_no_daily_limit(aws, kind):
    for n in range(6):
        assert take(bj(2024, 5, 6, 9 + n, 0), f"t{n}", kind=kind, template=f"SMS_{n}") is None


class BusyCounters:
    """The low-level client, but every transaction touching a counter item is cancelled by a
    conflict (other sends keep the number's counter items busy)."""

    def __init__(self, client, limits_table: str) -> None:
        self.client, self.limits_table = client, limits_table

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's name
        from botocore.exceptions import ClientError

        if any(action["Update"]["TableName"] == self.limits_table for action in TransactItems):
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            reasons = [{"Code": "TransactionConflict"} for _ in TransactItems]
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
        return self.client.transact_write_items(TransactItems=TransactItems)


def test_a_message_whose_counts_cannot_be_given_back_is_still_put_back(aws, monkeypatch):
    from sms_platform import aws as platform_aws

    taken_at = bj(2024, 5, 6, 10, 15)
    assert take(taken_at, "m1") is None
    busy = BusyCounters(platform_aws.client("dynamodb"), frequency_limits._table().name)
    monkeypatch.setattr(message_store, "_client", lambda: busy)

    assert put_back(taken_at, "m1", bj(2024, 5, 6, 10, 15, 2))  # queued again, not left sending
    assert message_store.get("m1")["state"] == "queued"
    assert usage(taken_at, "hour") == 1  # its count stays: at worst it waits one window more


def test_a_message_that_cannot_be_put_back_at_all_fails_the_batch_so_it_is_settled_later(aws, monkeypatch):
    from sms_platform import aws as platform_aws

    taken_at = bj(2024, 5, 6, 10, 15)
    assert take(taken_at, "m1") is None
    busy = BusyCounters(platform_aws.client("dynamodb"), message_store._table().name)  # the message itself busy
    monkeypatch.setattr(message_store, "_client", lambda: busy)

    with pytest.raises(RuntimeError, match="could not be put back"):
        put_back(taken_at, "m1", bj(2024, 5, 6, 10, 15, 2))
    assert message_store.get("m1")["state"] == "sending"  # as after a crash: settled by asking the carrier
