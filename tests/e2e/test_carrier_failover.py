"""Failover through the local platform: a publicity send of 2,000 recipients is going out
through Alibaba Cloud SMS (the first carrier) when the Alibaba simulator starts failing (its
fault endpoint: every request answered 500). The rest of the send goes through the Tencent
simulator, every recipient reached exactly once across the two; a hang-up answer queued during
the switch reaches a carrier within seconds.

With moto unpatched (``PLATFORM_MOTO_PATCHES=off``) the send is of 120 recipients and Alibaba
fails once it has taken its first batch of 100, the other 20 going through Tencent: unpatched, a
bulk batch among a few thousand messages outlasts the dispatch function's timeout
(infra/patches/transactions.py, tests/e2e/test_lanes.py), and a second full batch failing over
can too while other tests load the machine.

Both templates are written, approved and filed with both carriers through the staff API, as
staff make them; the messages are queued with ``sms_platform.sending.outbox.enqueue`` against the
platform's own tables and queues, as the fan-out and the hang-up webhook queue them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.browser.conftest import StaffApi
from tests.e2e import lanes_support
from tests.e2e.lanes_support import HANGUP_TEXT, SIGN_NAME

pytestmark = [pytest.mark.e2e]

RECIPIENTS = 2_000
FAIL_AFTER = 500  # Alibaba starts failing once it has taken this many
RECIPIENTS_UNPATCHED, FAIL_AFTER_UNPATCHED = 120, 100  # a batch through Alibaba, a small one through Tencent
HANGUP_WITHIN_SECONDS = 10.0
DRAIN_TIMEOUT = 240.0
PUBLICITY = "医保电子凭证可在手机上激活使用，看病购药更方便。拒收请回复R"


def wait_for(what: str, check: Callable[[], Any], timeout: float, pause: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(pause)
    raise AssertionError(f"timed out waiting for {what}: {check.__doc__ or ''}")


def sent(url: str, out_id: str | None = None) -> list[dict[str, Any]]:
    found = requests.get(f"{url.rstrip('/')}/_simulator/sent", params={"full": "1"}, timeout=60).json()
    # Alibaba's OutId, Tencent's SessionContext: the platform's reference of the messages.
    return [m for m in found if out_id is None or m.get("out_id", m.get("session_context")) == out_id]


def count(url: str) -> int:
    return requests.get(f"{url.rstrip('/')}/_simulator/health", timeout=10).json()["sent"]


def filed_with_both(api: StaffApi, author: dict[str, Any], reviewer: dict[str, Any], draft: dict) -> dict[str, Any]:
    """An active template whose version both carriers approved (the filing poller's rounds run
    until the slower one has)."""
    template_id = api.active_template(author, reviewer, draft)["template_id"]

    def both() -> dict[str, Any] | None:
        api.poll_filings()
        template = api.call("GET", f"/templates/{template_id}", author["token"])
        version = next(v for v in template["versions"] if v["version"] == 1)
        states = {name: f["state"] for name, f in version["carrier_filings"].items()}
        return version if states == {"alibaba": "approved", "tencent": "approved"} else None

    return wait_for("both carriers' approval", both, 30, pause=1)


def enqueue(kind: str, source_id: str, office: str, version: dict[str, Any], numbers: list[str]) -> int:
    from sms_platform.sending import outbox

    result = outbox.enqueue(
        kind, source_id, office, SIGN_NAME, template_code=version["carrier_code"], template_id=version["template_id"],
        template_version=1, parts=1, recipients=[(number, None) for number in numbers],
    )  # fmt: skip
    return result.queued


def test_a_publicity_send_completes_through_tencent_when_alibaba_fails_and_a_hangup_still_goes_out(
    start_platform: Callable[..., Any],
) -> None:
    platform = start_platform({"PLATFORM_CLOCK": lanes_support.beijing_morning()})
    alibaba, tencent = platform.carrier, platform.ready["tencent"]
    patched = "transactions" in platform.log_events("moto_started")[0]["patches"]
    recipients, fail_after = (RECIPIENTS, FAIL_AFTER) if patched else (RECIPIENTS_UNPATCHED, FAIL_AFTER_UNPATCHED)
    api = StaffApi(platform)
    city = api.account("e2e-fo-city-", "city", ["city_operator"], "周发送")
    hotline = api.account("e2e-fo-12333-", "hotline", ["hotline_manager"], "刘热线")
    reviewer = api.account("e2e-fo-rev-", "city", ["city_reviewer"], "郑审核")
    today = api.platform_now().date().isoformat()
    common = {"variables": [], "valid_from": today, "valid_until": "2030-12-31", "remark": "社保业务短信"}
    publicity = filed_with_both(api, city, reviewer, {
        "name": "电子凭证宣传", "category": "publicity", "office": "city", "text": PUBLICITY, **common,
    })  # fmt: skip
    hangup = filed_with_both(api, hotline, reviewer, {
        "name": "补办社保卡答复", "category": "hangup", "office": "hotline", "text": HANGUP_TEXT, **common,
    })  # fmt: skip

    with platform.functions_environment():
        lanes_support.follow_platform_clock(platform)
        numbers = lanes_support.publicity_numbers(recipients)
        assert enqueue("publicity", "send#failover-e2e", "city", publicity, numbers) == recipients

        # Alibaba takes the first part of the send, then fails every request.
        wait_for("Alibaba's first messages", lambda: count(alibaba) >= fail_after, 120)
        answer = requests.post(f"{alibaba.rstrip('/')}/_simulator/faults", json={"fail_rate": 1.0}, timeout=10)
        assert answer.status_code == 200, answer.text
        taken_by_alibaba = count(alibaba)

        # A hang-up answer queued during the switch reaches a carrier within seconds.
        caller = lanes_support.high_number(7)
        started = time.monotonic()
        assert enqueue("hangup", "call#failover-e2e", "hotline", hangup, [caller]) == 1
        wait_for(
            "the hang-up answer at a carrier",
            lambda: [m for m in sent(tencent, "call#failover-e2e") + sent(alibaba, "call#failover-e2e")],
            HANGUP_WITHIN_SECONDS,
        )
        assert time.monotonic() - started < HANGUP_WITHIN_SECONDS

        # The send completes through Tencent, each recipient exactly once across the two.
        def complete() -> tuple[list[dict], list[dict]] | None:
            by_alibaba, by_tencent = sent(alibaba, "send#failover-e2e"), sent(tencent, "send#failover-e2e")
            complete.__doc__ = f"{len(by_alibaba)} at Alibaba, {len(by_tencent)} at Tencent"
            return (by_alibaba, by_tencent) if len(by_alibaba) + len(by_tencent) >= recipients else None

        by_alibaba, by_tencent = wait_for("the whole send at the carriers", complete, DRAIN_TIMEOUT, pause=2)
        time.sleep(2)  # nothing more arrives
        by_alibaba, by_tencent = sent(alibaba, "send#failover-e2e"), sent(tencent, "send#failover-e2e")

    alibaba_phones = [m["phone"] for m in by_alibaba]
    tencent_phones = [m["phone"] for m in by_tencent]
    assert len(alibaba_phones) == len(set(alibaba_phones)) and len(tencent_phones) == len(set(tencent_phones))
    assert set(alibaba_phones).isdisjoint(tencent_phones), "a number got the publicity through both carriers"
    assert sorted(alibaba_phones + tencent_phones) == sorted(numbers)
    assert len(alibaba_phones) >= fail_after and len(alibaba_phones) <= taken_by_alibaba
    assert len(tencent_phones) >= recipients - taken_by_alibaba > 0
