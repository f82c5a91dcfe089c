"""Fan-out of released sends through the real release, fan-out and dispatch handlers on moto:
parallel chunks, crashes and redelivered chunk jobs, and back-pressure. The publicity window and
progress while a send runs: test_fanout_progress.py."""

from __future__ import annotations

from collections import Counter

from sms_platform.foundation import settings as platform_settings
from sms_platform.staff.context import Office

from tests.events import sqs_event
from tests.functional.sends_support import (
    CITY_OPERATOR,
    active_template,
    add_people,
    approved_request,
    detail,
    sends,  # noqa: F401
)


def test_a_city_wide_send_expands_in_parallel_chunks_and_survives_crashes_and_redelivery(sends, monkeypatch):  # noqa: F811
    from sms_platform.audit import trail
    from sms_platform.sending import outbox
    from sms_platform.sources import fanout

    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "24")
    platform_settings.reset()  # read the changed environment
    template_id = active_template(sends.clock, office=Office.city)
    add_people(60, district="wendeng")
    add_people(60, district="rushan", start=700)
    add_people(40, district="huancui", start=1400)
    request_id = approved_request(sends, template_id, author=CITY_OPERATOR, audience={"kind": "person"})
    sends.release()
    jobs = [m.body for m in sends.pump.fanout_pending()]

    # One chunk crashes after recording its messages but before queuing them; another after
    # queuing them but before saving its cursor. SQS redelivers both jobs.
    real_send, real_audit = outbox.send_batches, trail.record_send
    crashes = Counter()

    def send_then_maybe_crash(batches, **kwargs):
        if not crashes["send"]:
            crashes["send"] += 1
            raise RuntimeError("worker lost before queuing")
        return real_send(batches, **kwargs)

    def audit_then_maybe_crash(**kwargs):
        if crashes["send"] and not crashes["audit"]:
            crashes["audit"] += 1
            raise RuntimeError("worker lost before saving the cursor")
        return real_audit(**kwargs)

    monkeypatch.setattr(outbox, "send_batches", send_then_maybe_crash)
    monkeypatch.setattr(trail, "record_send", audit_then_maybe_crash)
    sends.pump.run()
    # A copy of a chunk job delivered again after its chunk is done queues nothing more.
    import fanout as worker

    again = worker.handler(
        sqs_event([jobs[0]], queue_arn="arn:aws:sqs:us-east-1:123456789012:fanout"), sends.pump.context
    )
    sends.pump.run()

    assert len(jobs) == 7  # 160 recipients in chunks of about 24
    assert crashes == {"send": 1, "audit": 1}
    assert sum(len(r["batchItemFailures"]) for r in sends.pump.fanout_responses) == 2  # the two crashes only
    assert again == {"batchItemFailures": []}
    sent = Counter(m.phone for m in sends.simulator.sent if m.out_id == f"send:{request_id}")
    assert len(sent) == 160 and set(sent.values()) == {1}
    assert sends.simulator.duplicates() == []
    progress = detail(request_id)["progress"]
    assert progress["expanded"] == 160 and progress["sent"] == 160 and progress["waiting"] == 0
    assert progress["chunks"] == progress["chunks_done"] == 7
    # The redone pages met messages already queued (queued again) or already sent (duplicates);
    redone = fanout.fanout_progress(request_id)
    assert redone["queued"] + redone["duplicates"] == 160  # counted once, with the cursor
    assert detail(request_id)["request"]["status"] == "fanned_out"


def test_back_pressure_keeps_the_lane_short_and_loses_nothing(sends, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "40")
    monkeypatch.setenv("FANOUT_MAX_LANE_DEPTH", "2")
    platform_settings.reset()  # read the changed environment
    template_id = active_template(sends.clock)
    add_people(120)  # 3 chunks of 5 or 6 pages (audience shards), a batch per page
    request_id = approved_request(sends, template_id)
    sends.release()

    sends.pump.run_fanout()
    held_back = len(sends.pump.fanout_pending())
    depth_then = len(sends.pump.pending("NormalQueue"))
    sends.pump.run()

    assert depth_then <= 3 and held_back > 0  # jobs wait while the lane is full
    assert max(sends.pump.lane_depths) <= 3
    assert all(not r["batchItemFailures"] for r in sends.pump.fanout_responses)  # waiting is never a failure
    sent = Counter(m.phone for m in sends.simulator.sent)
    progress = detail(request_id)["progress"]
    assert len(sent) == 120 and set(sent.values()) == {1}
    assert progress["sent"] == 120 and progress["duplicates"] == 0 and progress["chunks_done"] == progress["chunks"]
