"""A carrier that names each message (Tencent's SerialNo): the dispatcher makes the messages
findable by those ids, then marks them ``sent`` with their id in the same move; a message whose
receipt came first keeps its final state and still gets its id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import message_items, message_store, outbox
from sms_platform.sending.messages import message_id

MORNING = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)
SOURCE = "send:carrier-ids"


def sending(numbers: list[str]) -> list[str]:
    """The numbers' messages queued and taken for sending, as the dispatcher takes them."""
    outbox.enqueue("targeted", SOURCE, "city", "威海社保", template_code="1001", template_id="tpl-1",
                   template_version=1, parts=1, recipients=[(p, None) for p in numbers],
                   shared_params={"name": "张三"})  # fmt: skip
    mids = [message_id(SOURCE, crypto.keyed_hash(p)) for p in numbers]
    for mid in mids:
        assert message_store.mark_sending(mid, uuid.uuid4().hex, SOURCE, MORNING)
    return mids


def test_ids_are_indexed_and_written_with_the_sent_move_even_after_an_early_receipt(aws):
    crypto.reset()
    mids = sending(["13900000001", "13900000002", "13900000003", "13900000004"])
    serials = ["2433:901", "2433:902", "2433:903", None]  # the last number: no id in the answer
    ids = dict(zip(mids, serials, strict=True))

    message_store.index_carrier_ids("tencent", ids.items(), MORNING)
    # The third number's receipt is quicker than the send's answer: it finds its message already.
    assert message_store.messages_of_carrier_ids("tencent", ["2433:903"]) == {"2433:903": mids[2]}
    assert message_store.mark_delivered(mids[2], MORNING) is not None

    group = message_items.SentGroup("targeted", "city", 1, MORNING, "tencent")
    moved = message_store.mark_sent_many(message_items.keys_of(mids), None, MORNING, group, serials)

    assert moved == 3
    items = message_store.get_many(mids)
    assert [(items[m]["state"], items[m].get("carrier_id")) for m in mids] == [
        ("sent", "2433:901"),
        ("sent", "2433:902"),
        ("delivered", "2433:903"),
        ("sent", None),
    ]
    found = message_store.messages_of_carrier_ids("tencent", ["2433:901", "2433:902", "2433:903", "2433:999"])
    assert found == {"2433:901": mids[0], "2433:902": mids[1], "2433:903": mids[2]}

    # Indexing again (a redelivered batch) writes the same items.
    message_store.index_carrier_ids("tencent", ids.items(), MORNING)
    assert message_store.messages_of_carrier_ids("tencent", ["2433:901"]) == {"2433:901": mids[0]}
