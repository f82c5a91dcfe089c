"""Shared set-up for send-request, fan-out and operations tests on moto.

- ``sends``: moto from template.yaml, the carrier simulator, a FixedClock on a Monday at 10:00
  Beijing time, and a ``Pump`` that runs the fan-out queue and the three lanes through their
  real handlers the way Lambda's event source mappings would (moving time on when only delayed
  messages are left).
- Templates become active the real way (tests/template_support.py): written, submitted, approved
  by another reviewer, filed with the carrier simulator and activated by the filing poller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.staff.context import Office, Role

from tests.contacts_support import person
from tests.events import schedule_event
from tests.functional.dispatch_support import LaneRunner, _moto_queue
from tests.staff_calls import call, member

MONDAY_10 = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)

CITY_OPERATOR = member("cityop", Office.city, Role.city_operator, real_name="李敏")
REVIEWER = member("rev1", Office.city, Role.city_reviewer, real_name="王芳")
REVIEWER_2 = member("rev2", Office.city, Role.city_reviewer, real_name="赵强")
WENDENG = member("wdop", Office.wendeng, Role.district_operator, real_name="孙丽")
HUANCUI = member("hcop", Office.huancui, Role.district_operator)
IT_OPS = member("ops1", Office.it, Role.it_ops)
AGENT = member("agent1", Office.hotline, Role.hotline_agent)

NOTICE = "${unit}提醒您：本年度社保缴费基数申报将于${date}截止，请及时办理。"
NOTICE_VARS = [{"name": "unit", "type": "text", "max_length": 10}, {"name": "date", "type": "date", "max_length": 10}]
NOTICE_VALUES = {"unit": "文登社保", "date": "2025-03-31"}
PUBLICITY = "医保电子凭证可在手机上激活使用，看病购药更方便。拒收请回复R"


@dataclass
class Pump(LaneRunner):
    """The fan-out queue and the lanes, each record handed to its real handler."""

    fanout_responses: list[dict[str, Any]] = field(default_factory=list)
    lane_depths: list[int] = field(default_factory=list)  # lane messages waiting after each fan-out run

    def urls(self) -> list[str]:
        return [self.provisioned.queue_url("FanoutQueue"), *super().urls()]

    def invoke(self, event: dict[str, Any], url: str) -> dict[str, Any]:
        if url != self.provisioned.queue_url("FanoutQueue"):
            return super().invoke(event, url)
        import fanout
        from sms_platform import aws

        response = fanout.handler(event, self.context)
        self.responses.append(response)
        self.fanout_responses.append(response)
        self.lane_depths.append(len(self.pending("NormalQueue")) + len(self.pending("BulkQueue")))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return response

    def receive_event(self, url: str) -> dict[str, Any]:
        if url != self.provisioned.queue_url("FanoutQueue"):
            return super().receive_event(url)
        # The fan-out's event source mapping has BatchSize 1: one chunk per invocation.
        from sms_platform import aws

        sqs = aws.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
             "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}
            for m in answer.get("Messages", [])
        ]  # fmt: skip
        return {"Records": records}

    def fanout_pending(self) -> list[Any]:
        return list(_moto_queue(self.provisioned.queue_url("FanoutQueue"))._messages)

    def run_fanout(self, *, max_steps: int = 200) -> None:
        """Only the fan-out queue (the lanes keep what it queued), until it is empty or all delayed."""
        url = self.provisioned.queue_url("FanoutQueue")
        for _ in range(max_steps):
            event = self.receive_event(url)
            if not event["Records"]:
                return
            self.invoke(event, url)
        raise AssertionError("fan-out did not settle")


@dataclass
class World:
    clock: FixedClock
    simulator: Any
    pump: Pump
    provisioned: Any

    def release(self) -> dict[str, Any]:
        import release

        from tests.conftest import LambdaContext

        return release.handler(schedule_event(), LambdaContext())


@pytest.fixture
def sends(aws, carrier_simulator, lambda_context):
    from sms_platform.foundation import crypto

    crypto.reset()
    clock = FixedClock(MONDAY_10)
    set_clock(clock)
    carrier_simulator.review_delay = 0  # filed templates are approved at once
    yield World(clock, carrier_simulator, Pump(aws, clock, lambda_context), aws)
    set_clock(None)
    crypto.reset()


def active_template(
    clock: FixedClock, *, category: str = "targeted", office: Office = Office.wendeng, text: str | None = None
) -> str:
    """A targeted notice (``NOTICE``) or publicity (``PUBLICITY``) template of ``office``, made
    active through review, filing and the filing poller (tests/template_support.py)."""
    from tests import template_support

    targeted = category == "targeted"
    return template_support.active_template(
        clock,
        category=category,
        office=office,
        text=text or (NOTICE if targeted else PUBLICITY),
        variables=NOTICE_VARS if targeted else (),
        name="缴费基数申报提醒" if targeted else "医保电子凭证宣传",
    )


def add_people(count: int, *, district: str = "wendeng", start: int = 0, **overrides: Any) -> None:
    from sms_platform.contacts import collection
    from sms_platform.foundation.clock import get_clock

    records = [person(start + i, district=district, **overrides) for i in range(count)]
    for first in range(0, len(records), 500):
        results = collection.upsert_batch(records[first : first + 500], at=get_clock().now())
        assert {r.status for r in results} <= {"created", "unchanged", "updated"}, results[0]


def propose(author, template_id: str, *, audience: dict | None = None, values: dict | None = None,
            send_at: datetime | None = None):  # fmt: skip
    body: dict[str, Any] = {
        "template_id": template_id,
        "values": NOTICE_VALUES if values is None else values,
        "audience": audience or {"kind": "person", "districts": ["wendeng"]},
    }
    if send_at is not None:
        body["send_at"] = send_at.isoformat()
    return call(author, "POST", "/v1/staff/send-requests", body)


def approved_request(world: World, template_id: str, author=WENDENG, **kwargs: Any) -> str:
    proposed = propose(author, template_id, **kwargs)
    assert proposed.status == 200, proposed.body
    request_id = proposed.body["request_id"]
    answer = call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/approval")
    assert answer.status == 200, answer.body
    return request_id


def detail(request_id: str, who=REVIEWER) -> dict[str, Any]:
    answer = call(who, "GET", f"/v1/staff/send-requests/{request_id}")
    assert answer.status == 200, answer.body
    return answer.body
