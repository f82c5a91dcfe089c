"""The health switch through the real handlers on moto, against both carrier simulators: the bulk
lane weighs Alibaba alone (Tencent the standby); Alibaba starts failing and its batches go to
Tencent; the health watch (its scheduled handler) takes Alibaba out, the next send goes through
Tencent without asking Alibaba first, and once its probation has passed (the clock moved) Alibaba
is back and carries the lane again. The daily statistics count each carrier's part."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import carrier_route_cache, outbox
from sms_platform.staff.context import Office, Role
from sms_platform.templates import workflow

from infra.tencent_simulator.receipts import receipt as tencent_receipt
from tests import template_support
from tests.events import api_event, schedule_event
from tests.functional.dispatch_support import CALLBACK_TOKEN, lanes_with_both_carriers, push
from tests.staff_calls import call, member

MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=BEIJING)
TEXT = "医保电子凭证可在手机上激活使用，看病购药更方便。拒收请回复R"
IT_OPS = member("ops1", Office.it, Role.it_ops)
REVIEWER = member("rev1", Office.city, Role.city_reviewer)


@pytest.fixture
def lanes(aws, carrier_simulator, tencent_simulator, lambda_context):
    with lanes_with_both_carriers(aws, tencent_simulator, lambda_context, MORNING) as runner:
        yield runner


def publicity_template(lanes) -> tuple[str, str]:
    """A publicity template filed with, and approved by, both carriers: its id and Alibaba's code."""
    template_id = template_support.active_template(lanes.clock, category="publicity", office=Office.city, text=TEXT)
    return template_id, workflow.find_template(template_id).numbered(1).carrier_code or ""


def publicity(template: tuple[str, str], source_id: str, start: int, count: int) -> list[str]:
    template_id, code = template
    numbers = [f"1370000{i:04d}" for i in range(start, start + count)]
    outbox.enqueue("publicity", source_id, "city", "威海社保", template_code=code, template_id=template_id,
                   template_version=1, parts=1, recipients=[(p, None) for p in numbers])  # fmt: skip
    return numbers


def sent_by(simulator, source_id: str) -> set[str]:
    return {m.phone for m in simulator.sent if m.out_id == source_id}


def tencent_receipts(lanes, simulator, source_id: str) -> None:
    """Tencent's receipts of a send, pushed as Tencent pushes them."""
    deadline = time.monotonic() + 10
    while any(m.status == "waiting" for m in simulator.sent_with(source_id)) and time.monotonic() < deadline:
        time.sleep(0.02)
    body = [tencent_receipt(m) for m in simulator.sent_with(source_id)]
    event = api_event("POST", "/v1/carrier/tencent/receipts", body=body, query={"token": CALLBACK_TOKEN})
    assert push(event, lanes.context)["statusCode"] == 200


def watch(lanes) -> dict:
    import carrier_watch

    carrier_route_cache.forget()  # senders see the watch's change within seconds; here at once
    return carrier_watch.handler(schedule_event(), lanes.context)


def state(carrier: str) -> dict:
    answer = call(IT_OPS, "GET", "/v1/staff/carriers")
    return next(c for c in answer.body["carriers"] if c["carrier"] == carrier)


def test_a_failing_carrier_is_switched_off_and_back_after_its_probation(lanes, carrier_simulator, tencent_simulator):
    standby = call(IT_OPS, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 100, "tencent": 0}})
    assert standby.status == 200, standby.body
    template = publicity_template(lanes)
    carrier_simulator.set_faults(fail_rate=1.0)  # Alibaba answers 500 to every request
    first = publicity(template, "send#switch-1", 0, 200)
    lanes.run()
    assert sent_by(tencent_simulator, "send#switch-1") == set(first)  # what Alibaba refused went on
    assert sent_by(carrier_simulator, "send#switch-1") == set()

    assert watch(lanes)["taken_out"] == ["alibaba"]
    out = state("alibaba")
    assert out["state"]["state"] == "out" and out["state"]["reason"].startswith("错误率 100%")
    assert out["health"]["error_rate"] == 1.0

    # Alibaba works again, but is out for its probation: the next send goes through Tencent alone
    # (had Alibaba been asked, it would have taken it).
    carrier_simulator.set_faults()
    lanes.clock.advance(minutes=2)
    second = publicity(template, "send#switch-2", 1000, 100)
    lanes.run()
    assert sent_by(tencent_simulator, "send#switch-2") == set(second)
    assert carrier_simulator.sent == []
    for source_id in ("send#switch-1", "send#switch-2"):  # Tencent delivered them: it stays healthy
        tencent_receipts(lanes, tencent_simulator, source_id)

    # Probation over, nothing bad in the last 15 minutes: back, and the lane is its again.
    lanes.clock.set(datetime.fromisoformat(out["state"]["until"]) + timedelta(seconds=1))
    assert watch(lanes) == {"taken_out": [], "returned": ["alibaba"], "unhealthy": []}
    third = publicity(template, "send#switch-3", 2000, 200)
    lanes.run()
    by_alibaba, by_tencent = sent_by(carrier_simulator, "send#switch-3"), sent_by(tencent_simulator, "send#switch-3")
    assert (by_alibaba, by_tencent) == (set(third), set())

    # The daily statistics give each carrier its part.
    day = MORNING.date().isoformat()
    report = call(REVIEWER, "GET", "/v1/staff/reports/daily", query={"from": day, "to": day}).body
    carriers = {c["carrier"]: c for c in report["carriers"]}
    assert carriers["alibaba"]["sent"] == len(by_alibaba)
    assert carriers["tencent"]["sent"] == len(first) + len(second) + len(by_tencent)
    assert carriers["tencent"]["cost_yuan"] == round(carriers["tencent"]["parts"] * 4.5 / 100, 2)
    assert json.dumps(report, ensure_ascii=False).count("13700000001") == 0
