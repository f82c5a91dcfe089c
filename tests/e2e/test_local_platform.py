"""The local platform started as ``make run`` starts it, driven over HTTP like its users drive it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_platform")]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def test_the_openapi_document_answers_within_a_minute_of_start(local_platform):
    answer = requests.get(f"{local_platform.api}/v1/openapi.json", timeout=30)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert "/v1/staff/session" in document["paths"]
    assert time.monotonic() - local_platform.started_at < 60


def test_an_unknown_route_gets_the_gateways_json_404(local_platform):
    answer = requests.get(f"{local_platform.api}/v1/no-such-thing", timeout=10)

    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": "没有这个接口"}}


def test_a_staff_route_without_a_token_is_refused_before_the_api_runs(local_platform):
    answer = requests.get(f"{local_platform.api}/v1/staff/me", timeout=10)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_token_that_is_not_a_valid_jwt_is_refused_by_the_authorizer(local_platform):
    answer = requests.get(
        f"{local_platform.api}/v1/staff/me", headers={"Authorization": "Bearer not.a.token"}, timeout=30
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_the_seeded_administrator_signs_in_and_reaches_a_staff_route(local_platform):
    sign_in = local_platform.log_events("sign_in")[0]
    answer = requests.post(
        f"{local_platform.api}/v1/staff/session",
        json={"username": sign_in["username"], "password": sign_in["password"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]

    me = requests.get(f"{local_platform.api}/v1/staff/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert me.status_code == 200, me.text
    assert sign_in["username"] in me.text


def test_outside_routes_need_a_known_api_key(local_platform):
    url = f"{local_platform.api}/v1/subscriptions/products"

    missing = requests.get(url, timeout=10)
    wrong = requests.get(url, headers={"X-Api-Key": "not-a-key-of-ours"}, timeout=10)
    known = requests.get(url, headers={"X-Api-Key": "local-service-channel-api-key-0001"}, timeout=30)

    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert missing.json()["error"]["code"] == "invalid_api_key"
    assert known.status_code == 200, known.text
    assert "products" in known.json()


def test_a_callback_token_from_the_environment_is_honoured_and_never_printed(local_platform):
    token = local_platform.supplied["CARRIER_CALLBACK_TOKEN"]
    url = f"{local_platform.api}/v1/carrier/receipts"

    refused = requests.post(f"{url}?token=local-callback-token", json=[], timeout=30)
    answer = requests.post(f"{url}?token={token}", json=[], timeout=30)

    assert refused.status_code == 401
    assert answer.status_code == 200
    assert answer.json() == {"code": 0, "msg": "成功"}

    def receipts_logged() -> bool:
        lines = [line for line in local_platform.log_events("request") if line["path"] == "/v1/carrier/receipts"]
        return {line["status"] for line in lines} >= {200, 401}

    wait_for("both requests' log lines", receipts_logged)
    assert not any(token in line for line in local_platform.lines)
    assert "CARRIER_CALLBACK_TOKEN" not in local_platform.log_events("development_defaults")[0]


def test_a_message_on_the_high_lane_is_sent_and_delivered_and_ctrl_c_leaves_nothing(start_platform):
    from sms_platform.foundation import crypto
    from sms_platform.sending import message_store, outbox
    from sms_platform.sending.messages import message_id

    platform = start_platform()
    phone, source = "13800001234", "call-e2e-0001"
    with platform.functions_environment():
        queued = outbox.enqueue(
            "hangup",
            source,
            "city",
            "威海社保",
            template_code="SMS_900001",
            template_id="faq-1",
            template_version=1,
            parts=1,
            recipients=[(phone, None)],
            shared_params={"answer": "请携带身份证到服务大厅办理"},
        )
        assert queued.queued == 1
        mid = message_id(source, crypto.keyed_hash(phone))

        def sent() -> list[dict[str, Any]]:
            answer = requests.get(f"{platform.carrier}/_simulator/sent", timeout=5).json()
            return [m for m in answer if m["out_id"] == source]

        accepted = wait_for("the simulator to accept the message", sent)
        assert [m["phone"] for m in accepted] == ["138****1234"]

        def delivered() -> dict[str, Any] | None:
            item = message_store.get(mid)
            return item if item and item["state"] == "delivered" else None

        record = wait_for("the receipt to be recorded", delivered)
        assert record["biz_id"] == accepted[0]["biz_id"]
        assert phone not in str(record)

    code, leftovers = platform.stop()

    assert code == 0
    assert leftovers == [], "processes of the platform still running after Ctrl-C"
    assert platform.log_events("stopped")
