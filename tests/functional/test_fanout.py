"""Fan-out of released sends through the real release, fan-out and dispatch handlers on moto:
parallel chunks, crashes and redelivered chunk jobs, back-pressure, the publicity window, and
progress counts that add up."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sms_platform import crypto, message_store
from sms_platform.clock import BEIJING
from sms_platform.messages import in_publicity_window, message_id
from sms_platform.staff import Office

from tests.contacts_support import mobile
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
    from sms_platform import audit, fanout, outbox

    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "60")
    template_id = active_template(sends.clock, office=Office.city)
    add_people(150, district="wendeng")
    add_people(150, district="rushan", start=700)
    add_people(100, district="huancui", start=1400)
    request_id = approved_request(sends, template_id, author=CITY_OPERATOR, audience={"kind": "person"})
    sends.release()
    jobs = [m.body for m in sends.pump.fanout_pending()]

    # One chunk crashes after recording its messages but before queuing them; another after
    # queuing them but before saving its cursor. SQS redelivers both jobs.
    real_send, real_audit = outbox.send_batches, audit.record_send
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
    monkeypatch.setattr(audit, "record_send", audit_then_maybe_crash)
    sends.pump.run()
    # A copy of a chunk job delivered again after its chunk is done queues nothing more.
    import fanout as worker

    again = worker.handler(
        sqs_event([jobs[0]], queue_arn="arn:aws:sqs:us-east-1:123456789012:fanout"), sends.pump.context
    )
    sends.pump.run()

    assert len(jobs) == 7  # 400 recipients in chunks of about 60
    assert crashes == {"send": 1, "audit": 1}
    assert sum(len(r["batchItemFailures"]) for r in sends.pump.fanout_responses) == 2  # the two crashes only
    assert again == {"batchItemFailures": []}
    sent = Counter(m.phone for m in sends.simulator.sent if m.out_id == f"send:{request_id}")
    assert len(sent) == 400 and set(sent.values()) == {1}
    assert sends.simulator.duplicates() == []
    progress = detail(request_id)["progress"]
    assert progress["expanded"] == 400 and progress["sent"] == 400 and progress["waiting"] == 0
    assert progress["chunks"] == progress["chunks_done"] == 7
    # The redone pages met messages already queued (queued again) or already sent (duplicates);
    redone = fanout.fanout_progress(request_id)
    assert redone["queued"] + redone["duplicates"] == 400  # counted once, with the cursor
    assert detail(request_id)["request"]["status"] == "fanned_out"


def test_back_pressure_keeps_the_lane_short_and_loses_nothing(sends, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "100")
    monkeypatch.setenv("FANOUT_MAX_LANE_DEPTH", "2")
    template_id = active_template(sends.clock)
    add_people(300)
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
    assert len(sent) == 300 and set(sent.values()) == {1}
    assert progress["sent"] == 300 and progress["duplicates"] == 0 and progress["chunks_done"] == progress["chunks"]


def test_publicity_pauses_when_the_window_closes_and_resumes_at_8(sends, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "100")
    template_id = active_template(sends.clock, category="publicity")
    add_people(400)
    sends.clock.set(datetime(2025, 3, 3, 20, 50, tzinfo=BEIJING))
    request_id = approved_request(sends, template_id, values={})
    sends.release()
    url = sends.provisioned.queue_url("FanoutQueue")
    sends.pump.invoke(sends.pump.receive_event(url), url)  # one chunk before 21:00
    sends.pump.advance(15 * 60)  # 21:05: the window has closed
    sends.pump.run_fanout()
    paused = detail(request_id)["progress"]

    sends.pump.run(max_steps=2000)  # time moves on to the next morning, 15 minutes at a time

    assert paused["expanded"] < 400 and paused["paused_until"].startswith("2025-03-04T08:00:00+08:00")
    assert all(not r["batchItemFailures"] for r in sends.pump.fanout_responses)
    sent = Counter(m.phone for m in sends.simulator.sent)
    assert len(sent) == 400 and set(sent.values()) == {1}
    for seq in range(400):
        item = message_store.get(message_id(f"send:{request_id}", crypto.keyed_hash(mobile(seq))))
        assert in_publicity_window(datetime.fromisoformat(item["sending_at"]))
    progress = detail(request_id)["progress"]
    assert progress["paused_until"] is None and progress["sent"] == 400 and progress["expanded"] == 400


def test_progress_is_visible_while_the_send_runs_and_adds_up(sends, monkeypatch):  # noqa: F811
    from sms_platform import optouts

    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "100")
    template_id = active_template(sends.clock)
    add_people(250)
    optouts.opt_out(mobile(3), "reply", "R", sends.clock.now())  # targeted notices ignore opt-outs
    request_id = approved_request(sends, template_id)
    sends.release()
    url = sends.provisioned.queue_url("FanoutQueue")
    sends.pump.invoke(sends.pump.receive_event(url), url)
    midway = detail(request_id)["progress"]
    sends.pump.run()
    final = detail(request_id)["progress"]

    assert midway["chunks_done"] == 1 < midway["chunks"]
    assert 0 < midway["expanded"] < 250 and midway["waiting"] == midway["expanded"] and midway["sent"] == 0
    assert final["expanded"] == 250 and final["sent"] == 250 and final["waiting"] == 0
    assert final["expanded"] == final["duplicates"] + sum(final["states"].values())
    assert final["parts_used"] == 250
    assert sends.clock.now() - datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING) < timedelta(hours=1)
