"""The pure rules of recipient messages: lanes, states, ids, carrier calls, time and limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending.lanes import Lane, SmsKind, is_transactional, lane_for
from sms_platform.sending.messages import (
    ASCII_BODY_LIMIT,
    BATCH_SIZE,
    MessageState,
    QueuedBatch,
    can_move,
    carrier_call_for,
    chunk,
    delay_seconds,
    in_publicity_window,
    is_opt_out_reply,
    message_id,
    next_publicity_opening,
    retry_visibility_seconds,
    send_details_of,
    settle_delay,
    settlement_from_details,
    source_of_out_id,
)

S = MessageState


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("kind", "lane"),
    [
        ("hangup", Lane.HIGH),
        ("triggered", Lane.HIGH),
        ("subscription", Lane.HIGH),
        ("system", Lane.HIGH),
        ("targeted", Lane.NORMAL),
        ("publicity", Lane.BULK),
    ],
)
def test_each_kind_travels_on_its_lane(kind, lane):
    assert lane_for(kind) is lane
    assert lane_for(SmsKind(kind)) is lane
    assert is_transactional(kind) is (kind != "publicity")


def test_a_kind_that_is_not_one_has_no_lane():
    with pytest.raises(ValueError, match="spam"):
        lane_for("spam")


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.QUEUED, S.SENDING, True),
        (S.SENDING, S.SENDING, False),  # a second sender loses
        (S.SENT, S.SENDING, False),  # a redelivered batch never sends again
        (S.SENDING, S.SENT, True),
        (S.SENDING, S.DELIVERED, True),  # a receipt overtaking the sent write
        (S.SENT, S.DELIVERED, True),
        (S.SENT, S.FAILED, True),
        (S.DELIVERED, S.SENT, False),  # a late sent write keeps the final state
        (S.QUEUED, S.SUPPRESSED, True),
        (S.SENDING, S.SUPPRESSED, False),
        (S.SENDING, S.QUEUED, True),  # only when the carrier surely did not take it
        (S.SENT, S.QUEUED, False),
        (S.QUEUED, S.EXPIRED, True),
        (S.FAILED, S.DELIVERED, False),
    ],
)
def test_state_moves(current, target, allowed):
    assert can_move(current, target) is allowed


def test_message_ids_are_deterministic_per_source_and_number():
    assert message_id("send-1", "h1") == message_id("send-1", "h1")
    assert len({message_id("send-1", "h1"), message_id("send-1", "h2"), message_id("send-2", "h1")}) == 3


@pytest.mark.parametrize(
    ("params", "call"),
    [
        ([None, None], "send_sms"),
        ([{"a": "1"}, {"a": "1"}], "send_sms"),
        ([{"a": "1", "b": "2"}, {"b": "2", "a": "1"}], "send_sms"),
        ([{"a": "1"}, {"a": "2"}], "send_batch_sms"),
        ([None, {"a": "1"}], "send_batch_sms"),
    ],
)
def test_identical_texts_go_as_one_send_sms(params, call):
    assert carrier_call_for(params) == call


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (bj(2024, 5, 6, 7, 59, 59), False),
        (bj(2024, 5, 6, 8, 0), True),
        (bj(2024, 5, 6, 20, 59, 59), True),
        (bj(2024, 5, 6, 21, 0), False),
        (datetime(2024, 5, 6, 0, 30, tzinfo=UTC), True),  # 08:30 in Beijing
        (datetime(2024, 5, 6, 13, 30, tzinfo=UTC), False),  # 21:30 in Beijing
    ],
)
def test_the_publicity_window_is_eight_to_nine_beijing_time(at, inside):
    assert in_publicity_window(at) is inside


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        (bj(2024, 5, 6, 22, 30), bj(2024, 5, 7, 8, 0)),
        (bj(2024, 5, 6, 3, 0), bj(2024, 5, 6, 8, 0)),
        (bj(2024, 5, 6, 10, 0), bj(2024, 5, 6, 10, 0)),
        (bj(2024, 12, 31, 21, 0), bj(2025, 1, 1, 8, 0)),
    ],
)
def test_the_next_publicity_opening(at, opening):
    assert next_publicity_opening(at) == opening


@pytest.mark.parametrize(
    ("seconds_ahead", "delay"), [(None, 0), (-5, 0), (0, 0), (0.2, 1), (60, 60), (900, 900), (4000, 900)]
)
def test_delay_seconds_are_capped_at_fifteen_minutes(seconds_ahead, delay):
    from datetime import timedelta

    now = bj(2024, 5, 6, 10, 0)
    due = None if seconds_ahead is None else now + timedelta(seconds=seconds_ahead)
    assert delay_seconds(now, due) == delay


@pytest.mark.parametrize(("count", "seconds"), [(1, 30), (2, 60), (3, 120), (5, 480), (9, 900)])
def test_retry_backoff_is_exponential_and_capped(count, seconds):
    assert retry_visibility_seconds(count) == seconds


@pytest.mark.parametrize(("attempt", "delay"), [(0, None), (1, 60), (2, 300), (4, 900), (5, None)])
def test_settle_rounds(attempt, delay):
    assert settle_delay(attempt) == delay


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], None),
        ([{"OutId": "other", "SendStatus": 3}], None),
        ([{"OutId": "src", "SendStatus": 3}], (S.DELIVERED, None)),
        ([{"OutId": "src", "SendStatus": 2, "ErrCode": "MK:0001"}], (S.FAILED, "MK:0001")),
        ([{"OutId": "src", "SendStatus": 1}], (S.SENT, None)),
        ([{"OutId": "x", "SendStatus": 2}, {"OutId": "src", "SendStatus": "3"}], (S.DELIVERED, None)),
    ],
)
def test_settlement_reads_the_record_with_our_out_id(records, expected):
    found = settlement_from_details(records, "src")
    assert (found and (found.state, found.error_code)) == (expected or None)


@pytest.mark.parametrize(
    "data",
    [
        {"SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"OutId": "a"}]}},
        {"SmsSendDetailDTOs": [{"OutId": "a"}]},
    ],
)
def test_send_details_in_either_nesting(data):
    assert send_details_of(data) == [{"OutId": "a"}]


def test_no_send_details_is_an_empty_list():
    assert send_details_of(None) == [] and send_details_of({}) == []


@pytest.mark.parametrize(
    ("content", "opt_out"),
    [("R", True), ("t", True), (" TD ", True), ("td\n", True), ("退订", True), (" 退订 ", True),
     ("TDD", False), ("退订了吗", False), ("", False), ("请问", False)],
)  # fmt: skip
def test_opt_out_replies(content, opt_out):
    assert is_opt_out_reply(content) is opt_out


FIELDS = dict(
    batch_id="b", kind="triggered", source_id="evt#1#r", office="city", sign_name="威海社保",
    template_code="SMS_1", template_id="t", template_version=1, parts=1,
)  # fmt: skip


def batch(size: int = 1, **changes) -> QueuedBatch:
    lists = dict(
        message_ids=[f"m{n}" for n in range(size)], phone_hashes=[f"h{n}" for n in range(size)], phones="v1.k.sealed"
    )
    return QueuedBatch(**{**FIELDS, **lists, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"message_ids": [], "phone_hashes": []},
        {"message_ids": [f"m{n}" for n in range(BATCH_SIZE + 1)], "phone_hashes": ["h"] * (BATCH_SIZE + 1)},
        {"phone_hashes": ["h0", "h1"]},  # more hashes than message ids
        {"params": [None, None]},
        {"phones": None},  # no numbers at all
        {"phone_tokens": ["v1.k.x"]},  # numbers sealed one by one: not a batch of this version
        {"recipients": [{"message_id": "m0", "phone_hash": "h0"}]},  # recipients as objects: neither
        {"source_id": "has space"},
        {"source_id": "x" * 129},
        {"kind": "spam"},
        {"parts": 0},
    ],
)
def test_a_malformed_batch_is_refused(changes):
    with pytest.raises(ValidationError):
        batch(**changes)


def test_a_batch_body_is_ascii_and_reads_back_as_the_same_batch():
    b = batch(2, shared_params={"单位": "威海社保"}, params=[{"姓名": "张三"}, None])
    body = b.body()
    assert body.isascii()
    assert "\\u5a01" in body  # 威, escaped
    assert QueuedBatch.from_body(body) == b
    assert QueuedBatch.from_body(body.encode()) == b  # as bytes too


def test_a_body_too_long_escaped_is_kept_in_utf8_within_the_queue_limit():
    # 100 recipients with 500 characters of Chinese each: escaped, six bytes a character
    long_values = [{"说明": "社" * 500} for _ in range(BATCH_SIZE)]
    b = batch(BATCH_SIZE, params=long_values)
    body = b.body()
    assert not body.isascii()
    assert len(b.model_dump_json(exclude_defaults=True, ensure_ascii=True)) > ASCII_BODY_LIMIT
    assert len(body.encode()) < 256 * 1024
    assert QueuedBatch.from_body(body) == b


@pytest.mark.parametrize("body", ["", "not json", '{"batch_id": "b1"', "[1, 2]", '"a string"'])
def test_a_body_that_is_not_json_or_not_an_object_is_refused(body):
    with pytest.raises(ValueError):  # noqa: PT011 - malformed JSON and a JSON non-object differ in type
        QueuedBatch.from_body(body)


def test_a_body_reads_as_pydantic_itself_reads_it():
    due = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    b = batch(3, shared_params={"a": "1"}, params=[{"b": "2"}, None, {}], not_before=due)
    body = b.body()
    assert QueuedBatch.from_body(body) == QueuedBatch.model_validate_json(body) == b
    # A body that is JSON but not a batch is refused as pydantic refuses it.
    with pytest.raises(ValidationError):
        QueuedBatch.from_body(body.replace('"kind":"triggered"', '"kind":"spam"'))


def test_recipient_params_override_the_shared_ones():
    b = batch(2, shared_params={"a": "1", "b": "2"}, params=[{"b": "3"}, None])
    assert b.params_for(0) == {"a": "1", "b": "3"}
    assert b.params_for(1) == {"a": "1", "b": "2"}
    assert batch().params_for(0) is None
    assert batch(params=[{"b": "3"}]).params_for(0) == {"b": "3"}


@pytest.mark.parametrize(
    ("params", "indexes", "one"),
    [
        (None, [0, 1, 2], True),
        ([None, None, None], [0, 1, 2], True),
        ([{"b": "2"}, None, {"b": "2"}], [0, 1, 2], False),  # the second falls back to the shared b=1
        ([{"b": "2"}, None, {"b": "2"}], [0, 2], True),
        ([{"b": "1"}, None, {"b": "3"}], [0, 1], True),  # the same text either way
    ],
)
def test_one_text_when_every_picked_recipient_gets_the_same_values(params, indexes, one):
    assert batch(3, shared_params={"b": "1"}, params=params).one_text(indexes) is one


def test_a_part_keeps_the_picked_recipients_in_order_with_their_numbers_sealed_anew():
    b = batch(3, params=[{"x": "0"}, None, {"x": "2"}], attempt=1)
    part = b.part([2, 0], "v1.k.two", batch_id="p", attempt=2)
    assert (part.batch_id, part.attempt, part.source_id) == ("p", 2, b.source_id)
    assert part.message_ids == ["m2", "m0"] and part.phone_hashes == ["h2", "h0"]
    assert part.params == [{"x": "2"}, {"x": "0"}] and part.phones == "v1.k.two"
    with pytest.raises(ValueError, match="sealed again"):
        b.part([0], None)


def test_the_out_id_is_the_source_id_and_leads_back_to_it():
    assert batch().out_id == "evt#1#r"
    assert source_of_out_id("evt#1#r") == "evt#1#r"
    assert source_of_out_id("") is None and source_of_out_id("bad id") is None


def test_chunks_of_a_hundred():
    assert [len(c) for c in chunk(list(range(250)))] == [100, 100, 50]
