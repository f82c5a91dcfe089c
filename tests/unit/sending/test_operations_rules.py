"""Table tests of what IT operations and the replies inbox are shown: the lanes' names as a type,
a lane's counts read from an SQS answer, and a page of replies as staff read it."""

from __future__ import annotations

from typing import get_args

import pytest
from sms_platform.sending import dlq, inbox, lane_depths


def test_the_lane_type_names_every_queue_dlq_knows_in_order():
    assert get_args(dlq.Lane) == tuple(dlq.SOURCE_QUEUES)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({}, {"visible": 0, "in_flight": 0, "delayed": 0}),
        (
            {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "2",
             "ApproximateNumberOfMessagesDelayed": "1"},
            {"visible": 3, "in_flight": 2, "delayed": 1},
        ),
    ],
)  # fmt: skip
def test_a_lanes_counts_come_from_its_queue_attributes(attributes, expected):
    assert lane_depths.counts(attributes) == expected


def test_a_page_of_replies_shows_each_field_staff_read_and_empty_for_one_missing(monkeypatch):
    stored = {field: f"<{field}>" for field in inbox.PUBLIC_FIELDS}
    bare = {**stored, "sign_name": None, "send_time": None}
    monkeypatch.setattr(inbox, "list_replies", lambda month, limit, cursor: ([stored, bare], "next-page"))

    page = inbox.replies("2025-03", limit=2)

    assert page.cursor == "next-page"
    assert page.model_dump()["replies"][0] == {
        "reply_id": "<reply_id>", "received_at": "<received_at>", "send_time": "<send_time>",
        "phone_masked": "<phone_masked>", "content": "<content>", "sign_name": "<sign_name>",
    }  # fmt: skip
    assert (page.replies[1].sign_name, page.replies[1].send_time) == ("", "")
    assert list(page.model_dump()["replies"][0]) == ["reply_id", "received_at", "send_time", "phone_masked",
                                                     "content", "sign_name"]  # fmt: skip
