"""The integration guide (``docs/``) cannot drift: every curl and Python example in it runs here
against the local platform, as an integrator would run it, and prints the answer the guide shows
after it (status and every field; ``"<...>"`` values only need to be there).

The platform is set up as the bureau would set it up before an integrator starts (through the
staff API): the templates, a trigger rule for ``pension.paid``, a question-bank entry in the
12333 centre's scope, a subscription item on sale, the business system's key granted its event
type and the channel's key granted its source. The examples get what the guide tells integrators
to export: the base URL, the key and secrets the platform printed, and the values earlier steps
answered (an order's id, the code the subscriber received).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e import guide_examples
from tests.e2e.test_intake_channels import (
    Staff,
    activate,
    business_key_id,
    create_accounts,
    sign_in_admin,
    wait_for,
    write_template,
)

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13800000000"  # the guide's subscriber, insured person and caller
HANGUP_TEXT = "养老金发放日：每月15日前发放到社保卡银行账户。"
PENSION_TEXT = "已发放，请注意查收"
# Insured persons set up by staff: the one whose event the callback receiver hears about, and the
# one at the number a test key's message fails at (空号).
CALLBACK_PERSON, CALLBACK_PHONE = "11010519491231002X", "13700002222"
TEST_KEY_PERSON, EMPTY_NUMBER = "371002199001011237", "13800000001"

# The order the examples run in: each step may use what an earlier one set up or answered.
WALK = (
    "contacts-batch", "contacts-unchanged",  # the insured person's number, which the event below reaches
    "contacts-test-key",  # changes nothing: the event below still reaches the number above
    "event", "event-status", "event-status-unknown", "event-not-granted", "event-invalid", "event-no-key",
    "event-test-key", "event-test-status",
    "hangup", "hangup-awaiting", "hangup-status", "hangup-status-awaiting", "hangup-unknown-entry", "hangup-stale",
    "products", "otp", "order-wrong-otp", "order", "otp-test-key", "order-test-key",
    "payment-wrong-amount", "payment", "payment-bad-signature",
    "lookup", "renewal", "cancel",
    "callback-receiver",
    "alibaba-receipt", "alibaba-reply", "push-wrong-token", "tencent-receipt", "tencent-reply", "alibaba-signature",
)  # fmt: skip
KEY_OF_PAGE = {"business-events.md": "business", "service-channels.md": "channel"}


@dataclass
class Guide:
    platform: Any
    keys: dict[str, str]  # the page's key: business or channel
    test_keys: dict[str, str]  # the page's test key, twinned with its key
    environment: dict[str, str]
    problems: list[str] = field(default_factory=list)

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in requests.get(f"{self.platform.carrier}/_simulator/sent?full=1", timeout=10).json()
                if m["phone"] == phone]  # fmt: skip

    def containing(self, text: str) -> list[dict[str, Any]]:
        return [m for m in self.sent_to(PHONE) if text in m["content"]]


def _set_up(platform: Any) -> dict[str, str]:
    """What the bureau's staff set up before an integrator starts; the ids the examples need."""
    staff = Staff(platform.api)
    sign_in_admin(platform, staff)
    create_accounts(staff)
    ids = {
        "pension": write_template(staff, "operator", category="triggered", office="city", name="养老金发放通知",
                                  text="您${month}的养老金${amount}元已发放，请注意查收。",
                                  variables=[{"name": "month", "type": "text", "max_length": 20},
                                             {"name": "amount", "type": "money", "max_length": 12}]),
        "answer": write_template(staff, "manager", category="hangup", office="hotline", name="养老金发放日",
                                 text=HANGUP_TEXT),
        "otp": write_template(staff, "ops", category="system", office="it", name="订阅验证码",
                              text="您的验证码为${code}，5分钟内有效，请勿告知他人。",
                              variables=[{"name": "code", "type": "code", "max_length": 6}]),
        "subscribed": write_template(staff, "operator", category="subscription", office="city", name="养老金到账提醒",
                                     text="您订阅的养老金到账提醒：${month}养老金${amount}元已发放。",
                                     variables=[{"name": "month", "type": "text", "max_length": 20},
                                                {"name": "amount", "type": "money", "max_length": 12}]),
    }  # fmt: skip
    activate(platform, list(ids.values()))

    staff.ok("ops", "PUT", f"/event-grants/{business_key_id(platform)}/pension.paid")
    staff.ok("ops", "PUT", f"/contact-grants/{_channel_key_id(platform)}/kiosk")

    today = datetime.now(UTC).date()
    rule_id = staff.ok("operator", "POST", "/trigger-rules", {
        "name": "养老金发放通知", "event_type": "pension.paid", "condition": 'data["amount"] > 0',
        "template_id": ids["pension"], "recipients": "subject",
        "variables": {"month": "data.month", "amount": "data.amount"},
        "valid_from": f"{(today - timedelta(days=1)).isoformat()}T00:00:00+08:00",
        "valid_until": f"{(today + timedelta(days=365)).isoformat()}T00:00:00+08:00"})["rule_id"]  # fmt: skip
    staff.ok("operator", "POST", f"/trigger-rules/{rule_id}/submission")
    staff.ok("reviewer", "POST", f"/trigger-rules/{rule_id}/approval")

    faq_id = staff.ok("operator", "POST", "/hotline/entries", {"question": "养老金什么时候发",
                                                                "template_id": ids["answer"]})["faq_id"]  # fmt: skip
    staff.ok("manager", "PUT", f"/hotline/entries/{faq_id}/scope", {"in_scope": True})

    product_id = staff.ok("operator", "POST", "/subscription-items", {
        "name": "养老金到账提醒", "description": "每月养老金发放后短信提醒", "template_id": ids["subscribed"],
        "event_type": "pension.paid", "variables": {"month": "data.month", "amount": "data.amount"},
        "trigger": {"kind": "event"}, "price_fen": 300, "period_months": 12})["product_id"]  # fmt: skip
    staff.ok("operator", "POST", f"/subscription-items/{product_id}/submission")
    staff.ok("reviewer", "POST", f"/subscription-items/{product_id}/approval")
    staff.ok("ops", "PUT", "/subscription-settings", {"otp_template_id": ids["otp"], "reminder_template_id": None})

    stored = staff.ok("operator", "POST", "/contacts/batch", {"contacts": [
        {"kind": "person", "id": CALLBACK_PERSON, "name": "赵六", "district": "huancui",
         "phones": [{"number": CALLBACK_PHONE, "source": "service_hall", "verified": True}]},
        {"kind": "person", "id": TEST_KEY_PERSON, "name": "钱七", "district": "huancui",
         "phones": [{"number": EMPTY_NUMBER, "source": "service_hall", "verified": True}]}]})  # fmt: skip
    assert stored["created"] == 2, stored
    return {"FAQ_ID": faq_id, "PRODUCT_ID": product_id}


def _it_ops() -> Any:
    """IT operations as ``python -m infra.keys`` names them in the audit trail."""
    from sms_platform.staff.context import Office, Role, StaffContext

    return StaffContext(account_id="ops:guide", username="guide", real_name="信息技术科", staff_number="",
                        office=Office.it, roles=frozenset({Role.it_ops}))  # fmt: skip


def _issue_test_key(platform: Any, live: str, name: str) -> str:
    """A test key twinned with the key ``live``, as ``infra.keys issue --kind test`` makes it."""
    import boto3
    from sms_platform.sources import caller_keys

    from infra import keys

    gateway = boto3.client("apigateway", endpoint_url=platform.moto, region_name="us-east-1")
    plans = {plan["name"]: plan["id"] for plan in gateway.get_usage_plans()["items"]}
    plan, usage_plan_id = keys.plan_of(gateway, plans, live)
    key = keys.issue_key(gateway, usage_plan_id, name, kind="test")
    with platform.functions_environment():
        caller_keys.register(_it_ops(), key["id"], kind="test", name=name, twin=live, now=datetime.now(UTC))
    return key["value"]


def _channel_key_id(platform: Any) -> str:
    [channel_key] = [k["id"] for k in platform.log_events("api_keys")[0]["keys"] if k["env"] == "CHANNEL_API_KEY"]
    return channel_key


@pytest.fixture(scope="module")
def guide(local_platform) -> Guide:
    missing = guide_examples.missing_tools()
    assert not missing, f"the guide's shell examples need {', '.join(missing)}: apt-get install -y {' '.join(missing)}"
    defaults = local_platform.log_events("development_defaults")[0]

    def value(name: str) -> str:
        # A value given through the environment is not printed: the test knows it from there.
        return local_platform.supplied.get(name) or defaults[name]

    environment = {
        "SMS_API_BASE": local_platform.api.rstrip("/"),
        "HOTLINE_SECRET": value("HOTLINE_WEBHOOK_SECRET"),
        "PAYMENT_SECRET": value("PAYMENT_WEBHOOK_SECRET"),
        "CARRIER_TOKEN": value("CARRIER_CALLBACK_TOKEN"),
        **_set_up(local_platform),
    }
    keys = {"business": value("BUSINESS_API_KEY"), "channel": value("CHANNEL_API_KEY")}
    test_keys = {
        "business": _issue_test_key(local_platform, business_key_id(local_platform), "pension-system-test"),
        "channel": _issue_test_key(local_platform, _channel_key_id(local_platform), "service-hall-test"),
    }
    return Guide(local_platform, keys, test_keys, environment)


# ---------------------------------------------------------------- what a step leaves for the next


def _otp_codes(guide: Guide) -> list[str]:
    return [m["params"]["code"] for m in guide.sent_to(PHONE) if "code" in (m.get("params") or {})]


def _before(guide: Guide, name: str) -> Callable[[str], None]:
    """What to do once the example has run, given what it printed."""
    if name == "otp":
        codes = len(_otp_codes(guide))

        def received(_: str) -> None:
            # A second code within a minute waits for the same-template limit's next minute.
            found = wait_for("the verification code at the carrier", lambda: len(_otp_codes(guide)) > codes, 100)
            assert found
            guide.environment["OTP_CODE"] = _otp_codes(guide)[-1]

        return received
    if name == "order":

        def ordered(printed: str) -> None:
            body = guide_examples.parse_output(printed).body
            guide.environment.update(SUBSCRIPTION_ID=body["subscription_id"], ORDER_ID=body["order_id"])

        return ordered
    return lambda _: None


def _run(guide: Guide, example: guide_examples.Example, answer: guide_examples.Answer) -> None:
    environment = dict(guide.environment)
    if example.page in KEY_OF_PAGE:
        environment["SMS_API_KEY"] = guide.keys[KEY_OF_PAGE[example.page]]
        environment["SMS_TEST_API_KEY"] = guide.test_keys[KEY_OF_PAGE[example.page]]
    after = _before(guide, example.name)
    where = f"{example.page} {example.name} ({example.language})"
    try:
        printed = guide_examples.run(example, environment)
    except AssertionError as failed:
        guide.problems.append(str(failed))
        return
    found = guide_examples.check(answer, printed)
    if found:
        guide.problems.append(f"{where} answered otherwise than documented: {found}\n{printed[-1500:]}")
        return
    after(printed)


def _set_callback(guide: Guide, url: str) -> str:
    """IT operations give the business systems' key a callback URL; its secret, shown once."""
    from sms_platform.sources import caller_keys

    with guide.platform.functions_environment():
        _, secret = caller_keys.set_callback(_it_ops(), business_key_id(guide.platform), url, now=datetime.now(UTC))
    return secret


def _receive_callback(guide: Guide, example: guide_examples.Example, answer: guide_examples.Answer) -> None:
    """The guide's receiver runs on a port of its own, the key's callback URL names it, and an
    event of that key's makes the platform call it back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = _set_callback(guide, f"http://127.0.0.1:{port}/sms/status")
    receiver = guide_examples.start(example, {**guide.environment, "CALLBACK_PORT": str(port),
                                              "CALLBACK_SECRET": secret})  # fmt: skip
    try:

        def listening() -> bool:
            with socket.socket() as client:
                return client.connect_ex(("127.0.0.1", port)) == 0

        wait_for("the guide's callback receiver to listen", listening)
        event = {"event_id": "pension-2024-06-0100", "event_type": "pension.paid",
                 "occurred_at": "2024-06-03T09:00:00+08:00", "subject": {"kind": "person", "id": CALLBACK_PERSON},
                 "data": {"month": "2024年6月", "amount": 3250.0}}  # fmt: skip
        posted = requests.post(f"{guide.platform.api}/v1/events", json=event, timeout=60,
                               headers={"X-Api-Key": guide.keys["business"]})  # fmt: skip
        assert (posted.status_code, posted.json()["messages"]) == (202, 1), posted.text
        printed, errors = receiver.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        guide.problems.append(f"{example.page} {example.name}: no callback reached the guide's receiver in 90 s")
        return
    finally:
        receiver.kill()
    found = guide_examples.check(answer, printed)
    if found or receiver.returncode != 0:
        guide.problems.append(f"{example.page} {example.name} printed otherwise than documented: {found}\n"
                              f"{printed[-1500:]}{errors[-1500:]}")  # fmt: skip


def _sent_once(guide: Guide, what: str, text: str) -> None:
    """The SMS a step promises reached the phone, and only once for both runs of it."""
    wait_for(what, lambda: guide.containing(text))
    time.sleep(2)
    count = len(guide.containing(text))
    if count != 1:
        guide.problems.append(f"{what}: {count} SMS, the guide promises one")


# ---------------------------------------------------------------- the tests


def test_every_example_has_its_answer_and_runs_in_the_walk():
    examples, answers = guide_examples.read()
    names = {example.name for example in examples}

    assert examples, "no examples found in docs/"
    assert names - set(WALK) == set(), "examples the walk does not run"
    assert set(WALK) - names == set(), "walked, but not in the guide"
    assert names - set(answers) == set(), "examples without a documented answer"
    assert set(answers) - names == set(), "answers without an example"
    assert {example.language for example in examples} <= set(guide_examples.RUNNERS)
    for answer in answers.values():
        if answer.language == "http":
            parsed = guide_examples.parse_output(answer.text)
            assert parsed.status and parsed.body is not None, f"{answer.page} {answer.name}: no status and JSON body"


def test_every_page_is_linked_from_the_index_and_the_index_from_the_readme():
    index = (guide_examples.DOCS / "README.md").read_text(encoding="utf-8")
    pages = [path.name for path in guide_examples.pages() if path.name != "README.md"]

    assert {"hotline-12333.md", "business-events.md", "service-channels.md", "payments.md", "carriers.md"} <= set(pages)
    assert [page for page in pages if f"]({page})" not in index] == []
    assert "docs/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("documented", "actual", "differs"),
    [
        ({"a": "<编号>", "b": 1}, {"a": "x1", "b": 1}, False),
        ({"a": "<编号>"}, {"a": ""}, True),
        ({"t": "<支付截止时间>"}, {"t": "2024-06-03T10:00:00+08:00"}, False),
        ({"t": "<支付截止时间>"}, {"t": "soon"}, True),
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": [1, 2]}, {"a": [1]}, True),
        ({"a": 1}, {"a": True}, True),
        ({"a": None}, {"a": None}, False),
    ],
)
def test_a_documented_answer_matches_values_exactly_and_placeholders_by_presence(documented, actual, differs):
    assert bool(guide_examples.differences(documented, actual)) is differs


@pytest.mark.parametrize(
    ("printed", "status", "body"),
    [
        ('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n\r\n{"a": 1}', 202, {"a": 1}),
        ('201\n{"a": [1]}\n', 201, {"a": [1]}),
        ("HTTP/1.1 200 OK\n\n[]", 200, []),
        ("zJDF+Lrzhj/ThnlvIToysFRq6t4=", None, None),
    ],
)
def test_what_an_example_prints_is_read_as_status_and_body(printed, status, body):
    outcome = guide_examples.parse_output(printed)
    assert (outcome.status, outcome.body) == (status, body)


def test_the_guide_examples_run_against_the_local_platform_and_answer_as_documented(guide):
    examples, answers = guide_examples.read()
    by_name: dict[str, list[guide_examples.Example]] = {}
    for example in examples:
        by_name.setdefault(example.name, []).append(example)

    for name in WALK:
        # curl first, then Python: the guide's second form of a step repeats the first.
        for example in sorted(by_name[name], key=lambda e: e.language != "bash"):
            if name == "callback-receiver":
                _receive_callback(guide, example, answers[name])
            else:
                _run(guide, example, answers[name])
        if name == "event":
            _sent_once(guide, "the insured person's pension notice", PENSION_TEXT)
        if name == "hangup":
            _sent_once(guide, "the caller's answer", HANGUP_TEXT)

    assert not guide.problems, "\n\n".join(guide.problems)
