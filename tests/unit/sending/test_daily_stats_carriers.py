"""Table tests of the daily statistics' carrier dimension: what a message adds for the carrier it
was handed to, how a day's items add up per carrier, and which moves count a receipt for the
carrier's health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sms_platform.sending import daily_stats

SENDING = {"message_id": "ab12", "state": "sending", "parts": 2, "kind": "publicity", "office": "city",
           "carrier": "tencent", "sending_at": "2026-03-02T09:00:00+08:00"}  # fmt: skip
SENT = {**SENDING, "state": "sent", "biz_id": "S1"}
DELIVERED = {**SENT, "state": "delivered", "receipt_at": "2026-03-02T09:00:05+08:00"}
FAILED = {**SENT, "state": "failed", "error_code": "LimitExceeded.PhoneNumberDailyLimit", "receipt_at": "t"}
REFUSED = {**SENDING, "state": "failed", "error_code": "InvalidParameterValue.IncorrectPhoneNumber"}
NO_CARRIER = {**SENT}
del NO_CARRIER["carrier"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (SENDING, SENT, {"sent": 1, "parts": 2, "carrier:tencent:sent": 1, "carrier:tencent:parts": 2}),
        (SENT, DELIVERED, {"delivered": 1, "carrier:tencent:delivered": 1}),
        (SENT, FAILED, {"failed": 1, "f#LimitExceeded.PhoneNumberDailyLimit": 1, "carrier:tencent:failed": 1,
                        "carrier:tencent:f#LimitExceeded.PhoneNumberDailyLimit": 1}),
        # refused by the carrier: not taken (no parts billed), but its failure is the carrier's to show
        (SENDING, REFUSED, {"failed": 1, "f#InvalidParameterValue.IncorrectPhoneNumber": 1, "carrier:tencent:failed": 1,
                            "carrier:tencent:f#InvalidParameterValue.IncorrectPhoneNumber": 1}),
        # a message with no carrier recorded counts in the office's row only
        ({**SENDING, "carrier": None}, NO_CARRIER, {"sent": 1, "parts": 2}),
    ],
)  # fmt: skip
def test_what_a_move_adds_for_its_carrier(old, new, expected):
    assert daily_stats.delta(old, new) == dict(sorted(expected.items()))


class _Recorder:
    name = "stats"

    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update_item(self, **request) -> None:
        self.updates.append(request)


@pytest.mark.parametrize(("parts", "times"), [(1, 1), (2, 100), (0, 5)])
def test_a_batchs_sent_moves_count_for_its_carrier_as_one_by_one(monkeypatch, parts, times):
    table = _Recorder()
    monkeypatch.setattr(daily_stats, "_table", lambda: table)
    sending_at = datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=-5)))
    sending = {**SENDING, "message_id": "7f3a", "parts": parts, "sending_at": sending_at.isoformat()}

    daily_stats.count(sending, {**sending, "state": "sent", "biz_id": "B1"}, times)
    daily_stats.count_sent("7f3a", "publicity", "city", parts, sending_at, times, carrier="tencent")

    one_by_one, batch = table.updates
    assert sorted(batch["ExpressionAttributeNames"].values()) == sorted(one_by_one["ExpressionAttributeNames"].values())
    added = {batch["ExpressionAttributeNames"][f"#c{i}"]: batch["ExpressionAttributeValues"][f":c{i}"]
             for i in range(len(batch["ExpressionAttributeNames"]))}  # fmt: skip
    assert added["carrier:tencent:sent"] == times
    assert added.get("carrier:tencent:parts", 0) == parts * times


def test_items_add_up_per_carrier():
    items = [
        {"pk": "stats#2026-03-02#0", "sk": "publicity#city", "sent": 5, "carrier:alibaba:sent": 3,
         "carrier:alibaba:parts": 6, "carrier:alibaba:delivered": 2, "carrier:alibaba:failed": 1,
         "carrier:alibaba:f#MK:0005": 1, "carrier:tencent:sent": 2, "carrier:tencent:parts": 4},
        {"pk": "stats#2026-03-03#5", "sk": "targeted#wendeng", "carrier:tencent:sent": 1, "carrier:tencent:parts": 1,
         "carrier:tencent:delivered": 3, "carrier:tencent:failed": 1, "carrier:tencent:f#MK:0005": 1},
    ]  # fmt: skip
    totals = daily_stats.carrier_totals(items)
    assert totals == {
        "alibaba": {"sent": 3, "parts": 6, "delivered": 2, "failed": 1, "delivery_rate": 0.6667,
                    "failure_reasons": {"MK:0005": 1}},
        "tencent": {"sent": 3, "parts": 5, "delivered": 3, "failed": 1, "delivery_rate": 0.75,
                    "failure_reasons": {"MK:0005": 1}},
    }  # fmt: skip
    # the office rows are unchanged by the carrier counters beside them
    assert [row["sent"] for row in daily_stats.rows_of(items)] == [5, 0]


@pytest.mark.parametrize(
    ("old", "new", "receipt"),
    [
        (SENT, DELIVERED, True),
        (SENT, FAILED, True),
        (DELIVERED, {**DELIVERED, "state": "failed"}, False),  # a second receipt: counted once
        (SENDING, SENT, False),
        (SENDING, REFUSED, False),  # the carrier's answer, not a receipt
        (SENDING, {**DELIVERED, "carrier": ""}, False),
        ({**SENT, "sending_at": None}, {**DELIVERED, "sending_at": None}, False),
    ],
)
def test_which_moves_count_a_receipt_for_the_carriers_health(old, new, receipt):
    assert daily_stats.is_receipt(old, new) is receipt
