"""Table tests of the daily statistics' counting rules: what each state move changes, and how
counter items add up to report rows."""

from __future__ import annotations

from datetime import date

import pytest
from sms_platform.sending import daily_stats

QUEUED = {"message_id": "ab12", "state": "queued", "parts": 2, "kind": "triggered", "office": "city"}
SENDING = {**QUEUED, "state": "sending"}
SENT = {**QUEUED, "state": "sent", "biz_id": "B1"}
DELIVERED = {**SENT, "state": "delivered"}
FAILED_BY_CARRIER = {**SENT, "state": "failed", "error_code": "MK:0005", "receipt_at": "t"}
REFUSED = {**SENDING, "state": "failed", "error_code": "isv.MOBILE_NUMBER_ILLEGAL"}  # never taken by the carrier
SETTLED_DELIVERED = {**SENDING, "state": "delivered"}  # settled by QuerySendDetails, no BizId yet
SUPPRESSED = {**QUEUED, "state": "suppressed", "suppress_reason": "opt_out"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, QUEUED, {}),
        (QUEUED, SENDING, {}),
        (SENDING, SENT, {"sent": 1, "parts": 2}),
        (SENT, DELIVERED, {"delivered": 1}),
        (SENT, FAILED_BY_CARRIER, {"failed": 1, "f#MK:0005": 1}),
        # A receipt that overtook the "sent" write: sent and delivered in one move.
        (SENDING, {**DELIVERED, "receipt_at": "t"}, {"sent": 1, "parts": 2, "delivered": 1}),
        # The carrier refused the request: failed, but nothing was sent or billed.
        (SENDING, REFUSED, {"failed": 1, "f#isv.MOBILE_NUMBER_ILLEGAL": 1}),
        # A settlement said delivered; the receipt then says failed: the count moves.
        (SETTLED_DELIVERED, FAILED_BY_CARRIER, {"delivered": -1, "failed": 1, "f#MK:0005": 1}),
        (SENDING, SETTLED_DELIVERED, {"sent": 1, "parts": 2, "delivered": 1}),
        (QUEUED, SUPPRESSED, {"suppressed": 1, "s#opt_out": 1}),
        (None, {**QUEUED, "state": "undeliverable"}, {"undeliverable": 1}),
        (QUEUED, {**QUEUED, "state": "expired"}, {"expired": 1}),
        # The same receipt again: nothing changes.
        (DELIVERED, DELIVERED, {}),
        (SENDING, {**SENDING, "state": "failed"}, {"failed": 1, "f#UNKNOWN": 1}),
    ],
)
def test_what_a_state_move_changes_in_the_counters(old, new, expected):
    assert daily_stats.delta(old, new) == expected


@pytest.mark.parametrize(
    ("times", "day"),
    [
        ({"created_at": "2025-03-03T15:59:59.999+00:00"}, date(2025, 3, 3)),  # 23:59 in Beijing
        ({"created_at": "2025-03-03T16:00:00.000+00:00"}, date(2025, 3, 4)),  # midnight in Beijing
        ({"created_at": "2025-03-04T08:30:00.000+08:00"}, date(2025, 3, 4)),
        # Handed to the carrier after midnight: it counts on the day it was sent (and billed).
        (
            {"created_at": "2025-03-03T15:59:00.000+00:00", "sending_at": "2025-03-03T16:00:01.000+00:00"},
            date(2025, 3, 4),
        ),
        (
            {"created_at": "2025-03-03T01:00:00.000+00:00", "sending_at": "2025-03-03T02:00:00.000+00:00"},
            date(2025, 3, 3),
        ),
    ],
)
def test_a_message_counts_on_the_beijing_day_it_was_sent_or_else_created(times, day):
    assert daily_stats.day_of(times) == day


@pytest.mark.parametrize("message_id", ["0000", "ffff", "1a2b3c", "zz-not-hex", ""])
def test_every_message_lands_in_one_of_the_shards(message_id):
    assert daily_stats.shard_of(message_id) in range(daily_stats.SHARDS)


def _item(day: str, shard: int, kind: str, office: str, **counts: int) -> dict:
    return {"pk": f"stats#{day}#{shard}", "sk": f"{kind}#{office}", "expires_at": 1, **counts}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], []),
        (
            [
                _item("2025-03-03", 0, "triggered", "city", sent=3, delivered=2, parts=3),
                _item("2025-03-03", 5, "triggered", "city", delivered=0, failed=1, **{"f#MK:0005": 1}),
                _item("2025-03-03", 5, "publicity", "wendeng", suppressed=2, **{"s#opt_out": 2}),
                _item("2025-03-02", 1, "triggered", "city", sent=1, failed=1, **{"f#A": 1}),
            ],
            [
                ("2025-03-02", "triggered", "city", 1, 0, 1, 0, 0.0, {"A": 1}, {}),
                ("2025-03-03", "publicity", "wendeng", 0, 0, 0, 2, None, {}, {"opt_out": 2}),
                ("2025-03-03", "triggered", "city", 3, 2, 1, 0, round(2 / 3, 4), {"MK:0005": 1}, {}),
            ],
        ),
        # Failure reasons most frequent first, then by code.
        (
            [_item("2025-03-03", 2, "hangup", "hotline", failed=6, **{"f#B": 1, "f#C": 3, "f#A": 1, "f#D": 0})],
            [("2025-03-03", "hangup", "hotline", 0, 0, 6, 0, 0.0, {"C": 3, "A": 1, "B": 1}, {})],
        ),
    ],
)
def test_counter_items_add_up_per_day_kind_and_office(items, expected):
    rows = daily_stats.rows_of(items)
    seen = [
        (
            r["day"],
            r["kind"],
            r["office"],
            r["sent"],
            r["delivered"],
            r["failed"],
            r["suppressed"],
            r["delivery_rate"],
            r["failure_reasons"],
            r["suppress_reasons"],
        )
        for r in rows
    ]
    assert seen == expected
    for r in rows:
        assert list(r["failure_reasons"]) == list(expected[rows.index(r)][8])  # the order matters too


class _Recorder:
    """A table that keeps the counter updates it is given."""

    name = "stats"

    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update_item(self, **request) -> None:
        self.updates.append(request)


@pytest.mark.parametrize(("parts", "times"), [(1, 1), (2, 100), (3, 37), (0, 5)])
def test_a_batchs_sent_moves_count_as_the_same_moves_one_by_one_would(monkeypatch, parts, times):
    from datetime import datetime, timedelta, timezone

    table = _Recorder()
    monkeypatch.setattr(daily_stats, "_table", lambda: table)
    sending_at = datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2 March in Beijing
    sending = {**SENDING, "message_id": "7f3a", "parts": parts, "sending_at": sending_at.isoformat()}

    daily_stats.count(sending, {**sending, "state": "sent", "biz_id": "B1"}, times)
    daily_stats.count_sent("7f3a", "triggered", "city", parts, sending_at, times)

    one_by_one, batch = table.updates
    assert batch == one_by_one
    assert batch["Key"] == {"pk": f"stats#2026-03-02#{daily_stats.shard_of('7f3a')}", "sk": "triggered#city"}
