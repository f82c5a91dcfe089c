"""Operations through the staff API and the command: dead-letter inspection and redrive, the
per-send and daily delivery reports, and the 12333 desk's lookup of a caller's messages."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import dlq, outbox

from tests.contacts_support import mobile
from tests.events import sqs_event
from tests.functional.dispatch_support import push, receipt_for, receipts_event
from tests.functional.sends_support import (
    AGENT,
    IT_OPS,
    REVIEWER,
    WENDENG,
    active_template,
    add_people,
    approved_request,
    sends,  # noqa: F401
)
from tests.staff_calls import call


def _queue_batch(phone: str, source: str = "event-ops-1") -> None:
    outbox.enqueue("triggered", source, "city", "威海市社会保险事业中心", template_code="SMS_1", template_id="t1",
                   template_version=1, parts=1, recipients=[(phone, None)])  # fmt: skip


def audited(action: str, clock) -> list[dict]:
    """The audit entries of ``action`` on the clock's Beijing day, as an auditor's export shows them."""
    from sms_platform.audit import archive

    lines, _, broken = archive.archive_lines(clock.now().astimezone(BEIJING).date(), clock.now())
    assert broken is None
    return [entry for entry in map(json.loads, lines[1:]) if entry["action"] == action]


def printed_answer(capsys) -> dict:
    """The command's answer: its one JSON line (log lines may share standard output)."""
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"lane"')]
    assert len(lines) == 1
    return json.loads(lines[0])


def test_dead_letters_are_listed_without_numbers_and_redriven_to_their_lane(sends, capsys):  # noqa: F811
    sends.simulator.set_faults(fail_rate=1.0)
    _queue_batch("13700000001")
    sends.pump.run(max_seconds=86400)  # five failed receives: the batch goes to the dead-letter queue
    assert len(sends.pump.dead_letters("HighQueue")) == 1

    depths = call(IT_OPS, "GET", "/v1/staff/dead-letters")
    listed = call(IT_OPS, "GET", "/v1/staff/dead-letters/high")
    refused = call(WENDENG, "GET", "/v1/staff/dead-letters/high")
    assert dlq.main(["list", "--lane", "high"]) == 0
    printed = printed_answer(capsys)

    assert depths.status == 200 and depths.body["depths"]["high"] == 1 and depths.body["depths"]["bulk"] == 0
    assert listed.body["messages"][0]["source_id"] == "event-ops-1"
    assert listed.body["messages"][0]["recipients"] == 1 and listed.body["messages"][0]["receive_count"] >= 5
    assert "13700000001" not in json.dumps(listed.body) and "phone_token" not in json.dumps(listed.body)
    assert printed["depth"] == 1 and printed["messages"][0]["batch_id"] == listed.body["messages"][0]["batch_id"]
    assert refused.status == 403

    sends.simulator.set_faults(fail_rate=0.0)
    redriven = call(IT_OPS, "POST", "/v1/staff/dead-letters/high/redrive", {"max_messages": 10})
    sends.pump.run()

    assert redriven.status == 200 and redriven.body == {"lane": "high", "redriven": 1}
    assert sends.pump.dead_letters("HighQueue") == []
    assert [m.phone for m in sends.simulator.sent] == ["13700000001"]
    assert call(IT_OPS, "GET", "/v1/staff/dead-letters/nowhere").status == 422
    [entry] = audited("dead_letters.redrive", sends.clock)
    assert (entry["target"], entry["actor"]["account_id"], entry["office"]) == ("queue:high", "ops1", "it")
    assert (entry["before"], entry["after"]) == ({"depth": 1}, {"redriven": 1})


def test_redrive_by_command(sends, capsys):  # noqa: F811
    sends.simulator.set_faults(fail_rate=1.0)
    _queue_batch("13700000002", "event-ops-2")
    sends.pump.run(max_seconds=86400)
    sends.simulator.set_faults(fail_rate=0.0)

    assert dlq.main(["redrive", "--lane", "high", "--max", "5"]) == 0
    sends.pump.run()

    assert printed_answer(capsys) == {"lane": "high", "redriven": 1}
    assert [m.phone for m in sends.simulator.sent] == ["13700000002"]


def _fail_work_job_five_times(world, body: str) -> None:
    """Queue a contact-import job on the work queue and let its worker fail it on every receive,
    as Lambda's event source mapping would, until SQS moves it to the dead-letter queue."""
    import imports as worker  # the handler module of ImportWorkerFunction
    from sms_platform import aws

    sqs, url = aws.client("sqs"), world.provisioned.queue_url("WorkQueue")
    sqs.send_message(QueueUrl=url, MessageBody=body)
    for _ in range(6):  # the sixth receive finds it gone to the dead-letter queue
        for message in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []):
            # A batch whose every record failed makes the worker raise: Lambda leaves it all queued.
            with pytest.raises(BatchProcessingError):
                worker.handler(sqs_event([message["Body"]]), world.pump.context)


def test_a_failed_contact_import_job_is_listed_and_redriven_to_the_work_queue(sends, capsys):  # noqa: F811
    from sms_platform import aws

    job = {"kind": "contacts.import.plan", "import_id": "0" * 32}  # no such import: the job fails
    _fail_work_job_five_times(sends, json.dumps(job))

    depths = call(IT_OPS, "GET", "/v1/staff/dead-letters")
    listed = call(IT_OPS, "GET", "/v1/staff/dead-letters/work")
    assert dlq.main(["list", "--lane", "work"]) == 0
    printed = printed_answer(capsys)
    redriven = call(IT_OPS, "POST", "/v1/staff/dead-letters/work/redrive", {"max_messages": 10})
    sqs = aws.client("sqs")
    back = sqs.receive_message(QueueUrl=sends.provisioned.queue_url("WorkQueue"))["Messages"]

    assert depths.status == 200 and depths.body["depths"]["work"] == 1
    assert listed.status == 200 and listed.body["depth"] == 1
    assert {k: listed.body["messages"][0][k] for k in ("kind", "import_id")} == job
    assert listed.body["messages"][0]["receive_count"] >= 5
    assert printed["lane"] == "work" and printed["messages"][0]["import_id"] == job["import_id"]
    assert redriven.status == 200 and redriven.body == {"lane": "work", "redriven": 1}
    assert [json.loads(m["Body"]) for m in back] == [job]
    assert call(IT_OPS, "GET", "/v1/staff/dead-letters").body["depths"]["work"] == 0
    assert call(WENDENG, "POST", "/v1/staff/dead-letters/work/redrive", {"max_messages": 1}).status == 403


def test_delivery_reports_per_send_and_per_day(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(6)
    request_id = approved_request(sends, template_id)
    sends.release()
    sends.pump.run()
    ok = {m.phone: m.phone != mobile(0) for m in sends.simulator.sent}
    receipts = [receipt_for(m, success=ok[m.phone], err_code="DELIVERED" if ok[m.phone] else "MK:0005")
                for m in sends.simulator.sent]  # fmt: skip
    answer = push(receipts_event(receipts), sends.pump.context)
    assert answer["statusCode"] == 200

    report = call(REVIEWER, "GET", f"/v1/staff/send-requests/{request_id}/report")
    day = sends.clock.now().astimezone(BEIJING).date().isoformat()
    daily = call(REVIEWER, "GET", "/v1/staff/delivery-reports/daily", query={"day": day})
    other_day = call(REVIEWER, "GET", "/v1/staff/delivery-reports/daily", query={"day": "2025-03-01"})

    assert report.status == 200
    assert report.body["states"]["delivered"] == 5 and report.body["states"]["failed"] == 1
    assert report.body["delivery_rate"] == round(5 / 6, 4)
    assert report.body["failure_reasons"] == {"MK:0005": 1}
    assert report.body["failure_categories"] == {"其他": 1}  # a code no category names
    assert report.body["parts_used"] == 6
    assert daily.status == 200
    assert daily.body["offices"] == [
        {
            "office": "wendeng",
            "sends": 1,
            "messages": 6,
            "parts_used": 6,
            "states": {**{s: 0 for s in report.body["states"]}, "delivered": 5, "failed": 1},
            "failure_reasons": {"MK:0005": 1},
            "failure_categories": {"其他": 1},
            "delivery_rate": round(5 / 6, 4),
        }
    ]
    assert other_day.body["offices"] == []
    assert call(AGENT, "GET", "/v1/staff/delivery-reports/daily").status == 403


def test_a_12333_agent_looks_up_a_callers_messages_by_number_in_the_body(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(3)
    approved_request(sends, template_id)
    sends.release()
    sends.pump.run()
    sends.clock.advance(minutes=1)  # newer: listed first (same-time messages have no order)
    _queue_batch(mobile(1), "event-ops-3")  # a second message to the same caller, still queued

    found = call(AGENT, "POST", "/v1/staff/message-lookup", {"phone": f"+86 {mobile(1)}"})
    nothing = call(AGENT, "POST", "/v1/staff/message-lookup", {"phone": "13800009999"})
    bad = call(AGENT, "POST", "/v1/staff/message-lookup", {"phone": "12345678901"})
    district = call(WENDENG, "POST", "/v1/staff/message-lookup", {"phone": mobile(1)})

    assert found.status == 200
    assert found.body["phone_masked"] == "139****0001"
    assert [m["state"] for m in found.body["messages"]] == ["queued", "sent"]  # newest first
    assert found.body["messages"][1]["office_name"] == "文登区" and found.body["messages"][1]["state_name"]
    assert mobile(1) not in json.dumps(found.body, ensure_ascii=False)
    assert nothing.body == {"phone_masked": "138****9999", "messages": []}
    assert bad.status == 422 and "12345678901" not in json.dumps(bad.body, ensure_ascii=False)
    assert district.status == 403
    # Each lookup that answered is audited, with the number masked and how many were found.
    lookups = audited("messages.lookup", sends.clock)
    assert sorted((e["target"], e["after"]["messages"]) for e in lookups) == [("phone:138****9999", 0),
                                                                             ("phone:139****0001", 2)]  # fmt: skip
    assert {(e["actor"]["account_id"], e["office"], e["before"]) for e in lookups} == {("agent1", "hotline", None)}
    assert mobile(1) not in json.dumps(lookups, ensure_ascii=False)
