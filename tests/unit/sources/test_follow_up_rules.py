"""Follow-up sends without AWS: which recipients of a send a follow-up reaches, and how its
fan-out cuts and reads their stored pages."""

from __future__ import annotations

from datetime import datetime

import pytest
from sms_platform.contacts.chunks import ChunkSpec
from sms_platform.foundation.clock import BEIJING
from sms_platform.sources import follow_up_fanout, follow_up_store, follow_ups
from sms_platform.sources.send_request_models import SendRequest

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)


def request(size: int = 3, **changes) -> SendRequest:
    return SendRequest.model_validate(
        {
            "request_id": "a" * 32, "kind": "targeted", "kind_name": "定向通知", "office": "wendeng",
            "office_name": "文登区", "author": {"account_id": "op", "real_name": "孙丽"}, "template_id": "t1",
            "template_version": 1, "template_name": "缴费基数申报提醒", "carrier_code": "SMS_1",
            "sign_name": "文登区社保中心", "text": "x", "values": {}, "audience": {"kind": "unit"},
            "audience_size": size, "parts": 1, "total_parts": size, "status": "fanned_out",
            "status_name": "已全部排队发送", "created_at": NOW, "updated_at": NOW, **changes,
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("items", "refs", "counts"),
    [
        ([], [], (0, 0, 0, 0)),
        (
            [{"state": "failed", "rcp_ref": "unit-1"}, {"state": "undeliverable", "rcp_ref": "unit-2"},
             {"state": "failed", "rcp_ref": "unit-3"}],
            ["unit-1", "unit-2", "unit-3"], (3, 2, 1, 0),
        ),
        # A record reached at two numbers that both failed is followed once.
        ([{"state": "failed", "rcp_ref": "unit-1"}, {"state": "failed", "rcp_ref": "unit-1"}], ["unit-1"],
         (1, 1, 0, 0)),
        # A message with no address-book record (a list's own phone) cannot be followed.
        ([{"state": "undeliverable", "rcp_ref": ""}, {"state": "failed"}, {"state": "failed", "rcp_ref": "unit-9"}],
         ["unit-9"], (1, 1, 0, 2)),
    ],
)  # fmt: skip
def test_a_follow_up_reaches_each_record_not_reached_once(monkeypatch, items, refs, counts):
    asked = {}

    def group_items(group, *, prefix, states):
        asked.update(group=group, prefix=prefix, states=tuple(states))
        return iter(items)

    monkeypatch.setattr(follow_ups.message_store, "group_items", group_items)
    found, summary = follow_ups.missed(request())

    assert found == refs
    assert (summary.recipients, summary.failed, summary.undeliverable, summary.not_in_book) == counts
    assert (summary.request_id, summary.kind, summary.template_name) == ("a" * 32, "unit", "缴费基数申报提醒")
    assert asked == {"group": f"rcp#send#{'a' * 32}", "prefix": None, "states": ("failed", "undeliverable")}


@pytest.mark.parametrize(
    ("size", "per_chunk", "chunks"),
    [
        (1, 5000, [(0, 1)]),
        (100, 5000, [(0, 1)]),
        (101, 5000, [(0, 2)]),
        (250, 100, [(0, 1), (1, 2), (2, 3)]),
        (1000, 300, [(0, 2), (2, 5), (5, 8), (8, 10)]),
    ],
)
def test_a_follow_up_is_cut_into_chunks_of_its_stored_pages(size, per_chunk, chunks):
    specs = follow_up_fanout.plan_chunks(request(size), per_chunk)
    assert [(s.list_start, s.list_end) for s in specs] == chunks
    assert follow_up_store.page_count(size) == chunks[-1][1]


def test_a_chunk_is_read_a_stored_page_at_a_time_with_the_cursor_after_each(monkeypatch):
    stored = {0: ["unit-1", "unit-2"], 1: ["unit-3"], 2: ["unit-4"]}
    monkeypatch.setattr(follow_up_store, "refs_page", lambda request_id, page: stored[page])
    monkeypatch.setattr(follow_up_fanout.lookups, "recipients_by_refs", lambda refs: (list(refs), refs.count("unit-3")))

    pages = list(follow_up_fanout.pages(request(4), ChunkSpec(list_start=0, list_end=3), None))
    resumed = list(follow_up_fanout.pages(request(4), ChunkSpec(list_start=0, list_end=3), {"page": 2}))
    empty = list(follow_up_fanout.pages(request(4), ChunkSpec(list_start=3, list_end=3), None))

    assert [(p.recipients, p.cursor, p.skipped) for p in pages] == [
        (["unit-1", "unit-2"], {"page": 1}, 0),
        (["unit-3"], {"page": 2}, 1),
        (["unit-4"], None, 0),
    ]
    assert [(p.recipients, p.cursor) for p in resumed] == [(["unit-4"], None)]
    assert [(p.recipients, p.cursor) for p in empty] == [([], None)]
