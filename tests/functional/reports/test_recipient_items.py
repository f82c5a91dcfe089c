"""A subscription item's recipients of a month through the staff API on moto: its scheduled
sends are listed under the item and the Beijing month they went out in, with the subscriber's
name and masked ID as the service channel gave them."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime

from sms_platform.foundation.identifiers import mask_id_number
from sms_platform.sources import subscription_sends

from tests.events import schedule_event
from tests.functional.sources.test_subscribe_channels import (  # noqa: F401
    PERSON,
    REVIEWER,
    clock,
    product,
    subscribed,
    templates,
)
from tests.staff_calls import call


def test_an_items_monthly_sends_are_its_recipients_of_that_month(aws, product, clock, lambda_context):
    import periodic

    subscribed(aws, product, lambda_context)
    subscription_sends.remember_event_data("person", PERSON, "pension.paid", {"amount": 3120.5, "month": "5月"},
                                           datetime(2024, 6, 1, tzinfo=UTC))  # fmt: skip
    clock.set(datetime(2024, 7, 4, 16, 30, tzinfo=UTC))  # 00:30 on 5 July in Beijing, still 4 July in UTC
    assert periodic.handler(schedule_event(), lambda_context)["sent"] == 1

    july = call(REVIEWER, "GET", f"/v1/staff/recipients/item/{product.product_id}", query={"period": "2024-07"})
    june = call(REVIEWER, "GET", f"/v1/staff/recipients/item/{product.product_id}", query={"period": "2024-06"})

    assert july.status == 200, july.body
    assert july.body["title"] == "订阅项目：养老金到账提醒（2024-07）"
    assert [(r["phone_masked"], r["name"], r["id_masked"], r["state"]) for r in july.body["rows"]] == [
        ("136****3333", "张三", mask_id_number(PERSON), "sending"),
    ]  # fmt: skip
    assert june.body["rows"] == [] and june.body["totals"]["all"] == 0
