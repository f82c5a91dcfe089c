"""Fan-out of released sends through the real release, fan-out and dispatch handlers on moto:
a publicity send pauses when the window closes and resumes at 08:00, and progress is visible
while a send runs and adds up. (Parallel chunks, crashes and back-pressure: test_fanout.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sms_platform.foundation import crypto
from sms_platform.foundation import settings as platform_settings
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import message_store
from sms_platform.sending.messages import in_publicity_window, message_id

from tests.contacts_support import mobile
from tests.functional.sends_support import (
    active_template,
    add_people,
    approved_request,
    detail,
    sends,  # noqa: F401
)


def test_publicity_pauses_when_the_window_closes_and_resumes_at_8(sends, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "40")
    platform_settings.reset()  # read the changed environment
    template_id = active_template(sends.clock, category="publicity")
    add_people(160)  # 4 chunks
    sends.clock.set(datetime(2025, 3, 3, 20, 50, tzinfo=BEIJING))
    request_id = approved_request(sends, template_id, values={})
    sends.release()
    url = sends.provisioned.queue_url("FanoutQueue")
    sends.pump.invoke(sends.pump.receive_event(url), url)  # one chunk before 21:00
    sends.pump.advance(15 * 60)  # 21:05: the window has closed
    sends.pump.run_fanout()
    paused = detail(request_id)["progress"]

    sends.pump.run(max_steps=2000)  # time moves on to the next morning, 15 minutes at a time

    assert paused["expanded"] < 160 and paused["paused_until"].startswith("2025-03-04T08:00:00+08:00")
    assert all(not r["batchItemFailures"] for r in sends.pump.fanout_responses)
    sent = Counter(m.phone for m in sends.simulator.sent)
    assert len(sent) == 160 and set(sent.values()) == {1}
    for seq in range(160):
        item = message_store.get(message_id(f"send:{request_id}", crypto.keyed_hash(mobile(seq))))
        assert in_publicity_window(datetime.fromisoformat(item["sending_at"]))
    progress = detail(request_id)["progress"]
    assert progress["paused_until"] is None and progress["sent"] == 160 and progress["expanded"] == 160


def test_progress_is_visible_while_the_send_runs_and_adds_up(sends, monkeypatch):  # noqa: F811
    from sms_platform.sending import optouts

    monkeypatch.setenv("FANOUT_CHUNK_RECIPIENTS", "40")
    platform_settings.reset()  # read the changed environment
    template_id = active_template(sends.clock)
    add_people(100)  # 3 chunks
    optouts.opt_out(mobile(3), "reply", "R", sends.clock.now())  # targeted notices ignore opt-outs
    request_id = approved_request(sends, template_id)
    sends.release()
    url = sends.provisioned.queue_url("FanoutQueue")
    sends.pump.invoke(sends.pump.receive_event(url), url)
    midway = detail(request_id)["progress"]
    sends.pump.run()
    final = detail(request_id)["progress"]

    assert midway["chunks_done"] == 1 < midway["chunks"]
    assert 0 < midway["expanded"] < 100 and midway["waiting"] == midway["expanded"] and midway["sent"] == 0
    assert final["expanded"] == 100 and final["sent"] == 100 and final["waiting"] == 0
    assert final["expanded"] == final["duplicates"] + sum(final["states"].values())
    assert final["parts_used"] == 100
    assert sends.clock.now() - datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING) < timedelta(hours=1)
