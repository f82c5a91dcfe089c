"""Shared set-up for the recipients' tests: a released send whose messages the carrier
simulator took and whose receipts say which failed and why, and the export worker run the way
its queue's event source mapping runs it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sms_platform.audit.search import AuditQuery, search

from tests.contacts_support import mobile
from tests.functional.dispatch_support import push, receipt_for, receipts_event, sqs_event
from tests.functional.sends_support import WENDENG, active_template, add_people, approved_request


def released_send(world: Any, people: int, failures: dict[int, str], *, author: Any = WENDENG, **kwargs: Any) -> str:
    """A targeted notice to ``people`` persons of Wendeng (``person(0..)``), sent, with a receipt
    for each: failed with the given code for the numbers ``failures`` names, delivered for the rest."""
    template_id = active_template(world.clock)
    add_people(people)
    request_id = approved_request(world, template_id, author=author, **kwargs)
    world.release()
    world.pump.run()
    deliver(world, failures)
    return request_id


def deliver(world: Any, failures: dict[int, str]) -> None:
    """Receipts for every message the simulator took that has none yet."""
    failed = {mobile(seq): code for seq, code in failures.items()}
    done = world.__dict__.setdefault("_receipted", set())
    receipts = [
        receipt_for(m, success=m.phone not in failed, err_code=failed.get(m.phone, "DELIVERED"))
        for m in world.simulator.sent
        if m.biz_id not in done
    ]
    done.update(m.biz_id for m in world.simulator.sent)
    if receipts:
        answer = push(receipts_event(receipts), world.pump.context)
        assert answer["statusCode"] == 200, answer


def run_exports(provisioned: Any, context: Any) -> list[dict[str, Any]]:
    """Every queued export job handed to the export worker until the queue is empty."""
    import export_worker
    from sms_platform import aws

    url, answers = provisioned.queue_url("ExportQueue"), []
    while (event := sqs_event(url))["Records"]:
        answer = export_worker.handler(event, context)
        answers.append(answer)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        if failed:
            break
    return answers


def audited(account_id: str, now: Any, action: str) -> list[dict[str, Any]]:
    """The trail's entries of one staff member's ``action`` in the hour around ``now``."""
    page = search(AuditQuery(start=now - timedelta(hours=1), end=now + timedelta(hours=1), operator=account_id,
                             limit=200))  # fmt: skip
    return [entry for entry in page.entries if entry["action"] == action]
